"""The wheel the Containerfile builds (`pip wheel .`) carries every file of the package: the
Control UI's assets and upstream's key tree are data files, not modules, and an image without
them would start a gateway with no page."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_holds_every_package_file(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                            "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("openclaw_python-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    src = REPO / "src"
    expected = {p.relative_to(src).as_posix() for p in (src / "openclaw").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}
    assert expected - names == set()
    assert any(n.endswith("entry_points.txt") for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "openclaw = openclaw.cli.main:main" in zipfile.ZipFile(wheel).read(entry).decode()
