"""`openclaw onboard`: the wizard through a real pseudo-terminal, and --non-interactive."""

from __future__ import annotations

import json
from pathlib import Path

import pexpect
import pytest
from fake_managers import calls, install_fakes
from helpers import PY, Env

from openclaw.ports.instances import discover_instances
from openclaw.ports.planner import plan_base
from openclaw.ports.sockets import listening_ports

CLEAR = "\x15"  # Ctrl-U: clear the prefilled default
DOWN, ENTER = "\x1b[B", "\r"


def wizard(env: Env, *args: str) -> pexpect.spawn:
    return pexpect.spawn(PY, ["-m", "openclaw", *args, "onboard"], env={**env.vars, "TERM": "xterm"},
                         encoding="utf-8", timeout=20, dimensions=(50, 160))


def _footprint(base: int) -> set[int]:
    return {base, base + 2, base + 4, *range(base + 11, base + 111)}


def test_wizard_for_rescue_beside_main(env: Env, base: int) -> None:
    env.setup(None, base)  # the default (main) instance
    child = wizard(env, "--profile", "rescue")
    child.expect("Agent workspace:")
    child.expect_exact("~/.openclaw/workspace-rescue")
    child.send(ENTER)
    child.expect(r"Gateway base port:")
    proposed = plan_base(discover_instances(env.home), listening_ports(), start=base + 20).base
    child.expect_exact(str(proposed))  # the prefilled default is the planner's choice
    assert proposed >= base + 20 and not _footprint(proposed) & _footprint(base)
    child.send(CLEAR + str(base + 50) + ENTER)  # overlaps main: the prompt refuses it
    child.expect("overlaps default")
    child.send(CLEAR + ENTER)
    child.expect("enter a port")
    child.send(str(proposed) + ENTER)
    child.expect("Gateway bind:")
    child.send(ENTER)
    child.expect("Gateway auth:")
    child.send(ENTER)  # token
    child.expect("Gateway token")
    child.send(ENTER)  # generate one
    child.expect("Telegram bot token")
    child.send("12345:rescue-token" + ENTER)
    child.expect("Telegram user ids")
    child.send("abc" + ENTER)  # not an id: the prompt refuses it
    child.expect("numeric Telegram user ids")
    child.send(CLEAR + "42, tg:77" + ENTER)
    child.expect("Service: skipped")
    child.expect("Write this configuration")
    child.send("y")
    child.expect("Next:")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    cfg = env.config("rescue")
    assert cfg["gateway"]["port"] == proposed and cfg["gateway"]["mode"] == "local"
    assert cfg["gateway"]["bind"] == "loopback" and len(cfg["gateway"]["auth"]["token"]) >= 32
    assert cfg["agents"]["defaults"]["workspace"] == str(env.home / ".openclaw/workspace-rescue")
    assert (env.home / ".openclaw/workspace-rescue/SOUL.md").exists()
    assert env.token("rescue") != env.token()
    assert cfg["channels"]["telegram"] == {"botToken": "12345:rescue-token", "dmPolicy": "pairing",
                                           "allowFrom": ["42", "77"]}


def test_ctrl_c_leaves_nothing(env: Env) -> None:
    child = wizard(env, "--profile", "ops")
    child.expect("Agent workspace:")
    child.send(ENTER)
    child.expect("Gateway base port:")
    child.send(ENTER)
    child.expect("Gateway bind:")
    child.sendcontrol("c")
    child.expect("nothing was written")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert not env.state_dir("ops").exists()
    assert not (env.home / ".openclaw/workspace-ops").exists()


def test_declining_the_review_writes_nothing(env: Env) -> None:
    child = wizard(env, "--profile", "ops")
    for prompt, keys in (("Agent workspace:", ENTER), ("Gateway base port:", ENTER), ("Gateway bind:", DOWN + ENTER),
                         ("Gateway auth:", DOWN + ENTER), ("Gateway password:", "pw" + ENTER),
                         ("Telegram bot token", ENTER), ("Write this configuration", "n")):
        child.expect(prompt)
        child.send(keys)
    child.expect("Nothing was written")
    child.expect(pexpect.EOF)
    assert not env.config_path("ops").exists()


def test_non_interactive_rescue_beside_main_with_service(env: Env, base: int, tmp_path: Path) -> None:
    env.setup(None, base)
    log = tmp_path / "sm.log"
    env.vars.update(install_fakes(tmp_path / "bin", log))
    result = env.cli_json("--profile", "rescue", "onboard", "--non-interactive", "--install-daemon",
                          "--gateway-token", "tok-rescue-123", "--telegram-token", "999:rescue",
                          "--telegram-allow-from", "4242")
    assert result["profile"] == "rescue" and result["configStatus"] == "created"
    port = result["port"]
    assert port >= base + 20 and not _footprint(port) & _footprint(base)
    assert result["workspaceDir"] == str(env.home / ".openclaw/workspace-rescue")
    assert result["service"]["name"] == "openclaw-gateway-rescue.service" and result["service"]["installed"]
    assert ["systemctl", "--user", "enable", "openclaw-gateway-rescue.service"] in calls(log)
    unit = (env.home / ".config/systemd/user/openclaw-gateway-rescue.service").read_text()
    assert f"--port {port}" in unit and "tok-rescue-123" not in unit
    assert env.token("rescue") == "tok-rescue-123"
    telegram = env.config("rescue")["channels"]["telegram"]
    assert telegram == {"botToken": "999:rescue", "dmPolicy": "pairing", "allowFrom": ["4242"]}
    assert "999:rescue" not in unit  # the bot token stays in the config, never in the service file
    assert result["next"][0] == "openclaw --profile rescue gateway status"
    assert result["serviceName"] == "openclaw-gateway-rescue.service"


def test_non_interactive_flags_and_refusals(env: Env, base: int) -> None:
    env.setup(None, base)
    ok = env.cli_json("--profile", "ops", "onboard", "--non-interactive", "--gateway-port", str(base + 500),
                      "--gateway-bind", "lan", "--gateway-auth", "password", "--gateway-password", "pw1",
                      "--workspace", str(env.root / "ws-ops"))
    assert ok["port"] == base + 500 and ok["bind"] == "lan" and ok["auth"] == "password"
    assert env.config("ops")["gateway"]["auth"] == {"mode": "password", "password": "pw1"}
    cases = [
        (["--gateway-bind", "lan", "--gateway-auth", "none"], 2, "only allowed with --gateway-bind loopback"),
        (["--gateway-auth", "password"], 2, "needs --gateway-password"),
        (["--gateway-port", str(base + 30)], 1, "overlaps default"),
        (["--install-daemon"], 1, "cannot install the service: no service manager here"),
    ]
    for flags, code, message in cases:
        proc = env.cli("--profile", "other", "onboard", "--non-interactive", *flags)
        assert proc.returncode == code, (flags, proc.stderr)
        assert message in proc.stderr
        assert not env.config_path("other").exists()
    forced = env.cli("--profile", "other", "onboard", "--non-interactive", "--gateway-port", str(base + 30), "--force")
    assert forced.returncode == 0


def test_needs_a_terminal_without_non_interactive(env: Env) -> None:
    proc = env.cli("--profile", "ops", "onboard", input="")
    assert proc.returncode == 2 and "use --non-interactive" in proc.stderr


def test_rerun_keeps_port_and_token(env: Env, base: int) -> None:
    first = env.cli_json("--profile", "ops", "onboard", "--non-interactive", "--gateway-port", str(base))
    token = env.token("ops")
    again = env.cli_json("--profile", "ops", "onboard", "--non-interactive")
    assert again["port"] == first["port"] == base and env.token("ops") == token
    assert json.loads(env.config_path("ops").read_text())["gateway"]["mode"] == "local"


@pytest.fixture(autouse=True)
def _pexpect_available() -> None:
    assert pexpect.__version__
