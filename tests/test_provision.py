"""The fixtures' in-process `Env.provision` leaves exactly what `openclaw setup --port` leaves."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from helpers import Env, free_base, make_env


def tree(env: Env) -> dict[str, tuple[str, str]]:
    """Every file and directory under HOME: (mode, content), the home and the token (random) masked."""
    out: dict[str, tuple[str, str]] = {}
    for path in sorted(env.home.rglob("*")):
        mode = stat.filemode(path.stat().st_mode)
        text = path.read_text() if path.is_file() else ""
        if path.name == "openclaw.json":
            data = json.loads(text)
            data["gateway"]["auth"]["token"] = "x" * len(data["gateway"]["auth"]["token"])
            text = json.dumps(data, indent=2)
        out[str(path.relative_to(env.home))] = (mode, text.replace(str(env.home), "~"))
    return out


@pytest.mark.parametrize("profile", [None, "rescue"])
def test_provision_leaves_what_setup_leaves(tmp_path: Path, profile: str | None) -> None:
    port = free_base()
    by_cli, in_process = make_env(tmp_path / "cli"), make_env(tmp_path / "direct")
    by_cli.setup(profile, port)
    in_process.provision(profile, port)
    assert tree(in_process) == tree(by_cli)
    assert in_process.provision(profile, port) == in_process.config(profile)  # a second call changes nothing
    assert tree(in_process) == tree(by_cli)


def test_set_config_writes_what_config_set_writes(tmp_path: Path) -> None:
    pairs = [("models.providers.stand", '{"baseUrl": "http://127.0.0.1:9/v1", "apiKey": "k"}'),
             ("agents.defaults.model", "stand/m1"), ("gateway.reload.mode", "off"), ("logging.level", "debug")]
    port = free_base()
    by_cli, in_process = make_env(tmp_path / "cli"), make_env(tmp_path / "direct")
    by_cli.provision(None, port)
    in_process.provision(None, port)
    for key, value in pairs:
        by_cli.cli("config", "set", key, value, check=True)
    in_process.set_config(*pairs)  # one write where the CLI made four: the backups hold different steps

    def without_backup_text(found: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        return {path: (mode, "" if path.endswith(".bak") else text) for path, (mode, text) in found.items()}

    assert without_backup_text(tree(in_process)) == without_backup_text(tree(by_cli))
