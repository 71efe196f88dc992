"""Windows Scheduled Tasks: `OpenClaw Gateway[ (<profile>)]`, running `<state>\\gateway.cmd` at logon."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape

from openclaw.fsutil import atomic_write
from openclaw.services.base import NoServiceManager, ServiceManager, ServiceStatus, run
from openclaw.services.spec import ServiceSpec, check_value

TASK_XML = "gateway.task.xml"
LAUNCHER = "gateway.cmd"
SECRETS = "gateway.secrets.cmd"


def launcher_path(spec: ServiceSpec) -> Path:
    return spec.state_dir / LAUNCHER


def secrets_path(spec: ServiceSpec) -> Path:
    return spec.state_dir / SECRETS


def xml_path(spec: ServiceSpec) -> Path:
    return spec.state_dir / TASK_XML


def task_user(env: Mapping[str, str]) -> str:
    user = env.get("USERNAME") or env.get("USER") or "user"
    domain = env.get("USERDOMAIN")
    return f"{domain}\\{user}" if domain and domain.upper() != "WORKGROUP" else user


def _cmd_arg(arg: str) -> str:
    return f'"{arg}"' if any(c in arg for c in ' &()^%!"') or not arg else arg


def _set_line(key: str, value: str) -> str:
    check_value(key, value)
    return f'set "{key}={value.replace("%", "%%")}"'


def render_launcher(spec: ServiceSpec) -> str:
    """The readable `gateway.cmd` the task runs (CRLF line endings)."""
    lines = ["@echo off", f"rem {spec.description}"]
    lines += [_set_line(k, v) for k, v in sorted(spec.env.items()) if k != "PATH"]
    lines.append(f'if exist "{secrets_path(spec)}" call "{secrets_path(spec)}"')
    lines.append(" ".join(_cmd_arg(a) for a in spec.program))
    return "\r\n".join(lines) + "\r\n"


def render_secrets(spec: ServiceSpec) -> str:
    lines = ["@echo off", "rem Secrets for the OpenClaw gateway task. Generated; keep private."]
    lines += [_set_line(k, v) for k, v in sorted(spec.secrets.items())]
    return "\r\n".join(lines) + "\r\n"


def render_task_xml(spec: ServiceSpec, user: str | None = None) -> str:
    user = escape(user or task_user(spec.host))
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>{escape(spec.description)}</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{user}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{user}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(str(launcher_path(spec)))}</Command>
    </Exec>
  </Actions>
</Task>
"""


class SchtasksManager(ServiceManager):
    label = "Scheduled Task"

    def name_for(self, spec: ServiceSpec) -> str:
        return spec.windows_task

    def file_for(self, spec: ServiceSpec) -> Path:
        return launcher_path(spec)

    def check_available(self) -> None:
        try:
            run(["schtasks", "/Query", "/FO", "LIST", "/TN", "\\"], check=False)
        except NoServiceManager:
            raise NoServiceManager("no service manager here: schtasks is not available") from None

    def write_files(self, spec: ServiceSpec) -> list[Path]:
        atomic_write(secrets_path(spec), render_secrets(spec), mode=0o600)
        atomic_write(launcher_path(spec), render_launcher(spec), mode=0o700)
        # Task Scheduler reads task XML as UTF-16 with a byte-order mark
        atomic_write(xml_path(spec), render_task_xml(spec).encode("utf-16"), mode=0o600)
        return [launcher_path(spec), secrets_path(spec), xml_path(spec)]

    def owned_files(self, spec: ServiceSpec) -> list[Path]:
        return [launcher_path(spec), secrets_path(spec), xml_path(spec)]

    def activate(self, spec: ServiceSpec) -> None:
        run(["schtasks", "/Create", "/TN", spec.windows_task, "/XML", str(xml_path(spec)), "/F"])
        run(["schtasks", "/Run", "/TN", spec.windows_task])

    def deactivate(self, spec: ServiceSpec) -> None:
        run(["schtasks", "/End", "/TN", spec.windows_task], check=False)
        run(["schtasks", "/Delete", "/TN", spec.windows_task, "/F"], check=False)

    def start(self, spec: ServiceSpec) -> None:
        run(["schtasks", "/Run", "/TN", spec.windows_task])

    def stop(self, spec: ServiceSpec) -> None:
        run(["schtasks", "/End", "/TN", spec.windows_task])

    def restart(self, spec: ServiceSpec) -> None:
        run(["schtasks", "/End", "/TN", spec.windows_task], check=False)
        run(["schtasks", "/Run", "/TN", spec.windows_task])

    def status(self, spec: ServiceSpec) -> ServiceStatus:
        status = self._file_status(spec)
        proc = run(["schtasks", "/Query", "/TN", spec.windows_task, "/V", "/FO", "LIST"], check=False)
        status.enabled = proc.returncode == 0
        status.installed = status.installed and status.enabled
        if status.installed:
            state = re.search(r"^Status:\s*(.+)$", proc.stdout, re.M)
            status.state = state.group(1).strip() if state else "unknown"
            status.active = status.state.lower() == "running"
        return status
