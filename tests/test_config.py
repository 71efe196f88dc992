"""Config: JSON5, validation with hints, env substitution, safe writes, the `config` commands."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import PY, Env, Gateway, wait_for

from openclaw.config.history import record_last_good
from openclaw.config.store import read_config, update_config, write_config
from openclaw.errors import ConfigError, OpenClawError

JSON5_TEXT = """
// a comment, trailing commas and unquoted keys
{
  gateway: { mode: 'local', port: 19789, auth: { mode: 'token', token: '${TEST_TOKEN}' }, },
  wizard: { lastRunAt: '2026-01-01' },   // upstream section we do not own
}
"""


def test_json5_env_substitution_and_unknown_sections(tmp_path: Path) -> None:
    path = tmp_path / "openclaw.json"
    path.write_text(JSON5_TEXT)
    snap = read_config(path, {"TEST_TOKEN": "s3cret"})
    assert snap.valid, snap.issues
    assert snap.resolved["gateway"]["auth"]["token"] == "s3cret"
    assert snap.data["gateway"]["auth"]["token"] == "${TEST_TOKEN}"
    assert snap.view().gateway_port == 19789
    assert snap.resolved["wizard"] == {"lastRunAt": "2026-01-01"}


def test_missing_env_var_and_escape(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"gateway": {"auth": {"token": "${NOPE_NOT_SET}"}}, "env": {"vars": {"A": "$${LITERAL}"}}}')
    snap = read_config(path, {})
    assert [str(i) for i in snap.issues] == ["gateway.auth.token: environment variable NOPE_NOT_SET is not set"]
    assert snap.resolved["env"]["vars"]["A"] == "${LITERAL}"


def test_env_vars_section_feeds_substitution(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"env": {"vars": {"MY_PORTLESS": "x1"}}, '
                    '"agents": {"defaults": {"workspace": "/w/${MY_PORTLESS}"}}}')
    assert read_config(path, {}).resolved["agents"]["defaults"]["workspace"] == "/w/x1"


def test_validation_lists_every_bad_key_with_hints(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({
        "gateway": {"prot": 1, "bind": "everywhere", "auth": {"mode": "tokn"}},
        "browser": {"profiles": {"work": {"cdpPrt": 9222}}},
        "agents": {"defaults": {"model": {"primry": "x"}}},
        "canvasHost": {"port": "abc"},
    }))
    issues = {i.path: i.message for i in read_config(path, {}).issues}
    assert issues["gateway.prot"] == 'unknown key (did you mean "port"?)'
    assert issues["gateway.bind"].startswith("must be one of")
    assert issues["gateway.auth.mode"].startswith("must be one of")
    assert issues["browser.profiles.work.cdpPrt"] == 'unknown key (did you mean "cdpPort"?)'
    assert "agents.defaults.model.primry" in issues
    assert issues["canvasHost.port"] == "expected an integer (got 'abc')"


def test_parse_error_is_an_issue(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{ gateway: ")
    snap = read_config(path, {})
    assert not snap.valid and snap.issues[0].path == "<file>"


def test_atomic_write_backup_permissions_and_symlink(tmp_path: Path) -> None:
    state = tmp_path / "state"
    path = state / "openclaw.json"
    write_config(path, {"gateway": {"port": 1}})
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_config(path, {"gateway": {"port": 2}})
    assert json.loads((state / "openclaw.json.bak").read_text()) == {"gateway": {"port": 1}}
    assert stat.S_IMODE((state / "openclaw.json.bak").stat().st_mode) == 0o600
    assert not [p for p in state.iterdir() if p.name.endswith(".tmp")]
    link = tmp_path / "link.json"
    link.symlink_to(path)
    with pytest.raises(OpenClawError, match="symlink"):
        write_config(link, {"gateway": {"port": 3}})
    assert json.loads(path.read_text()) == {"gateway": {"port": 2}}


def test_update_refuses_invalid_result_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "openclaw.json"
    write_config(path, {"gateway": {"port": 1}})
    before = path.read_text()
    with pytest.raises(ConfigError, match=r"gateway\.port"):
        update_config(path, lambda d: d["gateway"].update(port="nope"), {})
    assert path.read_text() == before


def test_unknown_top_level_sections_survive_writes(env: Env) -> None:
    env.write_config({"gateway": {"mode": "local"}, "meta": {"lastTouchedVersion": "2026.9.6"},
                      "plugins": {"entries": {"browser": {"enabled": True}}}})
    env.cli("config", "set", "gateway.port", "19789", check=True)
    data = env.config()
    assert data["meta"] == {"lastTouchedVersion": "2026.9.6"}
    assert data["plugins"] == {"entries": {"browser": {"enabled": True}}}
    assert data["gateway"]["port"] == 19789
    # a key upstream knows is kept even where we do not use it; a key nobody knows is a typo
    env.cli("config", "set", "channels.discord.enabled", "true", check=True)
    assert env.config()["channels"]["discord"] == {"enabled": True}
    bad = env.cli("config", "set", "gateway.bindd", "loopback")
    assert bad.returncode == 78 and 'gateway.bindd: unknown key (did you mean "bind"?)' in bad.stderr
    bad = env.cli("config", "set", "agents.entries.main.identty", '{"name": "x"}')
    assert bad.returncode == 78 and 'agents.entries.main.identty: unknown key (did you mean "identity"?)' in bad.stderr


def test_config_commands(env: Env) -> None:
    env.write_config({"gateway": {"mode": "local", "auth": {"token": "abc"}}})
    proc = env.cli("config", "set", "gateway.port", "19789", check=True)
    assert proc.stdout.startswith("Updated ") and "restarts itself" in proc.stdout
    assert env.cli("config", "get", "gateway.port", check=True).stdout.strip() == "19789"
    assert env.cli("config", "get", "gateway.auth.token", check=True).stdout.strip() == "__OPENCLAW_REDACTED__"
    assert json.loads(env.cli("config", "get", "gateway", check=True).stdout)["port"] == 19789
    env.cli("config", "set", "logging.level", "debug", check=True)
    assert env.config()["logging"]["level"] == "debug"
    assert "without restarting" in env.cli("config", "set", "logging.level", "info", check=True).stdout
    assert env.cli("config", "set", "logging.level", "info", check=True).stdout.strip() == "No change"
    env.cli("config", "set", "agents.list[0]", '{id: "main", default: true}', check=True)
    assert env.config()["agents"]["list"] == [{"id": "main", "default": True}]
    env.cli("config", "unset", "agents", check=True)
    assert "agents" not in env.config()

    missing = env.cli("config", "get", "nope.nothing")
    assert missing.returncode == 1 and missing.stderr.strip() == "Config path not found: nope.nothing"
    before = env.config_path().read_text()
    gone = env.cli("config", "unset", "nope")
    assert gone.returncode == 1 and "Config path not found: nope" in gone.stderr
    assert env.config_path().read_text() == before

    bad = env.cli("config", "set", "gateway.bind", "everywhere")
    assert bad.returncode == 78 and "gateway.bind" in bad.stderr and "Nothing was written" in bad.stderr
    assert env.config_path().read_text() == before
    strict = env.cli("config", "set", "gateway.mode", "local", "--strict-json")
    assert strict.returncode == 1 and "not valid JSON" in strict.stderr


def test_config_validate(env: Env) -> None:
    env.write_config({"gateway": {"mode": "local"}, "wizard": {}})
    ok = env.cli("config", "validate", check=True)
    assert "Config valid" in ok.stdout and "wizard" in ok.stdout
    env.write_config({"gateway": {"mdoe": "local", "port": 0}})
    bad = env.cli("config", "validate")
    assert bad.returncode == 78
    assert 'gateway.mdoe: unknown key (did you mean "mode"?)' in bad.stderr and "gateway.port" in bad.stderr
    report = json.loads(env.cli("config", "validate", "--json").stdout)
    assert report["valid"] is False and {i["path"] for i in report["issues"]} == {"gateway.mdoe", "gateway.port"}


def test_twenty_concurrent_config_sets_lose_nothing(env: Env) -> None:
    env.write_config({"gateway": {"mode": "local"}})
    procs = [
        subprocess.Popen([PY, "-m", "openclaw", "config", "set", f"env.vars.K{i}", f"v{i}"], env=env.vars,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(20)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    assert env.config()["env"]["vars"] == {f"K{i}": f"v{i}" for i in range(20)}


def test_rollback_restores_last_known_good(env: Env) -> None:
    env.write_config({"gateway": {"mode": "local", "port": 19789}})
    none_yet = env.cli("config", "rollback")
    assert none_yet.returncode == 1 and "No last-known-good config recorded" in none_yet.stderr
    good = env.config_path().read_text()
    record_last_good(env.state_dir() / "config-history", env.config_path(), good)
    env.config_path().write_text('{"gateway": {"mode": "local", "port": "broken"}}')
    proc = env.cli("config", "rollback", check=True)
    assert "Restored the config the gateway last started with (the last-known-good" in proc.stdout
    assert "changed back: gateway.port" in proc.stdout
    assert env.config_path().read_text() == good
    assert "broken" in (env.state_dir() / "openclaw.json.bak").read_text()
    again = env.cli("config", "rollback", check=True).stdout
    assert again.startswith("Nothing to roll back: the config already matches the one the gateway last started with")


def test_rollback_after_a_live_edit_undoes_it(started: tuple[Env, int, Gateway]) -> None:
    """An edit the running gateway applied live is not a new last-known-good: rollback takes it back."""
    env, _, gw = started
    at_start = env.config_path().read_text()
    log = env.state_dir() / "logs" / "gateway.log"
    env.cli("config", "set", "logging.level", "debug", check=True)
    wait_for(lambda: "config hot reload applied (logging.level)" in log.read_text(), what="the edit applied live")
    assert (env.state_dir() / "config-history" / "last-good.json").read_text() == at_start
    rolled = env.cli_json("config", "rollback")
    assert rolled["restored"] and rolled["changedPaths"] == ["logging.level"]
    assert env.config_path().read_text() == at_start
    wait_for(lambda: log.read_text().count("config hot reload applied (logging.level)") == 2, what="rollback applied")
    assert "Nothing to roll back" in env.cli("config", "rollback", check=True).stdout
    assert gw.proc is not None and gw.proc.poll() is None


def test_json_failure_envelope(env: Env) -> None:
    proc = env.cli("config", "get", "x.y", "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {"ok": False,
                                       "error": {"type": "cli_error", "message": "Config path not found: x.y"}}


def test_write_lock_file_is_beside_the_config(env: Env) -> None:
    env.write_config({})
    env.cli("config", "set", "gateway.mode", "local", check=True)
    assert (env.state_dir() / ".openclaw.json.lock").exists()
    assert os.access(env.config_path(), os.R_OK)
    assert sys.version_info >= (3, 11)


RECORDED_READ = """
import json, sys
from pathlib import Path
from openclaw.config.store import read_config
path, record = Path(sys.argv[1]), Path(sys.argv[2])
snap = read_config(path, {"GW_BIND": sys.argv[3]}, valid_record=record)
print(json.dumps({"issues": [str(i) for i in snap.issues], "schemaLoaded": "pydantic" in sys.modules}))
"""


def test_a_config_that_passed_is_not_validated_again_until_it_changes(tmp_path: Path) -> None:
    """The record of the last config that passed lets an unchanged one skip the schema (and
    pydantic's import) at start; an edit, or the same text resolving to other values, validates."""
    path, record = tmp_path / "openclaw.json", tmp_path / "config-history" / "last-validated"
    path.write_text(json.dumps({"gateway": {"mode": "local", "port": 19789, "bind": "${GW_BIND}"}}))

    def read(bind: str) -> dict:
        out = subprocess.run([PY, "-c", RECORDED_READ, str(path), str(record), bind], capture_output=True,
                             text=True, check=True)
        return json.loads(out.stdout)

    assert read("loopback") == {"issues": [], "schemaLoaded": True}
    key = record.read_text()
    assert read("loopback") == {"issues": [], "schemaLoaded": False}
    moon = read("moon")  # same text, another value: judged again, and the record keeps the good key
    assert moon["schemaLoaded"] and any(i.startswith("gateway.bind: must be one of") for i in moon["issues"])
    assert record.read_text() == key
    path.write_text(json.dumps({"gateway": {"mode": "local", "port": 19789, "bind": "${GW_BIND}", "prot": 1}}))
    typo = read("loopback")
    assert typo["schemaLoaded"] and 'gateway.prot: unknown key (did you mean "port"?)' in typo["issues"]
    record.write_text("not a key\n")  # a foreign or damaged record only costs a validation
    path.write_text(json.dumps({"gateway": {"mode": "local", "port": 19789, "bind": "${GW_BIND}"}}))
    assert read("loopback") == {"issues": [], "schemaLoaded": True}
    assert record.read_text() == key
