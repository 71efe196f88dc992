"""Recording stand-ins for systemctl, launchctl and schtasks, put on PATH by tests.

Each records its argv (one JSON line per call) and keeps a little state so
`show` / `print` / `/Query` answer like the real tool after install, start
and stop.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

SCRIPT = r'''#!PYTHON
import json, os, sys
tool = os.path.basename(sys.argv[0])
args = sys.argv[1:]
log = os.environ["FAKE_SM_LOG"]
with open(log, "a") as fh:
    fh.write(json.dumps([tool] + args) + "\n")
state_path = log + ".state"
state = json.load(open(state_path)) if os.path.exists(state_path) else {}
def save():
    json.dump(state, open(state_path, "w"))
fail = os.environ.get("FAKE_SM_FAIL", "")
if fail and " ".join([tool] + args).startswith(fail):
    print("simulated failure", file=sys.stderr); sys.exit(1)

if tool == "systemctl":
    verb = args[1] if len(args) > 1 else ""
    unit = args[-1]
    if verb == "show-environment":
        print("HOME=/x"); sys.exit(0)
    if verb == "enable":
        state.setdefault(unit, {})["enabled"] = True
    elif verb in ("start", "restart"):
        state.setdefault(unit, {})["active"] = True
    elif verb == "stop":
        state.setdefault(unit, {})["active"] = False
    elif verb == "disable":
        state[unit] = {"enabled": False, "active": False}
    elif verb == "show":
        unit = args[2]
        s = state.get(unit, {})
        print("ActiveState=" + ("active" if s.get("active") else "inactive"))
        print("SubState=" + ("running" if s.get("active") else "dead"))
        print("MainPID=" + ("4242" if s.get("active") else "0"))
        print("UnitFileState=" + ("enabled" if s.get("enabled") else "disabled"))
        print("ExecMainStatus=0")
    save(); sys.exit(0)

if tool == "launchctl":
    verb = args[0]
    target = args[-1]
    if verb == "print":
        if target.count("/") == 1:
            sys.exit(0)
        s = state.get(target)
        if not s or not s.get("loaded"):
            print("Could not find service", file=sys.stderr); sys.exit(113)
        running = s.get("running")
        print("{\n\tstate = " + ("running" if running else "waiting") + "\n"
              + ("\tpid = 4343\n" if running else "") + "}")
        sys.exit(0)
    if verb == "bootstrap":
        label = os.path.basename(args[2])[:-6]
        state[args[1] + "/" + label] = {"loaded": True}
    elif verb == "kickstart":
        state.setdefault(target, {})["running"] = True
    elif verb == "bootout":
        state.pop(target, None)
    save(); sys.exit(0)

if tool == "schtasks":
    verb = args[0]
    name = args[args.index("/TN") + 1] if "/TN" in args else ""
    if verb == "/Query":
        if name in ("", "\\"):
            sys.exit(0)
        if name not in state:
            print("ERROR: The system cannot find the file specified.", file=sys.stderr); sys.exit(1)
        print("TaskName: \\" + name + "\nStatus: " + ("Running" if state[name].get("running") else "Ready"))
        sys.exit(0)
    if verb == "/Create":
        state[name] = {"running": False}
    elif verb == "/Run":
        state.setdefault(name, {})["running"] = True
    elif verb == "/End":
        if name in state: state[name]["running"] = False
    elif verb == "/Delete":
        state.pop(name, None)
    save(); sys.exit(0)
'''


def install_fakes(bin_dir: Path, log: Path) -> dict[str, str]:
    """Write the stand-ins; returns env additions (PATH first, the log location)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    text = SCRIPT.replace("PYTHON", sys.executable)
    for tool in ("systemctl", "launchctl", "schtasks"):
        path = bin_dir / tool
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "FAKE_SM_LOG": str(log)}


def calls(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]
