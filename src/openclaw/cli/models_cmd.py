"""`openclaw models list|status|set`: the models this profile can use, read from its config (no gateway)."""

from __future__ import annotations

import os
from typing import Any

import click

from openclaw.cli.output import json_option, kv, print_json, short_path, table
from openclaw.config.view import Config
from openclaw.profiles.paths import resolve_paths


def _config() -> Config:
    from openclaw.config.store import read_view

    return read_view(resolve_paths(os.environ).config_path, os.environ)


@click.group(help="The models this profile can use: list them, check keys, pick the default.")
def models() -> None:
    pass


@models.command("list", help="Models from the default chain, the aliases and every provider's model list.")
@click.option("--agent", "agent_id", help="This agent's chain (default: the default agent).")
@click.option("--provider", help="Only this provider's models.")
@json_option
def list_cmd(agent_id: str | None, provider: str | None, as_json: bool) -> None:
    from openclaw.models.listing import choices

    rows = [r for r in choices(_config(), os.environ, agent_id) if not provider or r["provider"] == provider]
    if as_json:
        print_json({"count": len(rows), "models": rows})
        return
    if not rows:
        click.echo("No models configured. Pick one: openclaw models set provider/model")
        return
    table(["MODEL", "CONTEXT", "AUTH", "TAGS"],
          [[r["id"] + (f" ({r['alias']})" if r.get("alias") else ""), str(r.get("contextWindow") or "-"),
            "yes" if r["available"] else "missing", ",".join(r.get("tags", [])) or "-"] for r in rows])


def status_data(config: Config) -> dict[str, Any]:
    from openclaw.models.catalog import providers
    from openclaw.models.listing import default_model

    known = providers(config, os.environ)
    return {
        "default": default_model(config, os.environ),
        "aliases": dict(config.agent_defaults.aliases),
        "providers": [{"id": p.id, "api": p.api, "baseUrl": p.base_url, "keyPresent": p.has_key,
                       "keySource": p.key_label,
                       "models": sorted(p.models)} for p in known.values()],
    }


@models.command("status", help="The default model, its fallbacks, and which providers have a key.")
@json_option
def status_cmd(as_json: bool) -> None:
    data = status_data(_config())
    if as_json:
        print_json(data)
        return
    default = data["default"]
    if not default["configured"]:
        click.echo("Default model: none (chats get 'no model configured'). "
                   "Pick one: openclaw models set provider/model")
    else:
        pairs = [("Default model", default["model"]), ("Key", default.get("error") or default.get("keySource"))]
        if default.get("fallbacks"):
            pairs.append(("Fallbacks", ", ".join(default["fallbacks"])))
        kv(pairs)
    table(["PROVIDER", "API", "BASE URL", "KEY"],
          [[p["id"], p["api"], p["baseUrl"], p["keySource"]] for p in data["providers"]])


@models.command("set", help="Make REF (provider/model or an alias) the default model.")
@click.argument("ref")
@json_option
def set_cmd(ref: str, as_json: bool) -> None:
    from openclaw.config.store import update_config
    from openclaw.errors import UsageError
    from openclaw.models.catalog import parse_ref, providers
    from openclaw.models.types import ModelError
    from openclaw.ports.instances import isolation_check
    from openclaw.provisioning.model_step import ModelChoice, write_choice

    paths = resolve_paths(os.environ)
    config = _config()
    try:
        parsed = parse_ref(ref, config, providers(config, os.environ))
    except ModelError as exc:
        raise UsageError(str(exc)) from None
    update = update_config(paths.config_path, lambda data: write_choice(data, ModelChoice(parsed.provider, ref)),
                           os.environ, check=isolation_check(paths, os.environ))
    if as_json:
        print_json({"ok": True, "model": ref, "resolved": str(parsed), "changed": update.changed})
    else:
        click.echo(f"Default model: {ref}" + (f" ({parsed})" if str(parsed) != ref else "") +
                   f" in {short_path(paths.config_path)}" + ("" if update.changed else " (unchanged)"))
