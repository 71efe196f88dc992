"""Running every check for one profile, applying safe repairs, and the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openclaw.doctor.checks import CHECKS as CORE_CHECKS
from openclaw.doctor.checks import Context, Finding
from openclaw.doctor.discord_check import check_discord
from openclaw.doctor.sandbox import check_sandbox
from openclaw.doctor.slack import check_slack
from openclaw.ports.instances import discover_instances
from openclaw.ports.sockets import listening_ports
from openclaw.profiles.paths import InstancePaths

CHECKS = [*CORE_CHECKS, check_sandbox, check_slack, check_discord]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class Report:
    paths: InstancePaths
    findings: list[Finding]
    fixed: list[Finding] = field(default_factory=list)
    failed: list[tuple[Finding, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.errors,
            "profile": self.paths.name,
            "stateDir": str(self.paths.state_dir),
            "checksRun": [c.__name__.removeprefix("check_") for c in CHECKS],
            "findings": [f.as_dict() for f in self.findings],
            "fixed": [f.as_dict() for f in self.fixed],
            "fixFailed": [{**f.as_dict(), "error": e} for f, e in self.failed],
        }


def _context(paths: InstancePaths, env: Mapping[str, str]) -> Context:
    include = [paths] if paths.config_path.exists() else []
    return Context(paths, discover_instances(paths.home, env, include=include, neighbours=True), listening_ports(), env)


def diagnose(paths: InstancePaths, env: Mapping[str, str]) -> list[Finding]:
    ctx = _context(paths, env)
    findings = [f for check in CHECKS for f in check(ctx)]
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])


def run_doctor(paths: InstancePaths, env: Mapping[str, str], fix: bool = False) -> Report:
    findings = diagnose(paths, env)
    if not fix:
        return Report(paths, findings)
    fixed, failed = [], []
    for finding in findings:
        if finding.repair is None:
            continue
        try:
            finding.repair()
        except Exception as exc:  # noqa: BLE001 - a failed repair is reported, the rest still run
            failed.append((finding, str(exc)))
        else:
            fixed.append(finding)
    return Report(paths, diagnose(paths, env), fixed, failed)
