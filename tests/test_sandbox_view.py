"""The fence's view in isolation: the mount table, Landlock's rules made from it, and the file tools'
walk through it (symlinks, `..`, folders that only lead to a given-back workspace)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openclaw.config.view import Config
from openclaw.sandbox.fsaccess import Denied, read_bytes, resolve, write_bytes
from openclaw.sandbox.hidden import Hidden
from openclaw.sandbox.landlock import READ, fs_rights
from openclaw.sandbox.lockrules import rules
from openclaw.sandbox.settings import sandbox_settings
from openclaw.sandbox.view import View, build_view


def layout(root: Path) -> tuple[Hidden, Path, Path]:
    """A HOME with two state dirs; this instance's workspace inside its own."""
    home = root / "home"
    mine, other = home / ".openclaw", home / ".openclaw-b"
    for state in (mine, other):
        (state / "credentials").mkdir(parents=True)
        (state / "openclaw.json").write_text('{"token": "t-' + state.name + '"}')
    workspace = mine / "workspace"
    workspace.mkdir()
    (home / "notes.txt").write_text("home notes")
    hidden = Hidden((mine, other), (), (), (), (), home)
    return hidden, mine, workspace


def view(root: Path, sandbox: dict | None = None, session: str = "agent:main:main", remap: bool = True) -> View:
    hidden, mine, workspace = layout(root)
    settings = sandbox_settings(Config({"agents": {"defaults": {"sandbox": sandbox or {}}}}), "main")
    return build_view(settings, hidden, mine, workspace, settings.applies_to("main", session), "main", session, remap)


def test_the_fence_hides_state_dirs_and_gives_the_workspace_back(tmp_path: Path) -> None:
    v = view(tmp_path, remap=False)
    kinds = {str(m.target): (m.kind, m.writable) for m in v.mounts}
    home = tmp_path / "home"
    assert kinds["/"] == ("bind", True)
    assert kinds[str(home / ".openclaw")][0] == kinds[str(home / ".openclaw-b")][0] == "hidden"
    assert kinds[str(home / ".openclaw/workspace")] == ("bind", True)
    assert v.mount_for(home / ".openclaw/workspace/a/b").target == home / ".openclaw/workspace"
    assert v.mount_for(home / ".openclaw/openclaw.json").kind == "hidden"


def test_with_its_own_tmp_whatever_lies_under_the_hosts_tmp_needs_no_cover(tmp_path: Path) -> None:
    v = view(tmp_path, remap=True)  # tmp_path is under /tmp here: only the workspace shows through
    tmp = next(m for m in v.mounts if m.target == Path("/tmp"))
    assert tmp.source == v.tmp and str(v.tmp).startswith(str(tmp_path / "home/.openclaw/sandboxes"))
    assert not any(m.kind == "hidden" and str(m.target).startswith("/tmp/") for m in v.mounts)
    assert v.mount_for(v.workdir).source == v.workdir


def test_the_sandbox_is_read_only_but_for_its_workspace_and_binds(tmp_path: Path) -> None:
    v = view(tmp_path, {"mode": "all", "bubblewrap": {"binds": ["/usr/share:/data", "/srv:/out:rw"]}}, remap=True)
    by_target = {m.target: m for m in v.mounts}
    assert not by_target[Path("/")].writable and by_target[v.workdir].writable
    assert not by_target[Path("/data")].writable and by_target[Path("/data")].source == Path("/usr/share")
    assert by_target[Path("/out")].writable
    ro = view(tmp_path / "ro", {"mode": "all", "workspaceAccess": "ro"})
    assert not ro.mount_for(ro.workdir).writable
    none = view(tmp_path / "none", {"mode": "all", "workspaceAccess": "none", "scope": "session"}, "agent:main:tg:1")
    assert "sandboxes/session-agent-main-tg-1-" in str(none.workdir) and none.mount_for(none.workdir).writable
    main = view(tmp_path / "nm", {"mode": "non-main"}, "agent:main:main")
    assert not main.sandboxed and view(tmp_path / "nm2", {"mode": "non-main"}, "agent:main:x").sandboxed


def test_landlock_rules_never_cover_what_is_hidden(tmp_path: Path) -> None:
    v = view(tmp_path, remap=False)
    granted = rules(v, 5)
    hidden = [m.target for m in v.mounts if m.kind == "hidden"]
    for path, _ in granted:
        for secret in hidden:
            assert not (Path(path) == secret or Path(path) in secret.parents), (path, secret)
    by_path = dict(granted)
    assert by_path[str(v.workdir)] == fs_rights(5)
    assert by_path["/proc"] == READ and by_path[str(tmp_path / "home/notes.txt")] == fs_rights(5)


def test_the_file_walk_stays_in_the_view(tmp_path: Path) -> None:
    v = view(tmp_path, remap=False)
    ws = v.workdir
    home = tmp_path / "home"
    (ws / "ok.txt").write_text("fine")
    (ws / "up").symlink_to(home / ".openclaw-b")
    (ws / "loop").symlink_to(ws / "loop")
    (ws / "home").symlink_to(home)
    assert read_bytes(v, "ok.txt", 100)[1] == b"fine"
    assert read_bytes(v, "home/notes.txt", 100)[1] == b"home notes"
    for raw in ("up/openclaw.json", "../openclaw.json", "../../.openclaw-b/openclaw.json", "/proc/self/environ",
                f"/proc/{os.getpid()}/cmdline", "/dev/zero", str(home / ".openclaw-b")):
        with pytest.raises(Denied):
            read_bytes(v, raw, 100)
    with pytest.raises(Denied, match="too many levels"):
        resolve(v, "loop/x")
    with pytest.raises(Denied, match="keeps its state"):
        write_bytes(v, str(home / ".openclaw-new/openclaw.json"), b"{}")
    assert write_bytes(v, "deep/er/new.txt", b"x") == ws / "deep/er/new.txt"
    assert (ws / "deep/er/new.txt").read_bytes() == b"x"


def test_a_symlink_placed_after_the_check_is_not_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race itself: the path resolves clean, then a folder on it becomes a link before the open."""
    import openclaw.sandbox.fsaccess as fsaccess

    v = view(tmp_path, remap=False)
    folder = v.workdir / "d"
    folder.mkdir()
    (folder / "openclaw.json").write_text("harmless")
    real_resolve = fsaccess.resolve

    def resolve_then_swap(view_: View, raw: str) -> Path:
        found = real_resolve(view_, raw)
        folder.rename(v.workdir / "d.old")
        folder.symlink_to(tmp_path / "home/.openclaw-b")
        return found

    monkeypatch.setattr(fsaccess, "resolve", resolve_then_swap)
    with pytest.raises(Denied, match="changed while it was opened"):
        read_bytes(v, "d/openclaw.json", 100)


def test_a_sandbox_passes_through_hidden_homes_to_the_workspace(tmp_path: Path) -> None:
    v = view(tmp_path, {"mode": "all"}, remap=False)
    home = tmp_path / "home"
    assert resolve(v, str(v.workdir / "x.txt")) == v.workdir / "x.txt"
    with pytest.raises(Denied, match="hidden"):
        read_bytes(v, str(home / "notes.txt"), 10)
    with pytest.raises(Denied, match="read-only"):
        write_bytes(v, "/usr/local/zz-openclaw-test", b"x")
