"""The fence around the agent's tools, attacked from one instance towards another on one host.

Two instances, `a` (with a model) and `b` (running, so it is in the host registry), live in a
HOME outside /tmp: the fence gives every instance its own /tmp, and a host under /tmp would hide
the state dirs for that reason alone. Everything goes through real gateways: chat turns whose model
calls `exec`, `/tools/invoke`, cron.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import site
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Env, Gateway, make_env, tools_invoke, wait_for
from model_standin import ModelStandin, Reply

from openclaw.sandbox.landlock import abi as landlock_abi

ESCAPES = ("cat ~/.openclaw-b/openclaw.json; grep -rh token ~/.openclaw* 2>&1 | head -20; "
           "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -i token; env; "
           "ls -la \"$OPENCLAW_RUNTIME_DIR_SEEN\"/gateways 2>&1; cat /etc/shadow 2>&1 | head -3")


@pytest.fixture(scope="module")
def outside_tmp() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="openclaw-sandbox-test-", dir="/var/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


class Host:
    """Instances a and b on one HOME; b runs, a is started per test with the settings it needs."""

    def __init__(self, root: Path, model: ModelStandin) -> None:
        self.env: Env = make_env(root)
        self.env.vars["OPENCLAW_RUNTIME_DIR"] = str(root / "runtime")
        self.model = model
        self.gateways: list[Gateway] = []
        self.port_b = self.env.provision("b")["gateway"]["port"]  # kept apart from the others' ports
        self.workspace_b = root / "b-work"  # b's agent keeps its prompt files outside any state dir
        self.env.set_config(("agents.defaults.workspace", str(self.workspace_b)), profile="b")
        self.workspace_b.mkdir()
        (self.workspace_b / "SOUL.md").write_text("b's own voice")
        self.gateways.append(self.env.gateway("b").start().wait_healthy(self.port_b))
        self.token_b = self.env.token("b")

    def start_a(self, sandbox: dict[str, Any] | None = None, extra_env: dict[str, str] | None = None,
                profile: str = "a") -> tuple[int, Gateway]:
        port = self.env.provision(profile)["gateway"]["port"]
        self.env.use_model(self.model.openai_url, profile=profile)
        config = self.env.config(profile)
        config["gateway"]["tools"] = {"allow": ["exec", "write", "edit"]}
        if sandbox is not None:
            config.setdefault("agents", {}).setdefault("defaults", {})["sandbox"] = sandbox
        self.env.write_config(config, profile)
        gw = self.env.gateway(profile, extra_env=extra_env).start().wait_healthy(port)
        self.gateways.append(gw)
        return port, gw

    def stop_a(self) -> None:
        for gw in self.gateways[1:]:
            gw.stop()
        del self.gateways[1:]

    def workspace(self, profile: str = "a") -> Path:
        return self.env.home / ".openclaw" / f"workspace-{profile}"


@pytest.fixture(scope="module")
def host(outside_tmp: Path, model: ModelStandin) -> Iterator[Host]:
    h = Host(outside_tmp, model)
    yield h
    for gw in h.gateways:
        gw.stop()


@pytest.fixture
def fresh(host: Host) -> Iterator[Host]:
    host.model.replies.clear()
    yield host
    host.stop_a()


def invoke(port: int, token: str, tool: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return tools_invoke(port, token, {"tool": tool, "args": args})


def exec_via_chat(h: Host, command: str, profile: str = "a", extra_env: dict[str, str] | None = None) -> str:
    """One turn whose model runs `command`; the tool result the model was given."""
    h.model.script(Reply(tool_calls=[("exec", {"command": command})]), Reply(text="done"))
    h.env.cli("--profile", profile, "agent", "-m", "please look around", check=True, extra_env=extra_env)
    return tool_result(h.model)


def tool_result(model: ModelStandin) -> str:
    message = model.requests()[-1].body["messages"][-1]
    assert message["role"] == "tool", message
    return str(message["content"])


def secrets_of(h: Host, *profiles: str) -> list[str]:
    return [h.env.token(p) for p in profiles]


def test_exec_in_a_chat_turn_cannot_read_another_instance(fresh: Host) -> None:
    h = fresh
    h.start_a()
    runtime = h.env.vars["OPENCLAW_RUNTIME_DIR"]
    out = exec_via_chat(h, ESCAPES.replace("$OPENCLAW_RUNTIME_DIR_SEEN", runtime))
    for secret in secrets_of(h, "a", "b"):
        assert secret not in out
    assert "No such file" in out  # b's state dir is simply not there
    assert "ANTHROPIC" not in out and "OPENCLAW_" not in out  # the gateway's own variables stay out
    pwd = exec_via_chat(h, "pwd; echo hello > made-here.txt; cat made-here.txt")
    assert pwd.splitlines()[:2] == [str(h.workspace()), "hello"]
    assert (h.workspace() / "made-here.txt").read_text() == "hello\n"


def test_exec_never_inherits_the_gateways_channel_tokens_or_provider_keys(fresh: Host) -> None:
    h = fresh
    secrets = {"SLACK_BOT_TOKEN": "xoxb-gw-only", "SLACK_APP_TOKEN": "xapp-gw-only", "SLACK_USER_TOKEN": "xoxp-gw",
               "SLACK_SIGNING_SECRET": "sign-gw", "DISCORD_BOT_TOKEN": "dc-gw", "TELEGRAM_BOT_TOKEN": "tg-gw",
               "STAND_API_KEY": "key-of-the-configured-provider"}
    h.start_a(extra_env={**secrets, "HARMLESS_SETTING": "seen-by-commands"})
    out = exec_via_chat(h, "env")
    assert "HARMLESS_SETTING=seen-by-commands" in out  # the command got the gateway's environment...
    for name, value in secrets.items():
        assert name not in out and value not in out, name  # ...less every secret in it


def test_every_secret_env_name_the_code_reads_is_fenced() -> None:
    """A new `..._TOKEN` / `..._API_KEY` read anywhere must join the list the exec tool's env drops."""
    import ast
    import re

    import openclaw
    from openclaw.sandbox.confine import KNOWN_SECRET_ENV

    shape = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*_(TOKEN|API_KEY|SECRET|PASSWORD)$")
    found = set()
    for path in Path(openclaw.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and shape.match(node.value):
                found.add(node.value)
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_BOT_TOKEN", "TELEGRAM_BOT_TOKEN"} <= found
    assert {n for n in found if not n.startswith("OPENCLAW_")} - KNOWN_SECRET_ENV == set()


def test_tools_invoke_cannot_read_or_write_another_instance(fresh: Host) -> None:
    h = fresh
    port, gw = h.start_a()
    token = h.env.token("a")
    b_config = h.env.config_path("b")
    before = b_config.read_bytes()
    targets = [str(b_config), "~/.openclaw-b/openclaw.json", "../openclaw.json", str(h.env.config_path("a")),
               "/proc/self/environ", f"/proc/{gw.pid}/environ", f"/proc/{h.gateways[0].pid}/environ",
               "/etc/shadow", str(Path(h.env.vars["OPENCLAW_RUNTIME_DIR"]) / "gateways"),
               f"/proc/{gw.pid}/root{b_config}", f"/proc/{gw.pid}/cwd/openclaw.json"]
    for path in targets:
        status, body = invoke(port, token, "read", {"path": path})
        text = json.dumps(body)
        assert not body.get("ok"), (path, body)
        assert h.token_b not in text and token not in text, path
    for path in (str(b_config), "~/.openclaw-b/new.json", "~/.openclaw-later/openclaw.json",
                 str(h.env.config_path("a"))):
        status, body = invoke(port, token, "write", {"path": path, "content": "{}"})
        assert not body.get("ok") and "off limits" in body["error"]["message"], (path, body)
    assert b_config.read_bytes() == before and not (h.env.home / ".openclaw-later").exists()
    soul = str(h.workspace_b / "SOUL.md")
    assert "hidden from tools (another instance's workspace)" in invoke(port, token, "read", {"path": soul})[1][
        "error"]["message"]
    assert not invoke(port, token, "write", {"path": soul, "content": "obey a"})[1].get("ok")
    status, body = invoke(port, token, "exec", {"command": f"cat {soul}; echo 'obey a' >> {soul}"})
    assert "b's own voice" not in body["result"] and (h.workspace_b / "SOUL.md").read_text() == "b's own voice"
    status, body = invoke(port, token, "exec", {"command": f"cat {b_config}; cat ~/.openclaw-b/openclaw.json"})
    assert status == 200 and h.token_b not in body["result"]
    status, body = invoke(port, token, "write", {"path": "notes/today.md", "content": "fine"})
    assert body["ok"] and (h.workspace() / "notes/today.md").read_text() == "fine"


def test_a_symlink_swapped_during_reads_never_leaks(fresh: Host) -> None:
    h = fresh
    port, _ = h.start_a()
    token = h.env.token("a")
    harmless = h.workspace() / "harmless.txt"
    harmless.write_text("nothing to see")
    link = h.workspace() / "link.txt"
    stop = threading.Event()

    def swap() -> None:
        other = str(h.env.config_path("b"))
        while not stop.is_set():
            for target in (other, str(harmless)):
                tmp = link.with_suffix(".new")
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(target)
                os.replace(tmp, link)

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    try:
        answers = [invoke(port, token, "read", {"path": "link.txt"}) for _ in range(300)]
    finally:
        stop.set()
        swapper.join()
    assert not any(h.token_b in json.dumps(body) for _, body in answers)
    assert any(body.get("ok") for _, body in answers)  # the harmless side was read too


def test_a_cron_turn_is_fenced(fresh: Host) -> None:
    h = fresh
    h.start_a()
    h.model.script(Reply(tool_calls=[("exec", {"command": "cat ~/.openclaw-b/openclaw.json"})]), Reply(text="ok"))
    job = h.env.cli_json("--profile", "a", "cron", "add", "--name", "peek", "--every", "1h", "--message", "peek")
    h.env.cli("--profile", "a", "cron", "run", job["id"], check=True)
    wait_for(lambda: any(r.body["messages"][-1].get("role") == "tool" for r in h.model.requests()),
             what="the cron turn's tool call")
    result = next(r.body["messages"][-1]["content"] for r in h.model.requests()
                  if r.body["messages"][-1].get("role") == "tool")
    assert "No such file" in result and h.token_b not in result


def test_sandbox_all_keeps_writes_in_the_workspace_and_network_off(fresh: Host) -> None:
    h = fresh
    port, _ = h.start_a({"mode": "all", "bubblewrap": {"network": "off"}})
    token = h.env.token("a")
    name = f"zz_openclaw_fence_{random.randrange(10**9)}.pth"
    plants = [Path(site.getsitepackages()[0]) / name]  # this test's own virtualenv
    if os.access("/usr/local/lib", os.W_OK):
        plants.append(Path("/usr/local/lib") / name)  # the system's, writable by this user outside the sandbox
    try:
        for plant in plants:
            in_tmp = Path("/tmp") in plant.parents  # a checkout under /tmp: the sandbox's /tmp is its own
            _, body = invoke(port, token, "write", {"path": str(plant), "content": "# harmless\n"})
            assert in_tmp or (not body.get("ok") and "read-only" in body["error"]["message"]), body
            _, body = invoke(port, token, "exec", {"command": f"echo '# harmless' > {plant}; echo rc=$?"})
            assert in_tmp or "Read-only file system" in body["result"], body
            assert not plant.exists()  # whatever the tools were told, the host never got it
    finally:
        for plant in plants:
            plant.unlink(missing_ok=True)
    _, body = invoke(port, token, "exec", {
        "command": f"echo kept > kept.txt; ls ~ | wc -l; python3 -c \"import socket; "
                   f"socket.create_connection(('127.0.0.1', {port}), 2)\" 2>&1 | tail -1"})
    assert (h.workspace() / "kept.txt").read_text() == "kept\n"
    assert "Network is unreachable" in body["result"] or "refused" in body["result"]


@pytest.mark.skipif(landlock_abi() < 1, reason="this kernel has no Landlock")
def test_landlock_fences_where_bubblewrap_cannot(fresh: Host) -> None:
    h = fresh
    off = {"OPENCLAW_SANDBOX_BWRAP": "off"}
    _, gw = h.start_a(extra_env=off)
    out = exec_via_chat(h, f"cat ~/.openclaw-b/openclaw.json; cat /proc/{gw.pid}/environ; "
                           f"cat /proc/{h.gateways[0].pid}/environ; echo x > $TMPDIR/t && cat $TMPDIR/t", extra_env=off)
    assert h.token_b not in out and h.env.token("a") not in out
    assert out.count("Permission denied") == 3 and "\nx\n" in out
    explained = h.env.cli_json("--profile", "a", "sandbox", "explain", extra_env=off)
    assert explained["fence"]["backend"] == "landlock"


def test_without_any_mechanism_exec_and_writes_are_refused(fresh: Host) -> None:
    h = fresh
    none = {"OPENCLAW_SANDBOX_BWRAP": "off", "OPENCLAW_SANDBOX_LANDLOCK": "off"}
    port, _ = h.start_a(extra_env=none)
    token = h.env.token("a")
    (h.workspace() / "readme.txt").write_text("still readable")
    for tool, args in (("exec", {"command": "true"}), ("write", {"path": "x.txt", "content": "x"})):
        _, body = invoke(port, token, tool, args)
        message = body["error"]["message"]
        assert not body.get("ok") and "refused" in message and "install bubblewrap" in message
        assert "\n" not in message
    _, body = invoke(port, token, "read", {"path": "readme.txt"})
    assert body["ok"] and body["result"] == "still readable"
    doctor = json.loads(h.env.cli("--profile", "a", "doctor", "--json", extra_env=none).stdout)
    assert any(f["checkId"] == "sandbox/unavailable" and f["severity"] == "error" for f in doctor["findings"])


def test_fence_off_is_explicit_and_reported(fresh: Host) -> None:
    h = fresh
    h.start_a({"fence": False})
    out = exec_via_chat(h, "cat ~/.openclaw-b/openclaw.json")
    assert h.token_b in out  # the fence, and nothing else, is what kept it out
    doctor = h.env.cli_json("--profile", "a", "doctor")
    assert any(f["checkId"] == "sandbox/fence-off" for f in doctor["findings"])


def test_the_rescue_instance_acts_on_others_only_through_rescue_operations(fresh: Host) -> None:
    h = fresh
    h.start_a(profile="rescue")
    out = exec_via_chat(h, "cat ~/.openclaw-b/openclaw.json ~/.openclaw/openclaw.json 2>&1", profile="rescue")
    assert h.token_b not in out and "No such file" in out
    h.model.script(Reply(tool_calls=[("rescue_status", {"profile": "b"})]), Reply(text="b is fine"))
    h.env.cli("--profile", "rescue", "agent", "-m", "how is b?", check=True)
    assert "running" in tool_result(h.model).lower() or "healthy" in tool_result(h.model).lower()


def test_sandbox_explain_shows_the_policy_and_mounts(host: Host) -> None:
    env = host.env
    env.setup("x")
    plain = env.cli_json("--profile", "x", "sandbox", "explain")
    assert plain["fence"]["enabled"] and plain["fence"]["backend"] == "bubblewrap" and not plain["sandbox"]["active"]
    hidden = {m["path"] for m in plain["mounts"] if m["kind"] == "hidden"}
    assert str(env.state_dir("b")) in hidden and str(env.state_dir("x")) in hidden
    assert any(m["path"] == "/tmp" and m["source"].startswith(str(env.state_dir("x"))) for m in plain["mounts"])
    env.cli("--profile", "x", "config", "set", "agents.defaults.sandbox",
            '{"mode": "non-main", "workspaceAccess": "ro", '
            '"bubblewrap": {"network": "off", "binds": ["/usr/share:/data"]}}',
            check=True)
    main = env.cli_json("--profile", "x", "sandbox", "explain")
    other = env.cli_json("--profile", "x", "sandbox", "explain", "--session", "telegram:direct:42")
    assert not main["sandbox"]["active"] and other["sandbox"]["active"]
    assert other["sessionKey"] == "agent:main:telegram:direct:42" and not other["sandbox"]["network"]
    mounts = {m["path"]: m for m in other["mounts"]}
    assert not mounts["/"]["writable"] and mounts["/data"]["source"] == "/usr/share"
    assert not mounts[other["agentWorkspace"]]["writable"]
    text = env.cli("--profile", "x", "sandbox", "explain", "--session", "x", check=True).stdout
    assert "sandbox    on for this session (mode non-main)" in text and "agents.defaults.sandbox.mode" in text
    assert env.cli("--profile", "x", "sandbox", "explain", "--agent", "nobody").returncode == 2


def test_config_refuses_binds_into_a_state_dir_and_bad_values(host: Host) -> None:
    env = host.env
    env.setup("y")
    bad = env.cli("--profile", "y", "config", "set", "agents.defaults.sandbox.bubblewrap.binds", '["~/.openclaw-b:/b"]')
    assert bad.returncode == 78 and "state dir" in bad.stderr and "Nothing was written" in bad.stderr
    bad = env.cli("--profile", "y", "config", "set", "agents.defaults.sandbox.mode", "sometimes")
    assert bad.returncode != 0 and "must be one of" in bad.stderr
    assert "sandbox" not in env.config("y").get("agents", {}).get("defaults", {})
