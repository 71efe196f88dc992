"""`openclaw doctor`: every finding produced by a real broken setup, and what --fix repairs."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from fake_managers import calls, install_fakes
from helpers import Env, Gateway


def doctor(env: Env, profile: str | None = None, *args: str) -> tuple[int, dict]:
    prefix = ["--profile", profile] if profile else []
    proc = env.cli(*prefix, "doctor", "--json", *args)
    return proc.returncode, json.loads(proc.stdout)


def ids(report: dict) -> set[str]:
    return {f["checkId"] for f in report["findings"]}


def finding(report: dict, check: str) -> dict:
    return next(f for f in report["findings"] if f["checkId"] == check)


def test_clean_instance_has_no_findings(env: Env, base: int) -> None:
    env.provision("main", base)
    code, report = doctor(env, "main")
    assert code == 0 and report["ok"] is True and report["findings"] == []
    assert "No problems found." in env.cli("--profile", "main", "doctor", check=True).stdout


def test_config_findings(env: Env, base: int) -> None:
    code, report = doctor(env, "ghost")
    assert code == 1 and finding(report, "config/missing")["fix"] == "openclaw --profile ghost setup"
    env.write_config({"gateway": {"mode": "local", "port": base, "prot": 1}}, "bad")
    code, report = doctor(env, "bad")
    bad = finding(report, "config/invalid")
    assert code == 1 and 'gateway.prot: unknown key (did you mean "port"?)' in bad["message"]
    env.write_config({"gateway": {"port": base + 300}, "wizard": {"lastRunAt": "x"}}, "nomode").chmod(0o600)
    env.state_dir("nomode").chmod(0o700)
    code, report = doctor(env, "nomode")
    assert code == 0  # warnings and info only
    assert finding(report, "config/mode")["fix"] == "openclaw --profile nomode config set gateway.mode local"
    assert "`wizard`" in finding(report, "config/ignored-section")["message"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_permissions_found_and_fixed(env: Env, base: int) -> None:
    env.provision("main", base)
    env.state_dir("main").chmod(0o755)
    env.config_path("main").chmod(0o644)
    code, report = doctor(env, "main")
    assert code == 1 and {"permissions/state-dir", "permissions/secret-file"} <= ids(report)
    assert finding(report, "permissions/secret-file")["fix"] == f"chmod 600 {env.config_path('main')}"
    code, fixed = doctor(env, "main", "--fix")
    assert code == 0 and {f["checkId"] for f in fixed["fixed"]} == {"permissions/state-dir", "permissions/secret-file"}
    assert oct(env.state_dir("main").stat().st_mode & 0o777) == "0o700"
    assert oct(env.config_path("main").stat().st_mode & 0o777) == "0o600"


def test_port_collision_across_instances(env: Env, base: int) -> None:
    env.provision("main", base)
    env.setup("rescue", base + 40, "--force")  # its CDP range lands inside main's
    code, report = doctor(env, "rescue")
    collision = finding(report, "ports/collision")
    assert code == 1 and collision["severity"] == "error"
    assert f"main (base {base}) and rescue (base {base + 40})" in collision["message"] and "CDP" in collision["message"]
    assert collision["fix"].startswith("openclaw --profile rescue config set gateway.port ")
    new_port = int(collision["fix"].rsplit(" ", 1)[1])
    env.cli("--profile", "rescue", "config", "set", "gateway.port", str(new_port), check=True)
    assert "ports/collision" not in ids(doctor(env, "rescue")[1])
    assert not doctor(env, "rescue", "--fix")[1]["fixed"]  # --fix never moves ports


def test_shared_cdp_url_and_workspace(env: Env, base: int) -> None:
    env.provision("main", base)
    env.provision("rescue", base + 200)
    for profile in ("main", "rescue"):
        env.cli("--profile", profile, "config", "set", "browser.profiles.work.cdpUrl", "http://127.0.0.1:9222",
                check=True)
    env.cli("--profile", "rescue", "config", "set", "agents.defaults.workspace",
            str(env.home / ".openclaw/workspace-main"), check=True)
    code, report = doctor(env, "main")
    assert code == 1
    pinned = finding(report, "browser/shared-cdp-url")["message"]
    assert "main and rescue both pin browser cdpUrl http://127.0.0.1:9222" in pinned
    shared = finding(report, "workspace/shared")
    assert shared["fix"] == ("openclaw --profile rescue config set agents.defaults.workspace "
                            f"{env.home}/.openclaw/workspace-rescue")


def test_stale_lock_after_kill_9_is_found_and_removed(env: Env, base: int, gateways: list[Gateway]) -> None:
    env.provision(None, base)
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    assert "locks/stale" not in ids(doctor(env)[1])  # a live gateway's lock is not stale
    gw.signal(signal.SIGKILL)
    gw.wait_exit()
    _, report = doctor(env)
    stale = [f for f in report["findings"] if f["checkId"] == "locks/stale"]
    assert {Path(f["path"]).name for f in stale} >= {"gateway.state.lock"}
    assert all(f["fixable"] for f in stale)
    _, fixed = doctor(env, None, "--fix")
    assert "locks/stale" not in ids(fixed) and not any(Path(f["path"]).exists() for f in stale)


def test_service_drift_is_fixed_by_reinstall(env: Env, base: int, tmp_path: Path) -> None:
    log = tmp_path / "sm.log"
    env.vars.update(install_fakes(tmp_path / "bin", log))
    env.vars["OPENCLAW_SYSTEMD_SYSTEM_DIRS"] = str(tmp_path / "system")
    env.provision("rescue", base)
    env.cli("--profile", "rescue", "gateway", "install", check=True)
    env.cli("--profile", "rescue", "config", "set", "gateway.port", str(base + 300), check=True)
    code, report = doctor(env, "rescue")
    drift = finding(report, "service/drift")
    assert drift["fix"] == "openclaw --profile rescue gateway install --force" and drift["fixable"]
    log.unlink()
    code, fixed = doctor(env, "rescue", "--fix")
    assert code == 0 and "service/drift" in {f["checkId"] for f in fixed["fixed"]}
    assert ["systemctl", "--user", "enable", "openclaw-gateway-rescue.service"] in calls(log)
    unit = env.home / ".config/systemd/user/openclaw-gateway-rescue.service"
    assert f"--port {base + 300}" in unit.read_text()


def test_stale_duplicate_legacy_and_foreign_services(env: Env, base: int, tmp_path: Path) -> None:
    env.vars.update(install_fakes(tmp_path / "bin", tmp_path / "sm.log"))
    system = tmp_path / "system"
    env.vars["OPENCLAW_SYSTEMD_SYSTEM_DIRS"] = str(system)
    env.provision("main", base)
    env.provision("rescue", base + 200)
    env.cli("--profile", "rescue", "gateway", "install", check=True)
    user_dir = env.home / ".config/systemd/user"
    unit = (user_dir / "openclaw-gateway-rescue.service").read_text()
    (user_dir / "openclaw-gateway-gone.service").write_text(unit.replace("rescue", "gone"))
    (user_dir / "clawdbot-gateway.service").write_text("[Service]\nExecStart=/usr/bin/clawdbot gateway --port 18789\n")
    (user_dir / "openclaw-gateway-thief.service").write_text(
        unit.replace("OPENCLAW_PROFILE=rescue", "OPENCLAW_PROFILE=thief").replace(".openclaw-rescue", ".openclaw-main"))
    system.mkdir()
    (system / "openclaw-gateway-rescue.service").write_text(unit)
    code, report = doctor(env, "rescue")
    assert code == 1
    found = ids(report)
    assert {"service/stale", "service/legacy", "service/duplicate", "state/foreign"} <= found
    stale = finding(report, "service/stale")
    assert "openclaw-gateway-gone.service" in stale["message"]
    assert stale["fix"] == ("systemctl --user disable --now openclaw-gateway-gone.service && "
                           f"rm {user_dir}/openclaw-gateway-gone.service")
    dup = [f for f in report["findings"] if f["checkId"] == "service/duplicate"]
    assert any(f["fix"].startswith("sudo systemctl disable --now openclaw-gateway-rescue.service") for f in dup)
    assert "thief" in finding(report, "state/foreign")["message"]
    text = env.cli("--profile", "rescue", "doctor").stdout
    assert "why:" in text and "fix:" in text and "finding(s)" in text


def test_state_dir_shared_by_two_services(env: Env, base: int, tmp_path: Path) -> None:
    env.vars.update(install_fakes(tmp_path / "bin", tmp_path / "sm.log"))
    env.vars["OPENCLAW_SYSTEMD_SYSTEM_DIRS"] = str(tmp_path / "system")
    env.provision("rescue", base)
    env.cli("--profile", "rescue", "gateway", "install", check=True)
    user_dir = env.home / ".config/systemd/user"
    copy = (user_dir / "openclaw-gateway-rescue.service").read_text().replace(
        "OPENCLAW_SYSTEMD_UNIT=openclaw-gateway-rescue.service", "OPENCLAW_SYSTEMD_UNIT=openclaw-gateway-copy.service")
    (user_dir / "openclaw-gateway-copy.service").write_text(copy)
    shared = finding(doctor(env, "rescue")[1], "state/shared")
    assert "openclaw-gateway-copy.service, openclaw-gateway-rescue.service" in shared["message"]
