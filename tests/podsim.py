"""Run a rendered StatefulSet's pod on this machine, as close to a kubelet as a test can get.

Each pod gets its own network namespace (only loopback, brought up) and mount namespace, in
which its volumes are temp dirs bind-mounted at the manifest's mount paths (the ConfigMap and
Secret written out as files, read-only). The container's command runs with exactly the
manifest's environment (Secret and field references resolved) as the pod's user. Probes and
`kubectl exec`-like commands enter the pod's namespaces with nsenter. Needs root (unshare).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from helpers import LoggedProcess, wait_for

BIN = str(Path(sys.executable).parent)
REPO = Path(__file__).resolve().parents[1]
PATH = f"{BIN}:/usr/local/bin:/usr/bin:/bin"
POD_IP = "10.244.0.10"  # each pod's own address (on its loopback device): what Services and probes reach


def can_simulate() -> str | None:
    """Why pods cannot be simulated here, or None."""
    if os.geteuid() != 0:
        return "needs root (unshare -n -m)"
    for tool in ("unshare", "nsenter", "setpriv", "ip", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"unshare failed: {probe.stderr.strip()}"


class Objects:
    """The rendered objects, by kind and name."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def get(self, kind: str, name: str) -> dict[str, Any]:
        for doc in self.docs:
            if doc["kind"] == kind and doc["metadata"]["name"] == name:
                return doc
        raise KeyError(f"{kind}/{name} not rendered")

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]


class Pod(LoggedProcess):
    def __init__(self, sts: dict[str, Any], objects: Objects, root: Path, volumes: dict[str, Path] | None = None,
                 uid: int | None = None) -> None:
        self.sts = sts
        self.name = f"{sts['metadata']['name']}-0"
        self.namespace = sts["metadata"].get("namespace", "default")
        self.spec = sts["spec"]["template"]["spec"]
        self.container = self.spec["containers"][0]
        self.objects = objects
        self.root = root
        ctx = self.spec.get("securityContext", {})
        self.uid = ctx.get("runAsUser", 0) if uid is None else uid
        self.gid = ctx.get("runAsGroup", self.uid) if uid is None else uid
        self.fs_group = ctx.get("fsGroup") if uid is None else uid
        self.volumes = volumes if volumes is not None else {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = root / f"{self.name}.log"
        self._holds: dict[Path, Path] = {}  # code path -> where it is held while volumes cover paths
        self._covered: dict[Path, str] = {}  # code path -> the volume mount path above it

    # -- what the kubelet would prepare ------------------------------------------------------
    def env(self) -> dict[str, str]:
        out = {"PATH": PATH}
        for item in self.container.get("env", []):
            if "value" in item:
                out[item["name"]] = item["value"]
                continue
            ref = item["valueFrom"]
            if "secretKeyRef" in ref:
                secret = self.objects.get("Secret", ref["secretKeyRef"]["name"])
                out[item["name"]] = secret["stringData"][ref["secretKeyRef"]["key"]]
            elif ref.get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
                out[item["name"]] = self.namespace
            else:
                raise AssertionError(f"unsupported env source {ref}")
        return out

    def _volume_dir(self, volume: dict[str, Any]) -> Path:
        name = volume["name"]
        if name in self.volumes:  # a PersistentVolumeClaim kept across restarts
            return self.volumes[name]
        path = self.root / self.name / name
        path.mkdir(parents=True, exist_ok=True)
        if "configMap" in volume:
            data = self.objects.get("ConfigMap", volume["configMap"]["name"])["data"]
            for item in volume["configMap"]["items"]:
                (path / item["path"]).parent.mkdir(parents=True, exist_ok=True)
                (path / item["path"]).write_text(data[item["key"]])
        elif "secret" in volume:  # kubelet's layout: files in a dated folder, reached through symlinks
            data = self.objects.get("Secret", volume["secret"]["secretName"])["stringData"]
            dated = path / "..2026_12_02_00_00_00.000000001"
            dated.mkdir(exist_ok=True)
            (path / "..data").symlink_to(dated.name)
            for item in volume["secret"]["items"]:
                target = dated / item["path"]
                target.write_text(data[item["key"]])
                target.chmod(volume["secret"].get("defaultMode", 0o644))
                (path / item["path"]).symlink_to(f"..data/{item['path']}")
        self._own(path)
        self.volumes[name] = path
        return path

    def _own(self, path: Path) -> None:
        """fsGroup: the pod's group owns its volumes."""
        for p in [path, *path.rglob("*")]:
            os.chown(p, self.uid if p.is_dir() else 0, self.fs_group or 0)
        path.chmod(0o770)

    def mounts(self) -> list[tuple[Path, str, bool]]:
        by_name = {v["name"]: v for v in self.spec.get("volumes", [])}
        claims = {c["metadata"]["name"] for c in self.sts["spec"].get("volumeClaimTemplates", [])}
        out = []
        for mount in self.container.get("volumeMounts", []):
            volume = by_name.get(mount["name"]) or ({"name": mount["name"]} if mount["name"] in claims else None)
            assert volume is not None, f"volume {mount['name']} is neither in volumes nor a claim template"
            source = self._volume_dir(volume)
            if mount.get("subPath"):  # the runtime binds what the path resolves to
                source = (source / mount["subPath"]).resolve()
            out.append((source, mount["mountPath"], bool(mount.get("readOnly"))))
        return sorted(out, key=lambda m: m[1] == "/tmp")  # /tmp last: the other sources live under it

    # -- running ---------------------------------------------------------------------------------
    def _as_user(self, argv: list[str]) -> list[str]:
        """The container runtime resolves the command on the container's PATH, then execs it."""
        env = self.env()
        program = argv[0] if "/" in argv[0] else shutil.which(argv[0], path=env["PATH"])
        assert program, f"{argv[0]} is not on the pod's PATH"
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
                "env", "-i", *(f"{k}={v}" for k, v in env.items()), program, *argv[1:]]

    # -- the code: in the image it sits in site-packages; here it sits wherever this checkout,
    # its venv and its interpreter are, perhaps under directories the pod's user cannot enter
    # (pyenv under /root, a 0700 checkout) or under a path a volume covers (a checkout in /tmp).
    # Inside the pod's mount namespace only, each is shown at its own path through fresh
    # world-traversable directories, so the pod's user can run it as it would run the image's.
    def _code_view(self, mounts: list[tuple[Path, str, bool]]) -> list[str]:
        """Shell lines (run as root) before the volume mounts; `_into_volume` does the rest."""
        q = shlex.quote
        holds: dict[Path, Path] = {}
        before = []
        for i, path in enumerate(sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
                                         (REPO / "src").resolve()})):
            hold = self.root / self.name / "code" / str(i)
            hold.mkdir(parents=True, exist_ok=True)
            before.append(f"mount --bind {q(str(path))} {q(str(hold))}")
            holds[path] = hold
        covered = {path: target for path in holds for _, target, _ in mounts
                   if path == Path(target) or Path(target) in path.parents}
        tmpfs_done: set[Path] = set()
        for path, hold in holds.items():
            blocked = next((p for p in reversed(path.parents) if p != Path("/") and not p.stat().st_mode & 0o001), None)
            if path in covered or blocked is None or self.uid == 0:
                continue
            if blocked not in tmpfs_done:
                before.append(f"mount -t tmpfs -o mode=0755,size=1m tmpfs {q(str(blocked))}")
                tmpfs_done.add(blocked)
            before += [f"mkdir -p {q(str(path))}", f"mount --bind {q(str(hold))} {q(str(path))}"]
        self._holds, self._covered = holds, covered
        return before

    def _into_volume(self, source: Path, target: str) -> list[str]:
        """Code under this volume's mount path, placed into its source before the recursive bind."""
        q = shlex.quote
        lines = []
        for path, where in self._covered.items():
            if where == target:
                inside = source / path.relative_to(target)
                lines += [f"mkdir -p {q(str(inside))}", f"mount --bind {q(str(self._holds[path]))} {q(str(inside))}"]
        return lines

    def start(self) -> Pod:
        mounts = self.mounts()
        lines = ["set -e", "umask 022", "ip link set lo up", f"ip addr add {POD_IP}/32 dev lo",
                 *self._code_view(mounts)]
        for source, target, read_only in mounts:
            lines += [*self._into_volume(source, target),
                      f"mount --rbind {shlex.quote(str(source))} {shlex.quote(target)}"]
            if read_only:
                lines.append(f"mount -o remount,bind,ro {shlex.quote(target)}")
        lines.append('exec "$@"')
        argv = ["unshare", "--net", "--mount", "--propagation", "private", "--", "sh", "-c", "\n".join(lines),
                "sh", *self._as_user(self.container["command"] + self.container.get("args", []))]
        out = self.log.open("ab")
        self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def exec(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """`kubectl exec`: the pod's namespaces, user and environment."""
        return subprocess.run(["nsenter", "-t", str(self.pid), "-n", "-m", "--", *self._as_user(list(argv))],
                              capture_output=True, text=True, timeout=timeout)

    def http(self, path: str, port: int | str, host: str = "127.0.0.1") -> tuple[int, str]:
        """A GET inside the pod's network namespace: to 127.0.0.1 as `kubectl exec`/port-forward
        arrive, or to POD_IP as a probe or Service does (from an address that is not loopback)."""
        code = ("import sys,urllib.request,urllib.error\n"
                "try:\n r=urllib.request.urlopen(sys.argv[1],timeout=3); print(r.status); print(r.read().decode())\n"
                "except urllib.error.HTTPError as e: print(e.code); print(e.read().decode())\n"
                "except OSError as e: print(0); print(e)\n")
        url = f"http://{host}:{self.port(port)}{path}"
        proc = subprocess.run(["nsenter", "-t", str(self.pid), "-n", "--", sys.executable, "-c", code, url],
                              capture_output=True, text=True, timeout=15)
        status, _, body = proc.stdout.partition("\n")
        return int(status or 0), body.strip()

    def port(self, port: int | str) -> int:
        if isinstance(port, int):
            return port
        return next(p["containerPort"] for p in self.container["ports"] if p["name"] == port)

    def probe(self, kind: str) -> tuple[int, str]:
        """As the kubelet probes: the pod's address, not loopback."""
        get = self.container[kind]["httpGet"]
        return self.http(get["path"], get["port"], POD_IP)

    def wait_started(self, timeout: float = 30) -> None:
        """As the kubelet: the startup probe until it passes (or the pod dies)."""
        def started() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n{self.output()[-3000:]}")
            return self.probe("startupProbe")[0] == 200

        wait_for(started, timeout, interval=0.1, what=f"{self.name} startup probe")

    def stop(self, grace: float | None = None) -> float:
        """SIGTERM, then SIGKILL after the grace period, as the kubelet does; seconds to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        grace = float(self.spec.get("terminationGracePeriodSeconds", 30)) if grace is None else grace
        began = time.monotonic()
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait()
        return time.monotonic() - began


def load_docs(out_dir: Path) -> list[dict[str, Any]]:
    import yaml

    docs = []
    for path in sorted(out_dir.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def config_in_volume(pod: Pod) -> dict[str, Any]:
    return json.loads((pod.volumes["state"] / "openclaw.json").read_text())


class Mountpoints:
    """Empty directories at the manifests' mount paths (bind targets must exist); removed after."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        mounts = [m for sts in docs if sts["kind"] == "StatefulSet"
                  for m in sts["spec"]["template"]["spec"]["containers"][0].get("volumeMounts", [])]
        self.paths = sorted({m["mountPath"] for m in mounts})
        self.files = {m["mountPath"] for m in mounts if m.get("subPath")}  # a file's bind target is a file
        self.created: list[Path] = []

    def __enter__(self) -> Mountpoints:
        for text in self.paths:
            path = Path(text)
            missing = []
            while not path.exists():
                missing.append(path)
                path = path.parent
            for p in reversed(missing):
                if str(p) in self.files:
                    p.touch()
                else:
                    p.mkdir()
                self.created.append(p)
        return self

    def __exit__(self, *exc: object) -> None:
        for path in reversed(self.created):
            with contextlib.suppress(OSError):
                path.unlink() if str(path) in self.files else path.rmdir()
