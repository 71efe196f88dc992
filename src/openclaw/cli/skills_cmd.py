"""`openclaw skills list|info|check`: the agents' skills, ready or not and why.

The report comes from the running gateway (`skills.status`): whether a skill is usable depends
on the gateway's own environment (its PATH, its variables) and the config it has loaded, which
the CLI's shell may not share. When no gateway runs (or it predates `skills.status`), and the
target is this profile's own gateway rather than an explicit `--url`, the same report is computed
locally from the config and this shell's environment, as upstream's CLI does.
"""

from __future__ import annotations

import os
from typing import Any

import click

from openclaw.cli.flags import rpc_options
from openclaw.cli.output import json_option, print_json, short_path, table

SCOPES = ["operator.admin", "operator.read"]
DEFAULT_EMOJI = "📦"
GROUPS = (("bins", "Binaries"), ("anyBins", "Any binaries"), ("env", "Environment"), ("config", "Config"),
          ("os", "OS"))


def fetch_report(agent: str | None, url: str | None, token: str | None, password: str | None,
                 timeout: int) -> dict[str, Any]:
    """`skills.status` from the gateway, else (no gateway on the implicit target) a local report."""
    from openclaw.cli.rpc_common import down_error, rejected_error, target_from
    from openclaw.client.rpc import GatewayCallError, GatewayClient, GatewayUnreachable

    target = target_from(url, token, password)
    client = GatewayClient(target.url, target.token, target.password, timeout=timeout / 1000, scopes=SCOPES)
    try:
        client.connect()
        report: dict[str, Any] = client.call("skills.status", {"agentId": agent} if agent else {})
        return report
    except GatewayUnreachable as exc:
        if target.explicit_url:
            raise down_error(target, exc) from None
    except GatewayCallError as exc:
        if target.explicit_url or "unknown method" not in str(exc):
            from openclaw.errors import OpenClawError

            raise (rejected_error(target, exc) if client.hello is None else
                   OpenClawError(f"skills.status failed: {exc.code}: {exc}")) from None
    finally:
        client.close()
    return local_report(agent)


def local_report(agent: str | None) -> dict[str, Any]:
    from openclaw.agents.workspace import agent_workspace
    from openclaw.config.store import read_view
    from openclaw.errors import UsageError
    from openclaw.profiles.paths import resolve_paths
    from openclaw.skills.report import status

    paths = resolve_paths(os.environ)
    config = read_view(paths.config_path, os.environ)
    agent_id = agent or config.default_agent_id
    if agent_id not in [a.id for a in config.agents]:
        raise UsageError(f'unknown agent id "{agent_id}" (agents: {", ".join(a.id for a in config.agents)})')
    return status(paths, config, os.environ, agent_id, agent_workspace(config, paths, os.environ, agent_id))


def _ready(skill: dict[str, Any]) -> bool:
    return bool(skill.get("eligible")) and not skill.get("blockedByAgentFilter")


def _missing_summary(skill: dict[str, Any]) -> str:
    missing = skill.get("missing") or {}
    return "; ".join(f"{key}: {', '.join(missing[key])}" for key, _ in GROUPS if missing.get(key))


def status_cell(skill: dict[str, Any], detailed: bool = False) -> str:
    if skill.get("disabled"):
        return "⏸ Disabled" if detailed else "⏸ disabled"
    if skill.get("blockedByAllowlist"):
        return "🚫 Blocked by allowlist" if detailed else "🚫 blocked"
    if skill.get("blockedByAgentFilter"):
        return "🚫 Excluded by agent allowlist" if detailed else "🚫 excluded"
    if skill.get("eligible"):
        return "✓ Ready" if detailed else "✓ ready"
    return "△ Needs setup" if detailed else "△ needs setup"


def _name(skill: dict[str, Any]) -> str:
    return f"{skill.get('emoji') or DEFAULT_EMOJI} {skill['name']}"


LIST_KEYS = ("name", "description", "emoji", "eligible", "disabled", "blockedByAllowlist", "blockedByAgentFilter",
             "modelVisible", "userInvocable", "commandVisible", "source", "bundled", "primaryEnv", "homepage",
             "missing")


def list_json(report: dict[str, Any], eligible: bool) -> dict[str, Any]:
    skills = [s for s in report["skills"] if _ready(s) or not eligible]
    return {"workspaceDir": report.get("workspaceDir"), "managedSkillsDir": report.get("managedSkillsDir"),
            "skills": [{k: s[k] for k in LIST_KEYS if k in s} for s in skills]}


def check_json(report: dict[str, Any], agent: str | None) -> dict[str, Any]:
    skills = report["skills"]
    groups = _groups(skills)
    return {
        "agentId": report.get("agentId") or agent, "agentSkillFilter": report.get("agentSkillFilter"),
        "workspaceDir": report.get("workspaceDir"), "managedSkillsDir": report.get("managedSkillsDir"),
        "summary": {"total": len(skills), **{k: len(v) for k, v in groups.items()}},
        **{k: [s["name"] for s in v] for k, v in groups.items() if k not in ("notInjected", "missingRequirements")},
        "notInjected": [{"name": s["name"], "reason": "disable-model-invocation"} for s in groups["notInjected"]],
        "missingRequirements": [{"name": s["name"], "missing": s.get("missing"), "install": s.get("install", [])}
                                for s in groups["missingRequirements"]],
        "problems": report.get("problems", []),
    }


def _groups(skills: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {
        "eligible": [s for s in skills if s.get("eligible")],
        "modelVisible": [s for s in skills if s.get("modelVisible")],
        "commandVisible": [s for s in skills if s.get("commandVisible")],
        "disabled": [s for s in skills if s.get("disabled")],
        "blocked": [s for s in skills if s.get("blockedByAllowlist") and not s.get("disabled")],
        "agentFiltered": [s for s in skills if s.get("blockedByAgentFilter")],
        "notInjected": [s for s in skills if _ready(s) and not s.get("modelVisible")],
        "missingRequirements": [s for s in skills if not s.get("eligible") and not s.get("disabled")
                                and not s.get("blockedByAllowlist")],
    }


def find(report: dict[str, Any], wanted: str) -> dict[str, Any] | None:
    """By exact name, then key, then either ignoring case (one match only)."""
    wanted = wanted.strip()
    for test in (lambda s: s["name"] == wanted, lambda s: s.get("skillKey") == wanted,
                 lambda s: wanted.lower() in (s["name"].lower(), str(s.get("skillKey", "")).lower())):
        found = [s for s in report["skills"] if test(s)]
        if found:
            return found[0] if len(found) == 1 else None
    return None


def info_lines(skill: dict[str, Any]) -> list[str]:
    lines = [f"{_name(skill)} {status_cell(skill, True)}", "", skill.get("description", ""), "", "Details:",
             f"  Source: {skill.get('source')}", f"  Path: {short_path(skill.get('filePath', ''))}"]
    if skill.get("homepage"):
        lines.append(f"  Homepage: {skill['homepage']}")
    lines += [f"  Visible to model: {'yes' if skill.get('modelVisible') else 'no'}",
              f"  Available as command: {'yes' if skill.get('commandVisible') else 'no'}"]
    if skill.get("blockedByAgentFilter"):
        lines.append("  Agent allowlist: excludes this skill")
    if skill.get("primaryEnv"):
        lines.append(f"  Primary env: {skill['primaryEnv']}")
    required, missing = skill.get("requirements") or {}, skill.get("missing") or {}
    groups = [(k, label) for k, label in GROUPS if required.get(k)]
    if groups:
        lines += ["", "Requirements:"]
        for key, label in groups:
            if key in ("anyBins", "os"):
                mark = "✗" if missing.get(key) else "✓"
                cells = f"{mark} ({'any of: ' if key == 'anyBins' else ''}{', '.join(required[key])})"
            else:
                cells = ", ".join(f"{'✗' if r in missing.get(key, []) else '✓'} {r}" for r in required[key])
            lines.append(f"  {label}: {cells}")
    if skill.get("install") and not skill.get("eligible"):
        lines += ["", "Install options:", *(f"  → {i['label']}" for i in skill["install"])]
    primary = skill.get("primaryEnv")
    if primary and primary in missing.get("env", []):
        lines += ["", "API key setup:",
                  f"  Save via CLI: openclaw config set skills.entries.{skill.get('skillKey')}.apiKey YOUR_KEY"]
    return lines


def check_lines(report: dict[str, Any], agent: str | None) -> list[str]:
    skills, groups = report["skills"], _groups(report["skills"])
    agent_id = report.get("agentId") or agent
    lines = ["Skills Status Check", *([f"Agent: {agent_id}"] if agent_id else []), "",
             f"Total: {len(skills)}", f"✓ Eligible: {len(groups['eligible'])}",
             f"✓ Visible to model: {len(groups['modelVisible'])}",
             f"✓ Available as command: {len(groups['commandVisible'])}", f"⏸ Disabled: {len(groups['disabled'])}",
             f"🚫 Blocked by allowlist: {len(groups['blocked'])}"]
    if agent_id or groups["agentFiltered"]:
        lines.append(f"🚫 Excluded by agent allowlist: {len(groups['agentFiltered'])}")
    if groups["notInjected"]:
        lines.append(f"△ Ready but hidden from model prompt: {len(groups['notInjected'])}")
    lines.append(f"✗ Missing requirements: {len(groups['missingRequirements'])}")
    sections = (("Ready and visible to model:", "modelVisible", ""),
                ("Ready but hidden from model prompt:", "notInjected", " (its SKILL.md keeps it from the model)"),
                ("Excluded by agent allowlist:", "agentFiltered", " (loaded; this agent may not use it)"),
                ("Missing requirements:", "missingRequirements", None))
    for heading, key, why in sections:
        if groups[key]:
            lines += ["", heading, *(f"  {_name(s)}{why if why is not None else f' ({_missing_summary(s)})'}"
                                     for s in groups[key])]
    if report.get("problems"):
        lines += ["", "Not loaded:", *(f"  {p['path']}: {p['message']}" for p in report["problems"])]
    return lines


@click.group(help="The agents' skills: SKILL.md folders offered to the model when their requirements are met.")
def skills() -> None:
    pass


agent_option = click.option("--agent", help="Agent id (default: the default agent).")


@skills.command("list", help="Every skill found, ready or not, with where it comes from.")
@click.option("--eligible", is_flag=True, help="Only the skills ready for this agent.")
@click.option("-v", "--verbose", is_flag=True, help="Add what each skill is missing.")
@agent_option
@rpc_options
@json_option
def list_(eligible: bool, verbose: bool, agent: str | None, url: str | None, token: str | None,
          password: str | None, timeout: int, as_json: bool) -> None:
    report = fetch_report(agent, url, token, password, timeout)
    if as_json:
        print_json(list_json(report, eligible))
        return
    shown = [s for s in report["skills"] if _ready(s) or not eligible]
    if not shown:
        click.echo("No eligible skills found. Run `openclaw skills list` to see all skills." if eligible
                   else "No skills found.")
        return
    click.echo(f"Skills ({sum(1 for s in shown if _ready(s))}/{len(shown)} ready)")
    headers = ["Status", "Skill", "Description", "Source", *(["Missing"] if verbose else [])]
    table(headers, [[status_cell(s), _name(s), s.get("description", ""), s.get("source", ""),
                     *([_missing_summary(s)] if verbose else [])] for s in shown])


@skills.command("info", help="One skill: status, requirements, where it is.")
@click.argument("name")
@agent_option
@rpc_options
@json_option
def info(name: str, agent: str | None, url: str | None, token: str | None, password: str | None, timeout: int,
         as_json: bool) -> None:
    from openclaw.errors import OpenClawError

    skill = find(fetch_report(agent, url, token, password, timeout), name)
    if skill is None:
        if as_json:
            print_json({"ok": False, "error": f'Skill "{name}" not found.', "skill": name})
            raise SystemExit(1)
        raise OpenClawError(f'Skill "{name}" not found. Run `openclaw skills list` to see available skills.')
    if as_json:
        print_json(skill)
        return
    click.echo("\n".join(info_lines(skill)))


@skills.command("check", help="What is ready, visible to the model, disabled or missing something.")
@agent_option
@rpc_options
@json_option
def check(agent: str | None, url: str | None, token: str | None, password: str | None, timeout: int,
          as_json: bool) -> None:
    report = fetch_report(agent, url, token, password, timeout)
    if as_json:
        print_json(check_json(report, agent))
        return
    click.echo("\n".join(check_lines(report, agent)))
