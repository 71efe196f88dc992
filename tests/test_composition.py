"""The gateway's composition root: every service a gateway started reports stopped, in the reverse
order of its start, on a stop and on a start that fails half way."""

from __future__ import annotations

import json
import signal

from fake_telegram import FakeTelegram, new_bot, start_with_telegram
from helpers import Env, Gateway, http_get, port_free, wait_for


def _services(env: Env) -> tuple[list[str], list[str]]:
    """(what the log says started, in order; what its one `stopped:` line names, in order)."""
    lines = [json.loads(line) for line in (env.state_dir() / "logs" / "gateway.log").read_text().splitlines()
             if line.startswith("{")]
    started = [line["message"].removeprefix("started: ") for line in lines
               if line.get("subsystem") == "services" and line["message"].startswith("started: ")]
    stopped = [line["message"].removeprefix("stopped: ").split(", ") for line in lines
               if line["message"].startswith("stopped: ")]
    assert len(stopped) == 1, stopped
    return started, stopped[0]


def _without_places(started: list[str], stopped: list[str]) -> list[str]:
    """What started, less the services made on first use that were never used (their place in the
    order is taken at start; nothing of them runs, so nothing stops)."""
    return [name for name in started if name in stopped or name not in ("browser", "agent runtime", "mcp servers")]


def test_a_stopped_gateway_stops_every_service_in_reverse(env: Env, base: int, gateways: list[Gateway],
                                                          tg: FakeTelegram) -> None:
    """No cron jobs, a Telegram channel, the Control UI served: SIGTERM stops all of it, last started first."""
    token = new_bot(tg, "composition")
    env.provision(None, base)
    env.set_config(("logging.level", '"debug"'))
    gw = start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root})
    wait_for(lambda: env.cli_json("channels", "status")["channels"]["telegram"]["running"],
             what="the Telegram channel running")
    status, _, body = http_get(base, "/")
    assert status == 200 and b"<html" in body.lower()  # the Control UI
    gw.signal(signal.SIGTERM)
    assert gw.wait_exit(timeout=30) == 0
    started, stopped = _services(env)
    assert {"message dispatcher", "channels", "server", "config watcher"} <= set(stopped), stopped
    assert "cron scheduler" not in started  # no jobs: no scheduler
    assert stopped == list(reversed(_without_places(started, stopped))), (started, stopped)


def test_a_start_failing_half_way_stops_what_it_started(env: Env, base: int, gateways: list[Gateway],
                                                       tg: FakeTelegram) -> None:
    """The cron store cannot be read (a folder where jobs.json goes): the server, the channels and the
    dispatcher had started; each stops, in reverse, and the ports are free."""
    token = new_bot(tg, "composition_half")
    env.provision(None, base)
    env.set_config(("logging.level", '"debug"'),
                   ("channels.telegram", json.dumps({"botToken": token, "apiRoot": tg.api_root})))
    (env.state_dir() / "cron" / "jobs.json").mkdir(parents=True)
    gw = env.gateway().start()
    gateways.append(gw)
    assert gw.wait_exit(timeout=30) == 1
    started, stopped = _services(env)
    assert {"message dispatcher", "channels", "server"} <= set(stopped), stopped
    assert stopped == list(reversed(_without_places(started, stopped))), (started, stopped)
    assert all(port_free(p) for p in (base, base + 2, base + 4))
