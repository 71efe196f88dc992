"""No instance serves or writes another instance's state dir; interrupted writes leave nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from helpers import PY, Env, Gateway, handshake, http_get, wait_for


def two_instances(env: Env, base: int) -> None:
    env.provision(None, base)
    env.provision("rescue", base + 200)


def test_config_set_refuses_paths_into_state_dirs(env: Env, base: int) -> None:
    two_instances(env, base)
    before = env.config_path().read_text()
    rescue = str(env.state_dir("rescue"))
    for key, value in (("canvasHost.root", rescue), ("canvasHost.root", f"{rescue}/credentials"),
                       ("canvasHost.root", str(env.state_dir())), ("agents.defaults.workspace", "~"),
                       ("agents.defaults.workspace", f"{env.state_dir()}/agents")):
        proc = env.cli("config", "set", key, value)
        assert proc.returncode == 78, (key, value, proc.stdout, proc.stderr)
        assert f"{key}: " in proc.stderr and "state dir" in proc.stderr and "Nothing was written" in proc.stderr
    assert env.config_path().read_text() == before
    # a workspace folder inside ~/.openclaw is by design, and so is the canvas inside it
    env.cli("config", "set", "canvasHost.root", f"{env.state_dir()}/workspace/canvas", check=True)


def test_symlinks_are_followed(env: Env, base: int, tmp_path: Path) -> None:
    two_instances(env, base)
    link = tmp_path / "innocent"
    link.symlink_to(env.state_dir("rescue"))
    proc = env.cli("config", "set", "canvasHost.root", str(link))
    assert proc.returncode == 78 and "is inside the state dir" in proc.stderr


def test_gateway_refuses_to_start_and_doctor_reports(env: Env, base: int) -> None:
    two_instances(env, base)
    data = env.config()
    data["canvasHost"] = {"root": str(env.state_dir("rescue"))}
    env.write_config(data)
    gw = env.gateway().start()
    assert gw.wait_exit(20) == 78
    assert "canvasHost.root" in gw.output() and "is inside the state dir" in gw.output()
    report = json.loads(env.cli("doctor", "--json").stdout)
    found = [f for f in report["findings"] if f["checkId"] == "isolation/state-dir"]
    assert len(found) == 1 and found[0]["severity"] == "error" and "canvasHost.root" in found[0]["message"]
    assert found[0]["fix"] == "openclaw config unset canvasHost.root"


def test_rpc_config_patch_is_refused(env: Env, base: int, gateways: list[Gateway]) -> None:
    two_instances(env, base)
    gateways.append(env.gateway().start().wait_healthy(base))
    ws, _ = handshake(base, env.token(), scopes=["operator.admin"])
    current = ws.request("config.get", {}, req_id="g")["payload"]
    raw = json.dumps({"canvasHost": {"root": str(env.state_dir("rescue"))}})
    res = ws.request("config.patch", {"raw": raw, "baseHash": current["hash"]}, req_id="p")
    assert res["error"]["code"] == "INVALID_REQUEST"
    assert res["error"]["message"].startswith("invalid config: canvasHost.root: ")
    assert res["error"]["details"]["issues"][0]["path"] == "canvasHost.root"
    assert "canvasHost" not in env.config()
    ws.close()


def test_canvas_never_serves_dotfiles_or_secrets(env: Env, base: int, gateways: list[Gateway]) -> None:
    env.provision(None, base)
    gateways.append(env.gateway().start().wait_healthy(base))
    root = env.home / ".openclaw" / "workspace" / "canvas"
    wait_for(lambda: (root / "index.html").exists(), what="starter page")
    (root / ".git").mkdir()
    for name in (".env", ".git/config", "openclaw.json", "openclaw.json.bak", "server.key", "page.html"):
        (root / name).write_text("secret" if name != "page.html" else "<p>hi</p>")
    for port, prefix in ((base + 4, ""), (base, "/__openclaw__/canvas")):
        for name in (".env", ".git/config", "openclaw.json", "openclaw.json.bak", "server.key"):
            status, _, body = http_get(port, f"{prefix}/{name}")
            assert status == 404 and b"secret" not in body, (port, name)
        assert http_get(port, f"{prefix}/page.html")[0] == 200


def test_leftover_temp_files_are_found_and_removed(env: Env, base: int) -> None:
    env.provision(None, base)
    state = env.state_dir()
    # a writer killed mid-write: its temp file (holding the token) stays behind
    writer = subprocess.Popen([PY, "-c", (
        "import os, sys, time; path = sys.argv[1]; "
        "open(f'{path}/.openclaw.json.{os.getpid()}.1.tmp', 'w').write(open(f'{path}/openclaw.json').read()); "
        "print('ready', flush=True); time.sleep(600)"), str(state)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    leftover = state / f".openclaw.json.{writer.pid}.1.tmp"
    assert leftover.exists()
    alive = json.loads(env.cli("doctor", "--json").stdout)
    assert not [f for f in alive["findings"] if f["checkId"] == "files/leftover-temp"]  # its writer still runs
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    report = json.loads(env.cli("doctor", "--json").stdout)
    found = [f for f in report["findings"] if f["checkId"] == "files/leftover-temp"]
    assert [f["path"] for f in found] == [str(leftover)] and found[0]["fixable"]
    env.cli("doctor", "--fix")
    assert not leftover.exists()
    # the next write of the file removes them too
    other = state / ".openclaw.json.bak.999999999.5.tmp"
    other.write_text("old token")
    env.cli("config", "set", "logging.level", "debug", check=True)
    assert not other.exists()
    assert sorted(p.name for p in state.iterdir() if p.name.endswith(".tmp")) == []


def test_setup_and_onboard_refuse_a_workspace_in_a_state_dir(env: Env, base: int) -> None:
    env.provision("rescue", base + 200)
    proc = env.cli("setup", "--port", str(base), "--workspace", str(env.state_dir("rescue")))
    assert proc.returncode == 78 and "agents.defaults.workspace" in proc.stderr
    assert not env.config_path().exists()
