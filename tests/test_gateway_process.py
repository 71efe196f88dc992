"""Real gateway processes: isolation, locks, crashes, exit codes, signals, reload, logs."""

from __future__ import annotations

import json
import signal
import socket
import time

from helpers import Env, Gateway, handshake, healthz, http_get, wait_for

from openclaw.gateway.limits import Limits

SHORT_LOCK_WAIT = {"OPENCLAW_LOCK_TIMEOUT_MS": "600"}  # the second gateway gives up on the held lock sooner


def test_main_and_rescue_run_isolated(env: Env, base: int, gateways: list[Gateway]) -> None:
    rescue_port = base + 200
    env.provision("main", base)
    env.provision("rescue", rescue_port)
    main = env.gateway("main").start()
    rescue = env.gateway("rescue").start()
    gateways += [main, rescue]
    main.wait_healthy(base)
    rescue.wait_healthy(rescue_port)

    assert env.token("main") != env.token("rescue")
    for profile, port in (("main", base), ("rescue", rescue_port)):
        health = env.cli_json("--profile", profile, "health")
        assert health["gateway"]["profile"] == profile and health["gateway"]["port"] == port
        status = env.cli_json("--profile", profile, "status")
        assert status["status"]["gateway"]["stateDir"] == str(env.state_dir(profile))
        assert status["gateway"]["url"] == f"ws://127.0.0.1:{port}"
    # each instance keeps its own state: locks, logs, history
    for profile in ("main", "rescue"):
        state = env.state_dir(profile)
        assert list((state / "tmp").glob("openclaw-*/gateway.state.lock"))
        assert (state / "logs" / "gateway.log").exists()
        assert (state / "config-history" / "last-good.json").exists()

    listing = {i["profile"]: i for i in env.cli_json("gateways")["instances"]}
    assert listing["main"]["running"] and listing["main"]["healthy"] and listing["main"]["pid"] == main.pid
    assert listing["rescue"]["running"] and listing["rescue"]["healthy"]
    assert listing["main"]["collisions"] == [] and listing["rescue"]["collisions"] == []
    # a CLI pointed at one instance never reaches the other's token
    wrong = env.cli("--profile", "main", "health", "--url", f"ws://127.0.0.1:{rescue_port}",
                    "--token", env.token("main"))
    assert wrong.returncode == 1 and "token mismatch" in wrong.stderr


def test_second_gateway_on_same_state_dir_fails_with_lock_message(started: tuple, gateways: list[Gateway]) -> None:
    env, port, first = started
    second = env.gateway(None, "--port", str(port + 300), "--force", extra_env=SHORT_LOCK_WAIT).start()
    gateways.append(second)
    assert second.wait_exit(30) == 1
    assert f"gateway already running (pid {first.pid}); lock timeout after" in second.output()
    assert "ms" in second.output().strip().splitlines()[-1]
    assert healthz(port)


def test_multi_gateway_env_skips_only_the_config_lock(env: Env, base: int, gateways: list[Gateway]) -> None:
    env.provision(None, base)
    first = env.gateway().start()
    gateways.append(first)
    first.wait_healthy(base)
    # same config, different state dir: the config lock refuses ...
    other_state = {"OPENCLAW_STATE_DIR": str(env.root / "other-state"), "OPENCLAW_CONFIG_PATH": str(env.config_path())}
    blocked = env.gateway(None, "--port", str(base + 300), "--force",
                          extra_env={**other_state, **SHORT_LOCK_WAIT}).start()
    gateways.append(blocked)
    assert blocked.wait_exit(30) == 1
    assert f"gateway already running (pid {first.pid})" in blocked.output()
    # ... unless OPENCLAW_ALLOW_MULTI_GATEWAY=1
    allowed = env.gateway(None, "--port", str(base + 300), "--force",
                          extra_env={**other_state, "OPENCLAW_ALLOW_MULTI_GATEWAY": "1"}).start()
    gateways.append(allowed)
    allowed.wait_healthy(base + 300)


def test_kill_9_then_clean_restart(started: tuple, gateways: list[Gateway]) -> None:
    env, port, first = started
    first.signal(signal.SIGKILL)
    first.wait_exit()
    lock = next((env.state_dir() / "tmp").glob("openclaw-*/gateway.state.lock"))
    assert json.loads(lock.read_text())["pid"] == first.pid  # the stale record is still there
    again = env.gateway().start()
    gateways.append(again)
    again.wait_healthy(port)
    assert json.loads(lock.read_text())["pid"] == again.pid
    assert env.cli_json("health")["ok"] is True


def test_invalid_config_exits_78_listing_every_bad_key(env: Env, base: int) -> None:
    env.write_config({"gateway": {"mode": "local", "port": base, "prot": 1, "bind": "moon"},
                      "browser": {"cdpPortRangeStrat": 1}})
    proc = env.cli("gateway", timeout=30)
    assert proc.returncode == 78
    err = proc.stderr
    assert f"Invalid config at {env.config_path()}" in err
    assert 'gateway.prot: unknown key (did you mean "port"?)' in err
    assert "gateway.bind: must be one of" in err
    assert 'browser.cdpPortRangeStrat: unknown key (did you mean "cdpPortRangeStart"?)' in err


def test_a_changed_config_is_judged_again_after_a_good_start(env: Env, base: int) -> None:
    """A good start records its config as validated (the next start with it skips the schema);
    an edited config, or the same one resolving to other values, is still refused."""
    env.write_config({"gateway": {"mode": "local", "port": base, "bind": "${GW_BIND}"}})
    good = env.gateway(extra_env={"GW_BIND": "loopback"}).start()
    good.wait_healthy(base)
    good.stop()
    assert (env.state_dir() / "config-history" / "last-validated").is_file()
    moon = env.cli("gateway", timeout=30, extra_env={"GW_BIND": "moon"})
    assert moon.returncode == 78
    assert "gateway.bind: must be one of" in moon.stderr
    env.write_config({"gateway": {"mode": "local", "port": base, "bind": "loopback", "prot": 1}})
    typo = env.cli("gateway", timeout=30)
    assert typo.returncode == 78
    assert 'gateway.prot: unknown key (did you mean "port"?)' in typo.stderr


def test_start_guards(env: Env, base: int) -> None:
    missing = env.cli("gateway", "--port", str(base))
    assert missing.returncode == 78
    assert missing.stderr.strip() == (
        "Missing config. Run `openclaw setup` or set gateway.mode=local (or pass --allow-unconfigured)."
    )
    env.write_config({"gateway": {"port": base}}, "ops")
    no_mode = env.cli("--profile", "ops", "gateway")
    assert no_mode.returncode == 78
    assert "Gateway start blocked: existing config is missing gateway.mode" in no_mode.stderr
    assert "openclaw --profile ops setup" in no_mode.stderr
    env.write_config({"gateway": {"port": base, "mode": "remote"}}, "ops")
    remote = env.cli("--profile", "ops", "gateway")
    assert remote.returncode == 78
    assert remote.stderr.strip() == ("Gateway start blocked: set gateway.mode=local (current: remote) "
                                     "or pass --allow-unconfigured.")


def test_non_loopback_bind_without_auth_exits_78(env: Env, base: int) -> None:
    env.write_config({"gateway": {"mode": "local", "port": base, "bind": "lan", "auth": {"mode": "none"}}})
    proc = env.cli("gateway")
    assert proc.returncode == 78
    assert proc.stderr.strip().startswith(
        f"refusing to bind gateway to 0.0.0.0:{base} without auth (set gateway.auth.token/password")


def test_allow_unconfigured_starts_without_config(env: Env, base: int, gateways: list[Gateway]) -> None:
    gw = env.gateway(None, "--allow-unconfigured", "--port", str(base), "--token", "tok-123").start()
    gateways.append(gw)
    gw.wait_healthy(base)
    ws = handshake(base, "tok-123")[0]
    ws.close()


def test_start_waits_resolve_from_the_environment() -> None:
    assert (Limits().bind_retries, Limits().bind_interval_ms, Limits().lock_timeout_ms) == (20, 500, 5000)
    assert Limits.from_env({}) == Limits()
    tuned = Limits.from_env({"OPENCLAW_BIND_RETRIES": "3", "OPENCLAW_BIND_INTERVAL_MS": "200",
                             "OPENCLAW_LOCK_TIMEOUT_MS": "700"})
    assert (tuned.bind_retries, tuned.bind_interval_s, tuned.lock_timeout_s) == (3, 0.2, 0.7)
    floor = Limits.from_env({"OPENCLAW_BIND_RETRIES": "-1", "OPENCLAW_BIND_INTERVAL_MS": "0",
                             "OPENCLAW_LOCK_TIMEOUT_MS": "x"})
    assert (floor.bind_retries, floor.bind_interval_ms, floor.lock_timeout_ms) == (0, 10, 5000)


def test_port_busy_gives_exact_bind_message(env: Env, base: int) -> None:
    env.provision(None, base)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", base))
        sock.listen()
        started = time.monotonic()
        proc = env.cli("gateway", timeout=60,
                       extra_env={"OPENCLAW_BIND_RETRIES": "4", "OPENCLAW_BIND_INTERVAL_MS": "250"})
        elapsed = time.monotonic() - started
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"another gateway instance is already listening on ws://127.0.0.1:{base}"
    assert elapsed >= 0.95  # 4 retries, 250 ms apart (the defaults, 20 x 500 ms, are checked above)
    assert not list((env.state_dir() / "tmp").glob("openclaw-*/gateway.state.lock"))


def test_explicit_port_overlapping_another_instance_is_refused(env: Env, base: int) -> None:
    env.provision("main", base)
    env.provision("rescue", base + 500)
    proc = env.cli("--profile", "rescue", "gateway", "--port", str(base + 100))
    assert proc.returncode == 1
    assert "collides with another instance: main" in proc.stderr and "--force" in proc.stderr


def test_sigterm_is_graceful(started: tuple) -> None:
    env, port, gw = started
    ws = handshake(port, env.token())[0]
    gw.signal(signal.SIGTERM)
    events = []
    while True:
        msg = ws.recv(timeout=10)
        events.append(msg)
        if msg.get("event") == "shutdown":
            break
    assert events[-1]["payload"] == {"reason": "gateway stopping"}
    assert isinstance(events[-1]["seq"], int)
    assert ws.close_code() == (1012, "service restart")
    assert gw.wait_exit() == 0
    assert not list((env.state_dir() / "tmp").glob("openclaw-*/gateway.state.lock"))
    assert not any((env.root / "tmp").glob("openclaw-*/locks/*.lock"))
    assert not any((env.root / "tmp").glob("openclaw-*/gateways/*.json"))
    assert "gateway stopped" in (env.state_dir() / "logs" / "gateway.log").read_text()


def test_sigint_stops_with_exit_0(started: tuple) -> None:
    _, _, gw = started
    gw.signal(signal.SIGINT)
    assert gw.wait_exit() == 0


def test_sigusr1_restarts_in_process(started: tuple) -> None:
    env, port, gw = started
    ws = handshake(port, env.token())[0]
    boot = json.loads(http_get(port, "/startupz")[2])["uptimeMs"]
    gw.signal(signal.SIGUSR1)
    shutdown = wait_for(lambda: (m := ws.recv(timeout=10)).get("event") == "shutdown" and m, what="shutdown event")
    assert shutdown["payload"] == {"reason": "gateway restarting", "restartExpectedMs": 1500}
    assert ws.close_code()[0] == 1012
    wait_for(lambda: healthz(port), what="healthy after restart")
    assert gw.proc.poll() is None  # same process
    again = handshake(port, env.token())[0]
    again.close()
    assert json.loads(http_get(port, "/startupz")[2])["uptimeMs"] >= boot
    assert "received SIGUSR1; restarting in-process" in (env.state_dir() / "logs" / "gateway.log").read_text()


def test_last_known_good_recorded_and_rolled_back(started: tuple, gateways: list[Gateway]) -> None:
    env, port, gw = started
    good = env.config_path().read_text()
    assert (env.state_dir() / "config-history" / "last-good.json").read_text() == good
    gw.stop()
    env.config_path().write_text(good.replace('"mode": "local"', '"mode": "local", "bogus": 1'))
    assert env.cli("gateway").returncode == 78
    env.cli("config", "rollback", check=True)
    again = env.gateway().start()
    gateways.append(again)
    again.wait_healthy(port)


def test_hot_reload_valid_and_invalid_edits(started: tuple) -> None:
    env, port, gw = started
    log = env.state_dir() / "logs" / "gateway.log"
    # a valid live change (logging) applies without a restart
    data = env.config()
    data["logging"] = {"level": "debug"}
    env.write_config(data)
    wait_for(lambda: "config hot reload applied (logging.level)" in log.read_text(), what="hot reload")
    # an invalid edit is skipped and logged; the gateway keeps serving the old config
    env.config_path().write_text(json.dumps({**data, "gateway": {**data["gateway"], "port": "nope"}}))
    wait_for(lambda: "config reload skipped (invalid config)" in log.read_text(), what="invalid edit skipped")
    assert healthz(port) and gw.proc.poll() is None
    assert env.cli_json("health")["ok"] is True
    # a gateway.* change restarts in-process on the new port
    new_port = port + 300
    env.write_config({**data, "gateway": {**data["gateway"], "port": new_port}})
    wait_for(lambda: healthz(new_port), timeout=20, what="restart on the new port")
    wait_for(lambda: not healthz(port), what="old port released")
    assert gw.proc.poll() is None
    assert env.cli_json("health")["gateway"]["port"] == new_port
    lock = next((env.state_dir() / "tmp").glob("openclaw-*/gateway.state.lock"))
    assert json.loads(lock.read_text())["port"] == new_port


def test_reload_off_ignores_edits(env: Env, base: int, gateways: list[Gateway]) -> None:
    env.configured_gateway(base, gateways, gateway__reload__mode="off")
    assert env.cli_json("health")["configReload"]["hotReloadStatus"] == "disabled"
    env.cli("config", "set", "logging.level", "debug", check=True)
    health = env.cli_json("health", "--verbose")
    assert health["ok"] and "hot reload" not in (env.state_dir() / "logs" / "gateway.log").read_text()


def test_json_line_logs_and_logs_command(started: tuple) -> None:
    env, port, gw = started
    lines = (env.state_dir() / "logs" / "gateway.log").read_text().splitlines()
    first = json.loads(lines[0])
    assert set(first) >= {"time", "level", "subsystem", "message"}
    assert first["time"].endswith("Z") and "listening on" in first["message"]
    text = env.cli("logs", "--limit", "5", check=True).stdout
    assert "listening on ws://127.0.0.1" in text
    raw = env.cli("logs", "--json", "--limit", "5", check=True).stdout.strip().splitlines()
    assert all(json.loads(line)["level"] for line in raw)
    gw.stop()
    down = env.cli("logs")
    assert down.returncode == 1 and f"ws://127.0.0.1:{port}" in down.stderr
    local = env.cli("logs", "--local", check=True).stdout
    assert "gateway stopped" in local


def test_log_rotation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openclaw import logfile

    logs_dir = tmp_path / "logs"
    logfile.configure(logs_dir, logfile.level_value("info"), logfile.level_value("silent"), max_bytes=2048)
    try:
        for i in range(200):
            logfile.info(f"line {i} " + "x" * 40)
    finally:
        logfile.shutdown()
    files = sorted(p.name for p in logs_dir.iterdir())
    assert "gateway.log" in files and "gateway.log.1" in files
    assert len([f for f in files if f.startswith("gateway.log")]) <= 6
    assert all(json.loads(line) for line in (logs_dir / "gateway.log").read_text().splitlines())


def test_sigterm_while_waiting_for_the_port_exits_promptly(env: Env, base: int, gateways: list[Gateway]) -> None:
    env.provision(None, base)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", base))
        sock.listen()
        gw = env.gateway().start()
        gateways.append(gw)
        lock_dir = env.state_dir() / "tmp"
        wait_for(lambda: list(lock_dir.glob("openclaw-*/gateway.state.lock")), what="locks taken, bind retrying")
        started = time.monotonic()
        gw.signal(signal.SIGTERM)
        assert gw.wait_exit(10) == 0
        assert time.monotonic() - started < 3
    assert not list(lock_dir.glob("openclaw-*/gateway.state.lock"))


def test_deleted_config_keeps_the_running_gateway(started: tuple) -> None:
    env, port, gw = started
    log = env.state_dir() / "logs" / "gateway.log"
    env.config_path().unlink()
    wait_for(lambda: "is gone; keeping the running config" in log.read_text(), what="deletion noticed")
    assert healthz(port) and gw.proc.poll() is None
    assert "restarting" not in log.read_text()
    env.cli("config", "rollback", check=True)
    assert env.config()["gateway"]["port"] == port
