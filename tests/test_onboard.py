"""`openclaw onboard`: the wizard through a real pseudo-terminal, and --non-interactive."""

from __future__ import annotations

import json
from pathlib import Path

import pexpect
import pytest
from fake_managers import calls, install_fakes
from helpers import PY, Env, Gateway

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
    proposed = plan_base(discover_instances(env.home, env.vars), listening_ports(), start=base + 20).base
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
    child.expect("Model provider:")
    child.send(ENTER)  # anthropic
    child.expect_exact("anthropic/claude-sonnet-4-5")
    child.send(CLEAR + "openai/gpt-5" + ENTER)  # another provider's model: the prompt refuses it
    child.expect("start with anthropic/")
    child.send(CLEAR + "anthropic/claude-opus-4-1" + ENTER)
    child.expect("anthropic API key")
    child.send("sk-ant-wizard" + ENTER)
    child.expect("Telegram bot token")
    child.send("12345:rescue-token" + ENTER)
    child.expect("Telegram user ids")
    child.send("abc" + ENTER)  # not an id: the prompt refuses it
    child.expect("numeric Telegram user ids")
    child.send(CLEAR + "42, tg:77" + ENTER)
    child.expect("Discord bot token")
    child.send("MTA0000000000000000000042.GhIjKl.wizard-discord-token-xyz" + ENTER)
    child.expect("Discord user ids")
    child.send("alice" + ENTER)  # not an id: the prompt refuses it
    child.expect("Discord user ids are numbers")
    child.send(CLEAR + "<@300000000000000001>" + ENTER)
    child.expect("Slack bot token")
    child.send("xapp-1-A0-wrong-kind" + ENTER)  # the app-level token where the bot token goes: refused
    child.expect("botToken holds an app-level token")
    child.send(CLEAR + "xoxb-1-wizard-bot" + ENTER)
    child.expect("Slack app-level token")
    child.send(ENTER)  # Socket Mode needs both
    child.expect("Slack needs this token too")
    child.send("xoxb-2-not-an-app-token" + ENTER)
    child.expect("Socket Mode needs the app-level token")
    child.send(CLEAR + "xapp-1-A0-wizard-app" + ENTER)
    child.expect("Slack member ids")
    child.send("alice" + ENTER)  # a name, not a member id: refused
    child.expect("Slack member ids look like U012AB3CD")
    child.send(CLEAR + "<@U012AB3CD>, slack:W0ABCDEF1" + ENTER)
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
    assert cfg["channels"]["discord"] == {"token": "MTA0000000000000000000042.GhIjKl.wizard-discord-token-xyz",
                                          "dmPolicy": "pairing", "allowFrom": ["300000000000000001"]}
    assert cfg["channels"]["slack"] == {"enabled": True, "botToken": "xoxb-1-wizard-bot",
                                        "appToken": "xapp-1-A0-wizard-app", "dmPolicy": "pairing",
                                        "allowFrom": ["U012AB3CD", "W0ABCDEF1"]}
    assert cfg["agents"]["defaults"]["model"] == "anthropic/claude-opus-4-1"
    assert cfg["models"]["providers"]["anthropic"] == {"apiKey": "sk-ant-wizard"}


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
                         ("Model provider:", DOWN * 5 + ENTER), ("Telegram bot token", ENTER),
                         ("Discord bot token", ENTER), ("Slack bot token", ENTER), ("Write this configuration", "n")):
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


def test_non_interactive_channel_flags_and_refusals(env: Env, base: int) -> None:
    env.setup("chat", base + 300)
    old_file = env.root / "old-bot-token"
    old_file.write_text("xoxb-old\n")
    env.set_config(("channels.slack.botTokenFile", str(old_file)), profile="chat")
    refusals = [
        (["--slack-bot-token", "xoxb-1"], "Slack needs --slack-app-token too"),
        (["--slack-app-token", "xapp-1"], "Slack needs --slack-bot-token too"),
        (["--slack-bot-token", "xapp-1", "--slack-app-token", "xapp-2"],
         "--slack-bot-token: botToken holds an app-level token (xapp-); it takes the bot token (xoxb-)"),
        (["--slack-bot-token", "xoxb-1", "--slack-app-token", "app-1"],
         "--slack-app-token: appToken does not start with xapp-"),
        (["--slack-bot-token", "xoxb-1", "--slack-app-token", "xapp-1", "--slack-allow-from", "alice"],
         "Slack member ids look like U012AB3CD"),
        (["--slack-allow-from", "U012AB3CD"], "--slack-allow-from needs --slack-bot-token"),
        (["--discord-allow-from", "300000000000000001"], "--discord-allow-from needs --discord-token"),
    ]
    before = env.config_path("chat").read_bytes()
    for flags, message in refusals:
        proc = env.cli("--profile", "chat", "onboard", "--non-interactive", *flags)
        assert proc.returncode == 2 and message in proc.stderr, (flags, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert env.config_path("chat").read_bytes() == before
    result = env.cli_json("--profile", "chat", "onboard", "--non-interactive",
                          "--slack-bot-token", "xoxb-2-flags", "--slack-app-token", "xapp-1-A0-flags",
                          "--slack-allow-from", "U012AB3CD,user:U0ZZZZZZ9", "--discord-token", "MTA.flags.dc",
                          "--discord-allow-from", "300000000000000001")
    assert result["channels"] == {"discord": "saved", "slack": "saved"}
    channels = env.config("chat")["channels"]
    assert channels["slack"] == {"enabled": True, "botToken": "xoxb-2-flags", "appToken": "xapp-1-A0-flags",
                                 "dmPolicy": "pairing", "allowFrom": ["U012AB3CD", "U0ZZZZZZ9"]}  # the file is gone
    assert channels["discord"] == {"token": "MTA.flags.dc", "dmPolicy": "pairing",
                                   "allowFrom": ["300000000000000001"]}
    text = env.cli("--profile", "chat", "onboard", "--non-interactive", check=True).stdout
    assert text.count("configured already (kept as it was") == 2 and "Telegram:  not configured" in text
    assert env.config("chat")["channels"] == channels


def test_non_interactive_model_choices(env: Env, base: int) -> None:
    def onboard(profile: str, *flags: str, extra_env: dict[str, str] | None = None) -> dict:
        return env.cli_json("--profile", profile, "onboard", "--non-interactive", "--accept-risk",
                            "--gateway-port", str(base + 200 * len(profile)), *flags, extra_env=extra_env)

    # upstream's rescue one-liner: --auth-choice apiKey with an Anthropic key
    result = onboard("a", "--auth-choice", "apiKey", "--anthropic-api-key", "sk-ant-1")
    assert result["model"] == {"ref": "anthropic/claude-sonnet-4-5", "provider": "anthropic",
                               "key": "key saved in the config"}
    assert env.config("a")["models"]["providers"]["anthropic"]["apiKey"] == "sk-ant-1"
    status = env.cli_json("--profile", "a", "models", "status")
    assert status["default"]["model"] == "anthropic/claude-sonnet-4-5" and status["default"]["keyPresent"]
    # the key stays in the environment: the config holds only a reference
    onboard("bb", "--model", "openai/gpt-5-mini", "--secret-input-mode", "ref", extra_env={"OPENAI_API_KEY": "sk-o"})
    cfg = env.config("bb")
    assert cfg["agents"]["defaults"]["model"] == "openai/gpt-5-mini"
    assert cfg["models"]["providers"]["openai"]["apiKey"] == {"source": "env", "id": "OPENAI_API_KEY"}
    assert "sk-o" not in env.config_path("bb").read_text()
    # a custom OpenAI-compatible endpoint
    onboard("ccc", "--custom-base-url", "http://127.0.0.1:9/v1/", "--custom-model-id", "qwen3",
            "--custom-provider-id", "vllm")
    cfg = env.config("ccc")
    assert cfg["agents"]["defaults"]["model"] == "vllm/qwen3"
    assert cfg["models"]["providers"]["vllm"] == {"baseUrl": "http://127.0.0.1:9/v1", "api": "openai-completions",
                                                  "models": [{"id": "qwen3", "name": "qwen3"}]}
    # ollama needs no key
    assert onboard("dddd", "--auth-choice", "ollama")["model"]["key"] == "no key needed"
    for flags, message in (
        (["--model", "gpt-5"], "write it as provider/model"),
        (["--openai-api-key", "a", "--anthropic-api-key", "b"], "pick one with --auth-choice"),
        (["--auth-choice", "gemini-api-key"], "--auth-choice gemini-api-key: use one of"),
        (["--custom-base-url", "http://x/v1"], "needs --custom-base-url and --custom-model-id"),
    ):
        proc = env.cli("--profile", "bad", "onboard", "--non-interactive", *flags)
        assert proc.returncode == 2 and message in proc.stderr, (flags, proc.stderr)
        assert not env.config_path("bad").exists()


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


def test_onboard_on_a_running_gateway_says_so(env: Env, base: int, gateways: list[Gateway]) -> None:
    """Re-running onboard beside a running gateway does not tell you to start it again: it says the
    gateway runs and picks the config up itself, or, with hot reload off, how to restart it."""
    env.setup("ops", base)
    gw = env.gateway("ops").start()
    gateways.append(gw)
    gw.wait_healthy(base)
    text = env.cli("--profile", "ops", "onboard", "--non-interactive", check=True).stdout
    assert f"Gateway:   running (pid {gw.pid}, port {base}); it applies this config by itself" in text
    nexts = text.split("Next:")[1].split()
    assert "gateway" not in nexts and nexts[:3] == ["openclaw", "--profile", "ops"] and nexts[3] == "status"
    assert gw.stop() == 0
    env.cli("--profile", "ops", "config", "set", "gateway.reload.mode", "off", check=True)
    gw = env.gateway("ops").start()
    gateways.append(gw)
    gw.wait_healthy(base)
    result = env.cli_json("--profile", "ops", "onboard", "--non-interactive")
    assert result["running"] == {"pid": gw.pid, "port": base, "applies": "restart"}
    assert result["next"][:2] == [f"kill -USR1 {gw.pid}", "openclaw --profile ops status"]
    assert gw.stop() == 0
    stopped = env.cli_json("--profile", "ops", "onboard", "--non-interactive")
    assert stopped["running"] is None and stopped["next"][0] == "openclaw --profile ops gateway"
