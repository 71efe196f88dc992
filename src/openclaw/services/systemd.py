"""systemd user units: `~/.config/systemd/user/openclaw-gateway[-<profile>].service`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from openclaw.fsutil import atomic_write
from openclaw.services.base import NoServiceManager, ServiceManager, ServiceStatus, run
from openclaw.services.spec import ServiceSpec, check_value

SYSTEM_UNIT_DIRS = ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
ENV_FILE = "gateway.systemd.env"


def user_unit_dir(home: Path, env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME")
    return (Path(base) if base else home / ".config") / "systemd" / "user"


def system_unit_dirs(env: Mapping[str, str]) -> list[Path]:
    """Where system-level units live; OPENCLAW_SYSTEMD_SYSTEM_DIRS (colon-separated) overrides."""
    override = env.get("OPENCLAW_SYSTEMD_SYSTEM_DIRS")
    return [Path(p) for p in (override.split(":") if override else SYSTEM_UNIT_DIRS) if p]


def env_file_path(spec: ServiceSpec) -> Path:
    return spec.state_dir / ENV_FILE


def _quote_arg(arg: str) -> str:
    """One ExecStart argument: `%` and `$` escaped, quoted when it holds spaces or quotes."""
    check_value("ExecStart", arg)
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if any(c in escaped for c in ' \t"\'\\;'):
        escaped = '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return escaped


def _env_line(key: str, value: str) -> str:
    check_value(key, value)
    inner = f"{key}={value}".replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"')
    return f'Environment="{inner}"'


def render_unit(spec: ServiceSpec) -> str:
    exec_start = " ".join(_quote_arg(a) for a in spec.program)
    lines = [
        "[Unit]",
        f"Description={spec.description}",
        "After=network-online.target",
        "Wants=network-online.target",
        "StartLimitBurst=5",
        "StartLimitIntervalSec=60",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={exec_start}",
        "Restart=always",
        "RestartSec=5",
        "RestartPreventExitStatus=78",
        "TimeoutStopSec=30",
        "TimeoutStartSec=30",
        "SuccessExitStatus=0 143",
        "OOMPolicy=continue",
        "KillMode=control-group",
        f"EnvironmentFile=-{env_file_path(spec)}",
        *(_env_line(k, v) for k, v in sorted(spec.env.items())),
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    return "\n".join(lines)


def render_env_file(spec: ServiceSpec) -> str:
    """Secrets for the unit, never inline in it; mode 0600."""
    lines = ["# Secrets for the OpenClaw gateway service. Generated; edit with `openclaw gateway install --force`."]
    for key, value in sorted(spec.secrets.items()):
        check_value(key, value)
        lines.append(f'{key}="' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"')
    return "\n".join(lines) + "\n"


class SystemdManager(ServiceManager):
    label = "systemd user"

    def name_for(self, spec: ServiceSpec) -> str:
        return spec.systemd_unit

    def file_for(self, spec: ServiceSpec) -> Path:
        return user_unit_dir(spec.home, spec.host) / spec.systemd_unit

    def check_available(self) -> None:
        try:
            proc = run(["systemctl", "--user", "show-environment"], check=False)
        except NoServiceManager:
            raise NoServiceManager("no service manager here: systemctl is not installed") from None
        if proc.returncode != 0:
            reason = (proc.stderr or proc.stdout).strip().splitlines()
            raise NoServiceManager(
                "no service manager here: the systemd user manager is not running"
                + (f" ({reason[-1]})" if reason else "")
            )

    def conflicts(self, spec: ServiceSpec) -> list[str]:
        return [str(d / spec.systemd_unit) for d in system_unit_dirs(spec.host) if (d / spec.systemd_unit).exists()]

    def write_files(self, spec: ServiceSpec) -> list[Path]:
        unit = self.file_for(spec)
        env_file = env_file_path(spec)
        atomic_write(env_file, render_env_file(spec), mode=0o600)
        backup = unit.with_name(unit.name + ".bak") if unit.exists() else None
        atomic_write(unit, render_unit(spec), mode=0o644, backup=backup)
        return [unit, env_file]

    def owned_files(self, spec: ServiceSpec) -> list[Path]:
        return [self.file_for(spec), env_file_path(spec)]

    def activate(self, spec: ServiceSpec) -> None:
        run(["systemctl", "--user", "daemon-reload"])
        run(["systemctl", "--user", "enable", spec.systemd_unit])
        run(["systemctl", "--user", "restart", spec.systemd_unit])

    def deactivate(self, spec: ServiceSpec) -> None:
        run(["systemctl", "--user", "disable", "--now", spec.systemd_unit], check=False)

    def reload_definitions(self) -> None:
        run(["systemctl", "--user", "daemon-reload"])

    def start(self, spec: ServiceSpec) -> None:
        run(["systemctl", "--user", "start", spec.systemd_unit])

    def stop(self, spec: ServiceSpec) -> None:
        run(["systemctl", "--user", "stop", spec.systemd_unit])

    def restart(self, spec: ServiceSpec) -> None:
        run(["systemctl", "--user", "restart", spec.systemd_unit])

    def status(self, spec: ServiceSpec) -> ServiceStatus:
        status = self._file_status(spec)
        if not status.installed:
            return status
        proc = run(["systemctl", "--user", "show", spec.systemd_unit, "--no-pager",
                    "--property=ActiveState,SubState,MainPID,UnitFileState,ExecMainStatus"], check=False)
        props = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
        status.enabled = props.get("UnitFileState") == "enabled"
        status.active = props.get("ActiveState") == "active"
        status.state = "/".join(filter(None, (props.get("ActiveState"), props.get("SubState")))) or "unknown"
        pid = props.get("MainPID", "0")
        status.pid = int(pid) if pid.isdigit() and int(pid) > 0 else None
        if props.get("ExecMainStatus", "").isdigit():
            status.extra["lastExitStatus"] = int(props["ExecMainStatus"])
        return status
