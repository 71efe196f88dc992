"""Profiles, root flags and upstream's env projection."""

from __future__ import annotations

from pathlib import Path

import pytest

from openclaw.errors import UsageError
from openclaw.profiles.env import apply_profile_env, apply_root_options, scan_root_flags
from openclaw.profiles.names import fnv1a32, profile_default_port
from openclaw.profiles.paths import resolve_paths

HOME = "/home/u"


def project(profile: str, **env: str) -> dict[str, str]:
    out = {"HOME": HOME, **env}
    apply_profile_env(profile, out)
    return {k: v for k, v in out.items() if k != "HOME"}


def test_root_flags_anywhere_before_double_dash() -> None:
    opts = scan_root_flags(["status", "--profile", "work", "--deep"])
    assert opts.profile == "work" and opts.argv == ["status", "--deep"]
    opts = scan_root_flags(["gateway", "call", "x", "--", "--profile", "zzz"])
    assert opts.profile is None and opts.argv == ["gateway", "call", "x", "--", "--profile", "zzz"]
    opts = scan_root_flags(["--profile=ops", "status"])
    assert opts.profile == "ops"
    assert scan_root_flags(["status", "--dev"]).selected_profile == "dev"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--profile"], "--profile requires a value"),
        (["--profile", "--json"], "--profile requires a value"),
        (["--profile", "bad name!"], 'Invalid --profile (use letters, numbers, "_", "-" only)'),
        (["--profile", "-x"], "--profile requires a value"),
        (["--dev", "--profile", "work"], "Cannot combine --dev with --profile"),
        (["--profile", "work", "--dev"], "Cannot combine --dev with --profile"),
    ],
)
def test_root_flag_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=None) as info:
        scan_root_flags(argv)
    assert str(info.value) == message


def test_profile_dev_then_dev_flag_is_accepted() -> None:
    assert scan_root_flags(["--profile", "dev", "--dev"]).selected_profile == "dev"


def test_projection_empty_env() -> None:
    assert project("work") == {
        "OPENCLAW_PROFILE": "work",
        "OPENCLAW_STATE_DIR": f"{HOME}/.openclaw-work",
        "OPENCLAW_CONFIG_PATH": f"{HOME}/.openclaw-work/openclaw.json",
    }


def test_projection_keeps_custom_state_dir() -> None:
    out = project("work", OPENCLAW_STATE_DIR="/custom")
    assert out["OPENCLAW_STATE_DIR"] == "/custom"
    assert out["OPENCLAW_CONFIG_PATH"] == "/custom/openclaw.json"


def test_projection_switches_inherited_canonical_profile() -> None:
    out = project("work", OPENCLAW_PROFILE="main", OPENCLAW_STATE_DIR=f"{HOME}/.openclaw-main",
                  OPENCLAW_CONFIG_PATH=f"{HOME}/.openclaw-main/openclaw.json")
    assert out["OPENCLAW_STATE_DIR"] == f"{HOME}/.openclaw-work"
    assert out["OPENCLAW_CONFIG_PATH"] == f"{HOME}/.openclaw-work/openclaw.json"


def test_projection_from_gateway_service_env() -> None:
    out = project(
        "work",
        OPENCLAW_PROFILE="main", OPENCLAW_STATE_DIR=f"{HOME}/.openclaw-main",
        OPENCLAW_CONFIG_PATH=f"{HOME}/.openclaw-main/openclaw.json", OPENCLAW_GATEWAY_PORT="18789",
        OPENCLAW_SYSTEMD_UNIT="openclaw-gateway-main.service", OPENCLAW_SERVICE_MARKER="openclaw",
        OPENCLAW_SERVICE_KIND="gateway",
    )
    assert out["OPENCLAW_STATE_DIR"] == f"{HOME}/.openclaw-work"
    assert "OPENCLAW_CONFIG_PATH" not in out
    assert "OPENCLAW_GATEWAY_PORT" not in out
    assert "OPENCLAW_SYSTEMD_UNIT" not in out


def test_projection_keeps_custom_config_and_unit() -> None:
    out = project("work", OPENCLAW_PROFILE="main", OPENCLAW_STATE_DIR=f"{HOME}/.openclaw-main",
                  OPENCLAW_CONFIG_PATH="/srv/custom.json", OPENCLAW_SYSTEMD_UNIT="custom-gateway.service")
    assert out["OPENCLAW_STATE_DIR"] == f"{HOME}/.openclaw-work"
    assert out["OPENCLAW_CONFIG_PATH"] == "/srv/custom.json"
    assert out["OPENCLAW_SYSTEMD_UNIT"] == "custom-gateway.service"


def test_projection_keeps_node_service_selectors() -> None:
    out = project("work", OPENCLAW_PROFILE="main", OPENCLAW_STATE_DIR=f"{HOME}/.openclaw-main",
                  OPENCLAW_CONFIG_PATH=f"{HOME}/.openclaw-main/openclaw.json", OPENCLAW_GATEWAY_PORT="18789",
                  OPENCLAW_SERVICE_MARKER="openclaw", OPENCLAW_SERVICE_KIND="node")
    assert out["OPENCLAW_GATEWAY_PORT"] == "18789"


def test_projection_drops_inherited_canonical_service_names() -> None:
    out = project("work", OPENCLAW_PROFILE="main", OPENCLAW_SYSTEMD_UNIT="openclaw-gateway-main",
                  OPENCLAW_LAUNCHD_LABEL="ai.openclaw.main")
    assert "OPENCLAW_SYSTEMD_UNIT" not in out and "OPENCLAW_LAUNCHD_LABEL" not in out


def test_env_only_profile_means_the_same_as_the_flag() -> None:
    env = {"HOME": HOME, "OPENCLAW_PROFILE": "rescue"}
    apply_root_options(scan_root_flags(["status"]), env)
    paths = resolve_paths(env)
    assert paths.state_dir == Path(f"{HOME}/.openclaw-rescue")
    assert paths.config_path == Path(f"{HOME}/.openclaw-rescue/openclaw.json")


@pytest.mark.parametrize(
    ("argv", "state", "workspace"),
    [
        ([], ".openclaw", ".openclaw/workspace"),
        (["--dev"], ".openclaw-dev", ".openclaw/workspace-dev"),
        (["--profile", "rescue"], ".openclaw-rescue", ".openclaw/workspace-rescue"),
        (["--profile", "default"], ".openclaw", ".openclaw/workspace"),
    ],
)
def test_paths_per_mode(argv: list[str], state: str, workspace: str) -> None:
    env = {"HOME": HOME}
    apply_root_options(scan_root_flags(argv), env)
    paths = resolve_paths(env)
    assert paths.state_dir == Path(HOME) / state
    assert paths.config_path == Path(HOME) / state / "openclaw.json"
    assert paths.default_workspace == Path(HOME) / workspace
    assert paths.lock_dir.parent == Path(HOME) / state / "tmp"


def test_openclaw_home_wins_over_home() -> None:
    env = {"HOME": HOME, "OPENCLAW_HOME": "/srv/oc"}
    apply_root_options(scan_root_flags(["--profile", "ops"]), env)
    assert resolve_paths(env).state_dir == Path("/srv/oc/.openclaw-ops")


def test_manual_isolation_without_profile_keeps_workspace_inside_state() -> None:
    env = {"HOME": HOME, "OPENCLAW_STATE_DIR": "/srv/rescue", "OPENCLAW_CONFIG_PATH": "/srv/rescue.json"}
    paths = resolve_paths(env)
    assert paths.state_dir == Path("/srv/rescue") and paths.config_path == Path("/srv/rescue.json")
    assert paths.default_workspace == Path("/srv/rescue/workspace")


def test_profile_default_ports() -> None:
    assert profile_default_port(None) == 18789
    assert profile_default_port("dev") == 19001
    # upstream's hash port, so both CLIs agree on an unconfigured profile
    assert profile_default_port("rescue") == 23532
    assert profile_default_port("ops") == 55291
    assert fnv1a32(b"") == 0x811C9DC5


def test_cli_usage_errors_exit_2_with_one_line(env) -> None:  # type: ignore[no-untyped-def]
    for argv, message in (
        (["--dev", "--profile", "x", "status"], "Cannot combine --dev with --profile"),
        (["--profile", "no/pe", "status"], "Invalid --profile"),
    ):
        proc = env.cli(*argv)
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and lines[0].startswith("[openclaw]")


def test_cli_config_file_per_profile(env) -> None:  # type: ignore[no-untyped-def]
    home = env.home
    assert env.cli("config", "file", check=True).stdout.strip() == str(home / ".openclaw/openclaw.json")
    assert env.cli("--dev", "config", "file", check=True).stdout.strip() == str(home / ".openclaw-dev/openclaw.json")
    assert env.cli("config", "file", "--profile", "rescue", check=True).stdout.strip() == str(
        home / ".openclaw-rescue/openclaw.json"
    )
    custom = env.cli("config", "file", extra_env={"OPENCLAW_CONFIG_PATH": str(home / "x.json")}, check=True)
    assert custom.stdout.strip() == str(home / "x.json")
    assert env.cli_json("config", "file", extra_env={"OPENCLAW_PROFILE": "ops"})["path"] == str(
        home / ".openclaw-ops/openclaw.json"
    )
