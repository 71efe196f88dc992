"""`openclaw config get|set|unset|file|validate|rollback`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import click

from openclaw.cli.output import json_option, print_json, short_path
from openclaw.config.changes import restart_paths
from openclaw.config.history import load_last_good, rollback
from openclaw.config.keypath import get_path, parse_path, set_path, unset_path
from openclaw.config.model import Issue
from openclaw.config.redact import redact_at
from openclaw.config.store import config_hash, parse_value, read_config, update_config
from openclaw.config.view import Config
from openclaw.errors import ConfigError, OpenClawError
from openclaw.profiles.paths import InstancePaths, resolve_paths


@click.group(help="Read and change this profile's openclaw.json (atomic, locked, backed up).")
def config() -> None:
    pass


@config.command("file", help="Print the resolved config path.")
@json_option
def file_cmd(as_json: bool) -> None:
    path = resolve_paths(os.environ).config_path
    if as_json:
        print_json({"path": str(path)})
    else:
        click.echo(str(path))


@config.command("get", help="Print a value (secrets redacted); objects print as JSON.")
@click.argument("key")
@json_option
def get_cmd(key: str, as_json: bool) -> None:
    snap = read_config(resolve_paths(os.environ).config_path, os.environ, validate=False)
    parts = parse_path(key)
    try:
        value = get_path(snap.data, parts)
    except KeyError:
        raise OpenClawError(f"Config path not found: {key}") from None
    value = redact_at(parts, value)
    if as_json or isinstance(value, (dict, list)):
        print_json(value)
    elif value is None:
        click.echo("null")
    elif isinstance(value, bool):
        click.echo("true" if value else "false")
    else:
        click.echo(str(value))


def _apply_hint(changed: list[str], data: dict[str, Any]) -> str:
    reload_off = ((data.get("gateway") or {}).get("reload") or {}).get("mode") == "off"
    if restart_paths(changed):
        return "Restart the gateway to apply." if reload_off else \
            "A running gateway restarts itself in-process to apply this."
    return "Restart the gateway to apply." if reload_off else "Change will apply without restarting the gateway."


def _report(path: Any, changed: list[str], data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json({"ok": True, "path": str(path), "changed": changed})
    elif changed:
        click.echo(f"Updated {short_path(path)}")
        click.echo(_apply_hint(changed, data))
    else:
        click.echo("No change")


def _isolation(paths: InstancePaths) -> Callable[[Config], list[Issue]]:
    """Config paths may not expose or overwrite any instance's state dir (loaded when writing)."""
    from openclaw.ports.instances import isolation_check

    return isolation_check(paths, os.environ)


@config.command("set", help="Set a value: JSON5 if it parses, else a string. Validated before writing.")
@click.argument("key")
@click.argument("value")
@click.option("--strict-json", is_flag=True, help="The value must be valid JSON.")
@json_option
def set_cmd(key: str, value: str, strict_json: bool, as_json: bool) -> None:
    parts = parse_path(key)
    parsed = parse_value(value, strict_json)
    paths = resolve_paths(os.environ)
    path = paths.config_path
    update = update_config(path, lambda data: set_path(data, parts, parsed), os.environ, check=_isolation(paths))
    _report(path, update.changed, update.after, as_json)


@config.command("unset", help="Remove a key. A missing key is an error and nothing is written.")
@click.argument("key")
@json_option
def unset_cmd(key: str, as_json: bool) -> None:
    parts = parse_path(key)
    paths = resolve_paths(os.environ)
    path = paths.config_path

    def mutate(data: dict[str, Any]) -> None:
        if not unset_path(data, parts):
            raise OpenClawError(f"Config path not found: {key}")

    update = update_config(path, mutate, os.environ, check=_isolation(paths))
    _report(path, update.changed, update.after, as_json)


@config.command("validate", help="Check the config against the schema; exit 78 when invalid.")
@json_option
def validate_cmd(as_json: bool) -> None:
    from openclaw.config.validate import unknown_sections

    paths = resolve_paths(os.environ)
    snap = read_config(paths.config_path, os.environ)
    if snap.valid and snap.exists:
        snap.issues += _isolation(paths)(snap.view())
    ignored = unknown_sections(snap.data) if snap.data else []
    if as_json:
        print_json({"ok": snap.exists and snap.valid, "path": str(snap.path), "exists": snap.exists,
                    "valid": snap.valid, "issues": [i.as_dict() for i in snap.issues], "ignoredSections": ignored})
    if not snap.exists:
        raise OpenClawError(f"No config at {snap.path}; create one with `{paths.cli} setup`")
    if snap.issues:
        if as_json:
            raise SystemExit(ConfigError.exit_code)
        lines = [f"Invalid config at {snap.path}:"] + [f"  - {i}" for i in snap.issues]
        raise ConfigError("\n".join(lines))
    if not as_json:
        click.echo(f"Config valid: {short_path(snap.path)}")
        if ignored:
            click.echo(f"Kept as-is (not used by this gateway): {', '.join(ignored)}")


@config.command("rollback", help="Restore the config the gateway last started with (the last-known-good, "
                                  "recorded at every good start); edits applied live since are undone.")
@json_option
def rollback_cmd(as_json: bool) -> None:
    paths = resolve_paths(os.environ)
    good = load_last_good(paths.history_dir)
    if good is None:
        raise OpenClawError(
            f"No last-known-good config recorded for profile {paths.name} yet; one is recorded every time "
            "the gateway starts with a valid config"
        )
    current = read_config(paths.config_path, os.environ, validate=False)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(good.recorded_at))
    unchanged = current.raw_text is not None and config_hash(current.raw_text) == good.hash
    changed = [] if unchanged else _undone(current.data, good.raw_text)
    if not unchanged:
        rollback(paths.history_dir, paths.config_path)
    if as_json:
        print_json({"ok": True, "path": str(paths.config_path), "restored": not unchanged,
                    "recordedAt": good.recorded_at, "hash": good.hash, "changedPaths": changed})
    elif unchanged:
        click.echo(f"Nothing to roll back: the config already matches the one the gateway last started with "
                   f"(the last-known-good, recorded {when})")
    else:
        undone = f"; changed back: {', '.join(changed[:8])}{' ...' if len(changed) > 8 else ''}" if changed else ""
        click.echo(f"Restored the config the gateway last started with (the last-known-good, recorded {when}) "
                   f"to {short_path(paths.config_path)}{undone}")
        click.echo(f"The replaced file is kept as {short_path(paths.config_path)}.bak")


def _undone(current: Any, good_text: str) -> list[str]:
    """The key paths a rollback changes (none listed if either side does not parse)."""
    from openclaw.config.keypath import changed_paths
    from openclaw.config.store import parse_json5

    try:
        return changed_paths(current, parse_json5(good_text))
    except ValueError:
        return []
