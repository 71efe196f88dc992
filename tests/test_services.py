"""Managed services: generated files (every platform), systemd-analyze, and the lifecycle flows
against recording stand-ins for systemctl / launchctl / schtasks."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fake_managers import calls, install_fakes
from helpers import Env

from openclaw.profiles.paths import InstancePaths
from openclaw.services.launchd import render_env_file as launchd_env
from openclaw.services.launchd import render_plist
from openclaw.services.schtasks import render_launcher, render_task_xml
from openclaw.services.spec import build_spec, port_from_text
from openclaw.services.systemd import render_env_file, render_unit

HOME = Path("/home/u")
RESCUE = InstancePaths("rescue", HOME, HOME / ".openclaw-rescue", HOME / ".openclaw-rescue/openclaw.json", False)


def spec_for(platform: str, **env: str):  # type: ignore[no-untyped-def]
    return build_spec(RESCUE, 19789, platform, {"OPENCLAW_GATEWAY_TOKEN": "s3cr%t", **env},
                      python="/opt/py/bin/python3")


# -- pure file generation ----------------------------------------------------------------------
def test_systemd_unit_fields() -> None:
    unit = render_unit(spec_for("linux"))
    lines = unit.splitlines()
    assert lines[0] == "[Unit]" and "Description=OpenClaw Gateway (profile: rescue)" in lines
    for directive in ("After=network-online.target", "Wants=network-online.target", "Restart=always",
                      "RestartSec=5", "RestartPreventExitStatus=78", "SuccessExitStatus=0 143",
                      "KillMode=control-group", "TimeoutStopSec=30", "TimeoutStartSec=30",
                      "WantedBy=default.target", "OOMPolicy=continue",
                      "ExecStart=/opt/py/bin/python3 -m openclaw gateway --port 19789",
                      "EnvironmentFile=-/home/u/.openclaw-rescue/gateway.systemd.env"):
        assert directive in lines, directive
    env = {line[len('Environment="'):-1].split("=", 1)[0]: line[len('Environment="'):-1].split("=", 1)[1]
           for line in lines if line.startswith("Environment=")}
    assert env["OPENCLAW_PROFILE"] == "rescue"
    assert env["OPENCLAW_STATE_DIR"] == "/home/u/.openclaw-rescue"
    assert env["OPENCLAW_CONFIG_PATH"] == "/home/u/.openclaw-rescue/openclaw.json"
    assert env["OPENCLAW_GATEWAY_PORT"] == "19789"
    assert env["OPENCLAW_SYSTEMD_UNIT"] == "openclaw-gateway-rescue.service"
    assert env["OPENCLAW_SERVICE_MARKER"] == "openclaw" and env["OPENCLAW_SERVICE_KIND"] == "gateway"
    assert "s3cr" not in unit  # secrets never inline
    assert lines.index("EnvironmentFile=-/home/u/.openclaw-rescue/gateway.systemd.env") < min(
        i for i, line in enumerate(lines) if line.startswith("Environment="))
    assert render_env_file(spec_for("linux")).splitlines()[1] == 'OPENCLAW_GATEWAY_TOKEN="s3cr%t"'
    assert port_from_text(unit) == 19789


def test_default_profile_names() -> None:
    paths = InstancePaths(None, HOME, HOME / ".openclaw", HOME / ".openclaw/openclaw.json", False)
    spec = build_spec(paths, 18789, "linux", {})
    assert spec.systemd_unit == "openclaw-gateway.service" and spec.launchd_label == "ai.openclaw.gateway"
    assert spec.windows_task == "OpenClaw Gateway" and "OPENCLAW_PROFILE" not in spec.env
    assert "Description=OpenClaw Gateway\n" in render_unit(spec)


def test_unit_escaping_and_line_breaks() -> None:
    spec = build_spec(RESCUE, 19789, "linux", {}, python="/opt/my py/bin/python3")
    assert 'ExecStart="/opt/my py/bin/python3" -m openclaw' in render_unit(spec)
    with pytest.raises(ValueError, match="line break"):
        render_env_file(spec_for("linux", OPENCLAW_GATEWAY_PASSWORD="a\nb"))


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    paths = InstancePaths("rescue", tmp_path, tmp_path / ".openclaw-rescue",
                          tmp_path / ".openclaw-rescue/openclaw.json", False)
    unit = tmp_path / "openclaw-gateway-rescue.service"
    unit.write_text(render_unit(build_spec(paths, 19789, "linux", {"OPENCLAW_GATEWAY_TOKEN": "x"})))
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert unit.name not in proc.stderr and "Unknown" not in proc.stderr, proc.stderr
    bad = tmp_path / "openclaw-gateway-bad.service"
    bad.write_text(unit.read_text().replace("Restart=always", "Restart=sometimes"))
    noisy = subprocess.run(["systemd-analyze", "verify", str(bad)], capture_output=True, text=True)
    assert "restart specifier" in noisy.stderr  # the check above can fail


def test_launchd_plist_fields() -> None:
    spec = spec_for("darwin")
    plist = plistlib.loads(render_plist(spec))
    assert plist["Label"] == "ai.openclaw.rescue" and plist["Comment"] == "OpenClaw Gateway (profile: rescue)"
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] is True and plist["ThrottleInterval"] == 10
    assert plist["Umask"] == 0o077 and plist["ProcessType"] == "Interactive"
    assert plist["ProgramArguments"] == [
        "/bin/sh", "/home/u/.openclaw-rescue/service-env/ai.openclaw.rescue-env-wrapper.sh",
        "/home/u/.openclaw-rescue/service-env/ai.openclaw.rescue.env",
        "/opt/py/bin/python3", "-m", "openclaw", "gateway", "--port", "19789",
    ]
    assert plist["EnvironmentVariables"]["OPENCLAW_LAUNCHD_LABEL"] == "ai.openclaw.rescue"
    assert plist["EnvironmentVariables"]["OPENCLAW_PROFILE"] == "rescue"
    assert "OPENCLAW_GATEWAY_TOKEN" not in plist["EnvironmentVariables"]
    assert plist["StandardOutPath"] == plist["StandardErrorPath"] == "/home/u/Library/Logs/openclaw/gateway-rescue.log"
    assert "export OPENCLAW_GATEWAY_TOKEN='s3cr%t'" in launchd_env(spec)


def test_windows_task_and_launcher() -> None:
    spec = spec_for("win32")
    root = ET.fromstring(render_task_xml(spec, user="DOM\\me").split("\n", 1)[1])
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    assert root.find("t:Triggers/t:LogonTrigger/t:UserId", ns).text == "DOM\\me"
    assert root.find("t:Principals/t:Principal/t:LogonType", ns).text == "InteractiveToken"
    assert root.find("t:Principals/t:Principal/t:RunLevel", ns).text == "LeastPrivilege"
    settings = root.find("t:Settings", ns)
    assert settings.find("t:MultipleInstancesPolicy", ns).text == "IgnoreNew"
    assert settings.find("t:ExecutionTimeLimit", ns).text == "PT0S"
    assert settings.find("t:RestartOnFailure/t:Count", ns) is not None
    assert root.find("t:Actions/t:Exec/t:Command", ns).text.endswith("gateway.cmd")
    launcher = render_launcher(spec)
    assert launcher.endswith("\r\n") and "\n" not in launcher.replace("\r\n", "")
    lines = launcher.split("\r\n")
    assert lines[0] == "@echo off" and lines[1] == "rem OpenClaw Gateway (profile: rescue)"
    assert 'set "OPENCLAW_PROFILE=rescue"' in lines
    assert 'set "OPENCLAW_WINDOWS_TASK_NAME=OpenClaw Gateway (rescue)"' in lines
    assert lines[-2] == "/opt/py/bin/python3 -m openclaw gateway --port 19789"
    assert "s3cr" not in launcher


# -- lifecycle flows ---------------------------------------------------------------------------
@pytest.fixture
def fakes(env: Env, tmp_path: Path) -> Path:
    log = tmp_path / "sm.log"
    env.vars.update(install_fakes(tmp_path / "fakebin", log))
    env.vars["OPENCLAW_SYSTEMD_SYSTEM_DIRS"] = str(tmp_path / "system-units")
    env.vars["OPENCLAW_LAUNCHD_SYSTEM_DIR"] = str(tmp_path / "LaunchDaemons")
    return log


def _mutating(log: Path) -> list[list[str]]:
    readonly = {"show-environment", "show", "print", "/Query"}
    return [c for c in calls(log) if not set(c[1:3]) & readonly]


def test_systemd_install_start_stop_restart_uninstall(env: Env, fakes: Path, base: int) -> None:
    env.provision("rescue", base)
    installed = env.cli("--profile", "rescue", "gateway", "install", check=True)
    unit = env.home / ".config/systemd/user/openclaw-gateway-rescue.service"
    assert installed.stdout.strip() == f"Installed systemd user service: {unit}"
    assert calls(fakes) == [
        ["systemctl", "--user", "show-environment"],
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "openclaw-gateway-rescue.service"],
        ["systemctl", "--user", "restart", "openclaw-gateway-rescue.service"],
        ["systemctl", "--user", "show", "openclaw-gateway-rescue.service", "--no-pager",
         "--property=ActiveState,SubState,MainPID,UnitFileState,ExecMainStatus"],
    ]
    assert f"--port {base}" in unit.read_text() and stat.S_IMODE(unit.stat().st_mode) == 0o644
    env_file = env.state_dir("rescue") / "gateway.systemd.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert sys.executable in unit.read_text()

    again = env.cli("--profile", "rescue", "gateway", "install", check=True)
    assert "already enabled" in again.stdout and "gateway install --force" in again.stdout

    fakes.unlink()
    for args in (["start", "--wait", "0"], ["stop"], ["restart", "--wait", "0"], ["uninstall"]):
        env.cli("--profile", "rescue", "gateway", *args, check=True)
    assert _mutating(fakes) == [
        ["systemctl", "--user", "start", "openclaw-gateway-rescue.service"],
        ["systemctl", "--user", "stop", "openclaw-gateway-rescue.service"],
        ["systemctl", "--user", "restart", "openclaw-gateway-rescue.service"],
        ["systemctl", "--user", "disable", "--now", "openclaw-gateway-rescue.service"],
        ["systemctl", "--user", "daemon-reload"],
    ]
    assert not unit.exists() and not env_file.exists()
    audit = (env.state_dir("rescue") / "logs" / "gateway-restart.log").read_text()
    assert [line.split("action=")[1].split()[0] for line in audit.splitlines()] == [
        "install", "start", "stop", "restart", "uninstall"]


def test_service_status_and_drift(env: Env, fakes: Path, base: int) -> None:
    env.provision("rescue", base)
    env.cli("--profile", "rescue", "gateway", "install", check=True)
    status = env.cli("--profile", "rescue", "gateway", "status", "--json")
    assert status.returncode == 1  # the stand-in does not really start a gateway
    report = json.loads(status.stdout)
    service = report["service"]
    assert service["installed"] and service["loaded"] and service["active"] and service["pid"] == 4242
    assert service["installedPort"] == base and service["configPort"] == base and service["drift"] is False
    text = env.cli("--profile", "rescue", "gateway", "status")
    assert "Service:            systemd user (enabled, active/running, pid 4242)" in text.stdout
    assert text.stderr.strip().endswith("start it with: openclaw --profile rescue gateway start")

    env.cli("--profile", "rescue", "config", "set", "gateway.port", str(base + 200), check=True)
    drifted = json.loads(env.cli("--profile", "rescue", "gateway", "status", "--json").stdout)["service"]
    assert drifted["drift"] is True and drifted["installedPort"] == base
    assert "drift; fix: openclaw --profile rescue gateway install --force" in env.cli(
        "--profile", "rescue", "gateway", "status").stdout
    env.cli("--profile", "rescue", "gateway", "install", "--force", check=True)
    fixed = json.loads(env.cli("--profile", "rescue", "gateway", "status", "--json").stdout)["service"]
    assert fixed["drift"] is False and fixed["installedPort"] == base + 200
    assert (env.home / ".config/systemd/user/openclaw-gateway-rescue.service.bak").exists()


def test_install_with_port_records_it_in_config(env: Env, fakes: Path, base: int) -> None:
    env.provision("rescue", base)
    env.cli("--profile", "rescue", "gateway", "install", "--port", str(base + 300), check=True)
    assert env.config("rescue")["gateway"]["port"] == base + 300


def test_system_level_unit_blocks_install(env: Env, fakes: Path, base: int, tmp_path: Path) -> None:
    env.provision("rescue", base)
    system = tmp_path / "system-units"
    system.mkdir()
    (system / "openclaw-gateway-rescue.service").write_text("[Service]\nExecStart=/bin/true\n")
    proc = env.cli("--profile", "rescue", "gateway", "install", "--force")
    assert proc.returncode == 1 and "system-level service with the same name exists" in proc.stderr
    assert not (env.home / ".config/systemd/user/openclaw-gateway-rescue.service").exists()
    assert _mutating(fakes) == []


def test_failed_activation_leaves_nothing_behind(env: Env, fakes: Path, base: int) -> None:
    env.provision("rescue", base)
    proc = env.cli("--profile", "rescue", "gateway", "install",
                   extra_env={"FAKE_SM_FAIL": "systemctl --user enable"})
    assert proc.returncode == 1 and "systemctl --user enable openclaw-gateway-rescue.service` failed" in proc.stderr
    assert not (env.home / ".config/systemd/user/openclaw-gateway-rescue.service").exists()
    assert not (env.state_dir("rescue") / "gateway.systemd.env").exists()


def test_start_without_install_and_isolated_state(env: Env, fakes: Path, base: int) -> None:
    env.provision("rescue", base)
    proc = env.cli("--profile", "rescue", "gateway", "start")
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("Gateway service is not installed. "
                                   "Install it with: openclaw --profile rescue gateway install")
    iso = env.cli("gateway", "install", extra_env={"OPENCLAW_STATE_DIR": str(env.root / "iso")})
    assert iso.returncode == 1 and len(iso.stderr.strip().splitlines()) == 1
    assert "use `openclaw --profile NAME gateway install`" in iso.stderr
    assert calls(fakes) == [["systemctl", "--user", "show-environment"]]


def test_no_service_manager_writes_nothing(env: Env, base: int) -> None:
    env.provision("rescue", base)
    before = sorted(p.relative_to(env.home) for p in env.home.rglob("*"))
    for args in (["install"], ["start"], ["stop"], ["restart"], ["uninstall"]):
        proc = env.cli("--profile", "rescue", "gateway", *args)
        assert proc.returncode == 1, args
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("no service manager here:")
        assert "openclaw --profile rescue gateway" in lines[0]
    after = sorted(p.relative_to(env.home) for p in env.home.rglob("*"))
    assert before == after


@pytest.mark.skipif(os.name == "nt", reason="POSIX uid")
def test_launchd_flow(env: Env, fakes: Path, base: int) -> None:
    env.vars["OPENCLAW_SERVICE_PLATFORM"] = "darwin"
    env.provision("rescue", base)
    env.cli("--profile", "rescue", "gateway", "install", check=True)
    uid = os.getuid()
    target = f"gui/{uid}/ai.openclaw.rescue"
    plist = env.home / "Library/LaunchAgents/ai.openclaw.rescue.plist"
    assert calls(fakes) == [
        ["launchctl", "print", f"gui/{uid}"],
        ["launchctl", "bootout", target],
        ["launchctl", "enable", target],
        ["launchctl", "bootstrap", f"gui/{uid}", str(plist)],
        ["launchctl", "kickstart", "-k", target],
        ["launchctl", "print", target],
    ]
    assert plistlib.loads(plist.read_bytes())["Label"] == "ai.openclaw.rescue"
    wrapper = env.state_dir("rescue") / "service-env/ai.openclaw.rescue-env-wrapper.sh"
    assert stat.S_IMODE(wrapper.stat().st_mode) == 0o700
    status = json.loads(env.cli("--profile", "rescue", "gateway", "status", "--json").stdout)["service"]
    assert status["label"] == "LaunchAgent" and status["state"] == "running" and status["pid"] == 4343
    fakes.unlink()
    env.cli("--profile", "rescue", "gateway", "stop", check=True)
    env.cli("--profile", "rescue", "gateway", "start", "--wait", "0", check=True)
    env.cli("--profile", "rescue", "gateway", "uninstall", check=True)
    assert _mutating(fakes) == [
        ["launchctl", "bootout", target],
        ["launchctl", "bootstrap", f"gui/{uid}", str(plist)],
        ["launchctl", "kickstart", target],
        ["launchctl", "bootout", target],
    ]
    assert not plist.exists()


def test_schtasks_flow(env: Env, fakes: Path, base: int) -> None:
    env.vars["OPENCLAW_SERVICE_PLATFORM"] = "win32"
    env.provision("rescue", base)
    env.cli("--profile", "rescue", "gateway", "install", check=True)
    xml = env.state_dir("rescue") / "gateway.task.xml"
    assert calls(fakes) == [
        ["schtasks", "/Query", "/FO", "LIST", "/TN", "\\"],
        ["schtasks", "/Query", "/TN", "OpenClaw Gateway (rescue)", "/V", "/FO", "LIST"],
        ["schtasks", "/Create", "/TN", "OpenClaw Gateway (rescue)", "/XML", str(xml), "/F"],
        ["schtasks", "/Run", "/TN", "OpenClaw Gateway (rescue)"],
        ["schtasks", "/Query", "/TN", "OpenClaw Gateway (rescue)", "/V", "/FO", "LIST"],
    ]
    assert xml.read_bytes()[:2] == b"\xff\xfe"  # UTF-16 with a byte-order mark
    assert (env.state_dir("rescue") / "gateway.cmd").read_text().startswith("@echo off")
    fakes.unlink()
    env.cli("--profile", "rescue", "gateway", "restart", "--wait", "0", check=True)
    env.cli("--profile", "rescue", "gateway", "uninstall", check=True)
    assert _mutating(fakes) == [
        ["schtasks", "/End", "/TN", "OpenClaw Gateway (rescue)"],
        ["schtasks", "/Run", "/TN", "OpenClaw Gateway (rescue)"],
        ["schtasks", "/End", "/TN", "OpenClaw Gateway (rescue)"],
        ["schtasks", "/Delete", "/TN", "OpenClaw Gateway (rescue)", "/F"],
    ]


def test_deep_status_finds_stale_drifted_and_duplicate_services(env: Env, fakes: Path, base: int,
                                                                tmp_path: Path) -> None:
    env.provision("rescue", base)
    env.cli("--profile", "rescue", "gateway", "install", check=True)
    user_dir = env.home / ".config/systemd/user"
    unit_text = (user_dir / "openclaw-gateway-rescue.service").read_text()
    # a profile whose state dir is gone
    (user_dir / "openclaw-gateway-old.service").write_text(
        unit_text.replace(".openclaw-rescue", ".openclaw-old").replace("rescue", "old"))
    # the same unit also installed system-wide
    system = tmp_path / "system-units"
    system.mkdir()
    (system / "openclaw-gateway-rescue.service").write_text(unit_text)
    # and the rescue config moved away from the installed port
    env.cli("--profile", "rescue", "config", "set", "gateway.port", str(base + 100), check=True)
    report = json.loads(env.cli("--profile", "rescue", "gateway", "status", "--deep", "--json").stdout)
    found = {(s["name"], s["scope"]): s["problems"] for s in report["services"]}
    assert any("stale: its state dir" in p for p in found[("openclaw-gateway-old.service", "user")])
    user_problems = found[("openclaw-gateway-rescue.service", "user")]
    assert any(p.startswith("port drift: service runs") for p in user_problems)
    assert any(p.startswith("duplicate: also installed as a system service") for p in user_problems)
    text = env.cli("--profile", "rescue", "gateway", "status", "--deep").stdout
    assert "Gateway-like services on this host:" in text and "! stale" in text


def test_gateways_shows_service_state(env: Env, fakes: Path, base: int) -> None:
    env.provision("main", base)
    env.provision("rescue", base + 200)
    env.cli("--profile", "rescue", "gateway", "install", check=True)
    listing = {i["profile"]: i for i in env.cli_json("gateways")["instances"]}
    assert listing["rescue"]["service"] == "installed" and listing["main"]["service"] is None
    assert "installed" in env.cli("gateways", check=True).stdout
