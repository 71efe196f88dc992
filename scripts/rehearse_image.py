#!/usr/bin/env python3
"""Rehearse the Containerfile where no container engine runs: each stage's steps run in a
Debian bookworm root made with debootstrap (the base the python images are built on), then the
chosen target starts as the image would (its user, environment and entrypoint; read-only root,
a volume at /state, its own network) and must pass /startupz; the Chromium target must also
start its browser.

Said plainly, the approximation: the base is Debian's own Python 3.11 with pip allowed to
install system-wide, where the real base is python:3.12-slim-bookworm (CPython under
/usr/local). Everything else (users, paths, packages, the wheel, the environment, the
entrypoint) is the Containerfile's own.

    sudo python3 scripts/rehearse_image.py                  # the default (slim) target
    sudo python3 scripts/rehearse_image.py --target chromium
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = "python3,python3-pip,python-is-python3,passwd,ca-certificates"  # what the python image has
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Stage:
    name: str
    root: Path
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    user: str = "0:0"
    entrypoint: list[str] = field(default_factory=list)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, rest), continuation lines joined, comments dropped."""
    out, pending = [], ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def sh(argv: list[str], **kw: object) -> None:
    print("+", " ".join(shlex.quote(a) for a in argv[:8]), "..." if len(argv) > 8 else "", flush=True)
    subprocess.run(argv, check=True, **kw)  # type: ignore[call-overload]


def in_root(stage: Stage, command: str, user: str | None = None) -> None:
    """A RUN step: chroot with /proc, /dev, /sys and the host's DNS, as the stage's user."""
    r = shlex.quote(str(stage.root))
    setup = (f"mount -t proc proc {r}/proc && mount --rbind /dev {r}/dev && mount --rbind /sys {r}/sys && "
             f"cp /etc/resolv.conf {r}/etc/resolv.conf && "
             # the build host's network trust (a proxy's CA, say) for pip and apt, as a builder would use
             f"cp /etc/ssl/certs/ca-certificates.crt {r}/etc/ssl/certs/ca-certificates.crt")
    who = user or stage.user
    env = {"PATH": PATH, "HOME": "/root", "PIP_BREAK_SYSTEM_PACKAGES": "1", **stage.env}
    inner = f"cd {shlex.quote(stage.workdir)} && {command}"
    chroot = ["chroot", f"--userspec={who}", str(stage.root), "/bin/sh", "-c", inner]
    sh(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", f'{setup} && exec "$@"', "sh",
        "env", "-i", *(f"{k}={v}" for k, v in env.items()), *chroot])


def copy(stage: Stage, args: list[str], stages: dict[str, Stage]) -> None:
    source_root = REPO
    if args[0].startswith("--from="):
        source_root = stages[args.pop(0).split("=", 1)[1]].root
    *sources, dest = args
    target = stage.root / (dest if dest.startswith("/") else f"{stage.workdir}/{dest}").lstrip("/")
    for src in sources:
        origin = source_root / src.lstrip("/")
        if origin.is_dir():
            shutil.copytree(origin, target if len(sources) == 1 and not dest.endswith("/") else target / origin.name,
                            dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            target.mkdir(parents=True, exist_ok=True) if dest.endswith("/") else target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target / origin.name if dest.endswith("/") else target)


def resolve_user(stage: Stage, spec: str) -> str:
    if re.fullmatch(r"\d+(:\d+)?", spec):
        return spec if ":" in spec else f"{spec}:{spec}"
    return "0:0" if spec == "root" else spec


def build(containerfile: Path, base: Path, work: Path, target: str | None) -> Stage:
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    stage: Stage | None = None
    for word, rest in instructions(containerfile.read_text()):
        rest = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), rest)
        if word == "ARG":
            name, _, default = rest.partition("=")
            args.setdefault(name, default)
        elif word == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else f"stage{len(stages)}"
            if stage is not None and target == stage.name:
                break
            parent = stages.get(parts[0])
            root = work / name
            print(f"== stage {name} (from {parts[0]})", flush=True)
            sh(["cp", "-a", str(parent.root if parent else base), str(root)])
            stage = Stage(name, root, parent.workdir if parent else "/", dict(parent.env) if parent else {},
                          parent.user if parent else "0:0", list(parent.entrypoint) if parent else [])
            stages[name] = stage
        elif stage is None:
            raise SystemExit(f"{word} before FROM")
        elif word == "WORKDIR":
            stage.workdir = rest
            (stage.root / rest.lstrip("/")).mkdir(parents=True, exist_ok=True)
        elif word == "COPY":
            copy(stage, shlex.split(rest), stages)
        elif word == "RUN":
            in_root(stage, rest)
        elif word == "ENV":
            stage.env.update(dict(item.split("=", 1) for item in shlex.split(rest)))
        elif word == "USER":
            stage.user = resolve_user(stage, rest)
        elif word == "ENTRYPOINT":
            stage.entrypoint = json.loads(rest)
        elif word in ("VOLUME", "EXPOSE", "STOPSIGNAL", "LABEL"):
            continue
        else:
            raise SystemExit(f"this rehearsal does not know {word}")
    assert stage is not None
    if target and stage.name != target and target in stages:
        stage = stages[target]
    return stage


def run_image(stage: Stage, chromium: bool, work: Path) -> None:
    """Start the entrypoint as the image would, in its own network and mount namespace."""
    volume = work / "state"
    volume.mkdir()
    uid, gid = (int(x) for x in stage.user.split(":"))
    os.chown(volume, uid, gid)
    seed = work / "seed"
    seed.mkdir()
    config = {"gateway": {"mode": "local", "bind": "lan", "auth": {"mode": "token", "token": "${OPENCLAW_GATEWAY_TOKEN}"}},
              "browser": {"headless": True, "noSandbox": True} if chromium else {"enabled": False}}
    (seed / "openclaw.json").write_text(json.dumps(config))
    r = shlex.quote(str(stage.root))
    setup = " && ".join([
        "ip link set lo up", f"mount -t proc proc {r}/proc", f"mount --rbind /dev {r}/dev",
        f"mount --bind {shlex.quote(str(volume))} {r}/state", f"mkdir -p {r}/etc/openclaw/seed",
        f"mount --bind {shlex.quote(str(seed))} {r}/etc/openclaw/seed", f"mount -t tmpfs -o mode=1777 tmpfs {r}/tmp",
        f"mount --rbind {r} {r}", f"mount -o remount,bind,ro {r}"])  # a read-only root, as the manifests ask
    env = {"PATH": PATH, **stage.env, "HOME": "/tmp", "OPENCLAW_CONFIG_SEED": "/etc/openclaw/seed/openclaw.json",
           "OPENCLAW_GATEWAY_TOKEN": "rehearsal-token"}
    env_args = [f"{k}={v}" for k, v in env.items()]
    argv = ["unshare", "--net", "--mount", "--propagation", "private", "--", "sh", "-c", f'{setup} && exec "$@"', "sh",
            "chroot", f"--userspec={stage.user}", str(stage.root), "/usr/bin/env", "-i", *env_args, *stage.entrypoint]
    print("== running", " ".join(stage.entrypoint), "as", stage.user, flush=True)
    proc = subprocess.Popen(argv)
    try:
        def inside(*command: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["nsenter", "-t", str(proc.pid), "-n", "-m", "--", "chroot", f"--userspec={stage.user}",
                                   str(stage.root), "/usr/bin/env", "-i", *env_args, *command],
                                  capture_output=True, text=True, timeout=120)

        probe = ("import urllib.request,sys\n"
                 "try: sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:18789/startupz', timeout=2).status == 200 else 1)\n"
                 "except OSError: sys.exit(1)")
        deadline = time.monotonic() + 60
        while inside("python3", "-c", probe).returncode != 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the image's gateway did not pass /startupz")
            time.sleep(0.2)
        print("== /startupz answered 200 inside the image", flush=True)
        status = inside("openclaw", "status", "--json")
        if status.returncode != 0:
            raise SystemExit(f"openclaw status failed in the image: {status.stdout}{status.stderr}")
        print("== openclaw status reached the gateway as", stage.user, flush=True)
        if chromium:
            started = inside("openclaw", "browser", "start", "--json")
            if started.returncode != 0:
                raise SystemExit(f"the browser did not start in the image: {started.stdout}{started.stderr}")
            print("== Chromium started headless in the image:", json.loads(started.stdout).get("running"), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"== stopped (exit {proc.returncode})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("slim", "chromium"), default="slim")
    parser.add_argument("--base", type=Path, help="a bookworm root made earlier (default: debootstrap one)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (debootstrap, chroot, namespaces)")
    work = Path(tempfile.mkdtemp(prefix="oc-rehearse-"))
    try:
        base = args.base
        if base is None:
            base = work / "base"
            sh(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm", str(base), MIRROR],
               stdout=subprocess.DEVNULL)
        stage = build(REPO / "Containerfile", base, work, args.target)
        run_image(stage, args.target == "chromium", work)
        print(f"rehearsal passed: target {args.target}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
