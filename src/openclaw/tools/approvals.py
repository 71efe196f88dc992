"""Exec approvals: the policy upstream keeps in `state/openclaw.sqlite` (`exec_approvals_config`), and
the requests an `exec` call waits on until an operator resolves them (`exec.approval.resolve`).

The policy document is upstream's (`{version, socket?, defaults: {security, ask, askFallback},
agents: {<id>: {security?, ask?, askFallback?, allowlist: [{pattern}]}}}`). With no document stored
the exec tool runs as it always did; with one, `security` (deny | allowlist | full) and `ask`
(off | on-miss | always) decide, and a request nobody answers within the wait falls back to
`askFallback`. Pending requests live in memory (bounded); operators hear of them through the
`exec.approval.requested` / `exec.approval.resolved` events the gateway publishes.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import shlex
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.stores.globaldb import global_db, state_db_path
from openclaw.tools.approval_events import publisher

CONFIG_KEY = "current"
MAX_PENDING = 64  # requests waiting at once; more are refused (the fallback decides)
DEFAULT_WAIT_S = 120.0  # how long an exec call waits for an operator
DECISIONS = ("allow-once", "allow-always", "deny")
SECURITY = ("deny", "allowlist", "full")
ASK = ("off", "on-miss", "always")
DDL = """
CREATE TABLE IF NOT EXISTS exec_approvals_config (
  config_key TEXT NOT NULL PRIMARY KEY,
  raw_json TEXT NOT NULL,
  socket_path TEXT,
  has_socket_token INTEGER NOT NULL,
  default_security TEXT,
  default_ask TEXT,
  default_ask_fallback TEXT,
  auto_allow_skills INTEGER,
  agent_count INTEGER NOT NULL,
  allowlist_count INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT;
"""

class ApprovalsChanged(Exception):
    """The stored document changed since the caller read it (its `baseHash` is stale)."""


@dataclass(frozen=True)
class Policy:
    security: str
    ask: str
    ask_fallback: str
    allowlist: tuple[str, ...]

    def allowlisted(self, command: str) -> bool:
        """The command's program (its first word, by name or path) matches an allowlist pattern."""
        try:
            words = shlex.split(command)
        except ValueError:
            return False
        if not words:
            return False
        program = words[0]
        return any(fnmatch.fnmatch(program, p) or fnmatch.fnmatch(program.rsplit("/", 1)[-1], p)
                   or fnmatch.fnmatch(command, p) for p in self.allowlist)


@dataclass
class Pending:
    id: str
    request: dict[str, Any]
    created_at_ms: int
    expires_at_ms: int
    decided: asyncio.Future[str] = field(repr=False, default_factory=lambda: asyncio.get_running_loop().create_future())

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "request": self.request, "createdAtMs": self.created_at_ms,
                "expiresAtMs": self.expires_at_ms}


def _hash(raw: str | None) -> str:
    return f"missing:{hashlib.sha256(b'').hexdigest()}" if raw is None else hashlib.sha256(raw.encode()).hexdigest()


def _now_ms() -> int:
    return int(time.time() * 1000)


class ExecApprovals:
    """One state dir's approval policy and pending requests."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.pending: dict[str, Pending] = {}
        self.wait_s = DEFAULT_WAIT_S

    @property
    def display_path(self) -> str:
        return f"{state_db_path(self.state_dir)}#exec_approvals_config"

    # -- the stored document ------------------------------------------------------------------
    async def snapshot(self) -> dict[str, Any]:
        """`{path, exists, hash, file}` as upstream answers `exec.approvals.get` (socket token left out)."""
        raw = await self._read_raw()
        file: dict[str, Any] = _parse(raw) if raw is not None else {"version": 1, "agents": {}}
        socket = file.get("socket")
        if isinstance(socket, dict):
            file = {**file, "socket": {k: v for k, v in socket.items() if k != "token"}}
        return {"path": self.display_path, "exists": raw is not None, "hash": _hash(raw), "file": file}

    async def replace(self, file: dict[str, Any], base_hash: str | None) -> dict[str, Any]:
        """Store `file` if the stored one still hashes to `base_hash`; raises ApprovalsChanged if not."""
        normalized = normalize(file)

        def write(db: sqlite3.Connection) -> bool:
            global_db(self.state_dir).ensure(db, "exec_approvals_config", DDL)
            with db:
                row = db.execute("SELECT raw_json FROM exec_approvals_config WHERE config_key=?",
                                 (CONFIG_KEY,)).fetchone()
                current = row[0] if row else None
                if base_hash is not None and base_hash != _hash(current):
                    return False
                if current is not None:  # keep the socket settings another client stored
                    kept = _parse(current).get("socket")
                    if kept and "socket" not in file:
                        normalized["socket"] = kept
                db.execute(_UPSERT, (CONFIG_KEY, json.dumps(normalized, indent=2) + "\n", *_projection(normalized),
                                     _now_ms()))
                return True

        if not await global_db(self.state_dir).run(write):
            raise ApprovalsChanged("exec approvals changed since they were read; reload and try again")
        return await self.snapshot()

    async def policy(self, agent_id: str) -> Policy | None:
        """The policy for `agent_id`, or None when no document is stored (exec runs unasked)."""
        raw = await self._read_raw()
        if raw is None:
            return None
        file = _parse(raw)
        defaults = file.get("defaults") or {}
        agent = (file.get("agents") or {}).get(agent_id) or {}

        def pick(key: str, allowed: tuple[str, ...], fallback: str) -> str:
            value = agent.get(key, defaults.get(key, fallback))
            return value if value in allowed else fallback

        allowlist = tuple(str(e.get("pattern")) for e in agent.get("allowlist") or []
                          if isinstance(e, dict) and e.get("pattern"))
        return Policy(pick("security", SECURITY, "deny"), pick("ask", ASK, "off"),
                      pick("askFallback", SECURITY, "deny"), allowlist)

    async def allow_always(self, agent_id: str, command: str) -> None:
        """Add the command's program to the agent's allowlist (an `allow-always` decision)."""
        snap = await self.snapshot()
        file = snap["file"]
        agents = dict(file.get("agents") or {})
        entry = dict(agents.get(agent_id) or {})
        pattern = (shlex.split(command) or [command])[0]
        listed = list(entry.get("allowlist") or [])
        if not any(isinstance(e, dict) and e.get("pattern") == pattern for e in listed):
            listed.append({"id": str(uuid.uuid4()), "pattern": pattern, "lastUsedAt": _now_ms()})
        entry["allowlist"] = listed
        agents[agent_id] = entry
        await self.replace({**file, "agents": agents}, None)

    async def _read_raw(self) -> str | None:
        if not state_db_path(self.state_dir).exists():
            return None  # nothing stored, and nothing created just to read

        def read(db: sqlite3.Connection) -> str | None:
            global_db(self.state_dir).ensure(db, "exec_approvals_config", DDL)
            row = db.execute("SELECT raw_json FROM exec_approvals_config WHERE config_key=?", (CONFIG_KEY,)).fetchone()
            return str(row[0]) if row else None

        return await global_db(self.state_dir).run(read)

    # -- pending requests ---------------------------------------------------------------------
    def open_request(self, request: dict[str, Any], wait_s: float | None = None) -> Pending | None:
        """A new pending request (announced to operators), or None when too many wait already."""
        self._expire()
        if len(self.pending) >= MAX_PENDING:
            return None
        now = _now_ms()
        allowed = list(DECISIONS)
        pending = Pending(str(uuid.uuid4()), {**request, "allowedDecisions": allowed}, now,
                          now + int((self.wait_s if wait_s is None else wait_s) * 1000))
        self.pending[pending.id] = pending
        self._emit("exec.approval.requested", pending.record())
        return pending

    async def wait(self, pending: Pending) -> str | None:
        """The operator's decision, or None when nobody answered in time."""
        try:
            return await asyncio.wait_for(asyncio.shield(pending.decided),
                                          max(0.0, (pending.expires_at_ms - _now_ms()) / 1000))
        except TimeoutError:
            return None
        finally:
            if self.pending.pop(pending.id, None) is not None and not pending.decided.done():
                self._emit("exec.approval.resolved", {"id": pending.id, "decision": "expired", "resolvedBy": None,
                                                      "ts": _now_ms(), "request": pending.request})

    def find(self, wanted: str) -> Pending | None:
        """A pending request by its id or an unambiguous prefix of it."""
        self._expire()
        if wanted in self.pending:
            return self.pending[wanted]
        found = [p for key, p in self.pending.items() if key.startswith(wanted)] if len(wanted) >= 4 else []
        return found[0] if len(found) == 1 else None

    def resolve(self, pending: Pending, decision: str, resolved_by: str | None) -> None:
        if pending.decided.done():
            return
        pending.decided.set_result(decision)
        self.pending.pop(pending.id, None)
        self._emit("exec.approval.resolved", {"id": pending.id, "decision": decision, "resolvedBy": resolved_by,
                                              "ts": _now_ms(), "request": pending.request})

    def _expire(self) -> None:
        now = _now_ms()
        for key in [k for k, p in self.pending.items() if p.expires_at_ms <= now]:
            del self.pending[key]

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        publish = publisher(self.state_dir)  # the gateway's broadcast to approvers, if one runs
        if publish is not None:
            publish(event, payload)


async def gate(approvals: ExecApprovals, agent_id: str, session_key: str, command: str, cwd: str) -> str | None:
    """Why this exec call may not run (one line), or None when the policy lets it (asking if it says so)."""
    policy = await approvals.policy(agent_id)
    if policy is None:
        return None
    listed = policy.allowlisted(command)
    if policy.security == "deny":
        return "exec is turned off by the exec approvals policy (security=deny)"
    if policy.ask != "always" and (policy.security == "full" or listed):
        return None
    if policy.ask == "off":
        return "command not in the exec allowlist (exec approvals: security=allowlist, ask=off)"
    request = {"command": command, "cwd": cwd, "host": "gateway", "security": policy.security, "ask": policy.ask,
               "agentId": agent_id, "sessionKey": session_key, "nodeId": None, "resolvedPath": None}
    pending = approvals.open_request(request)
    decision = await approvals.wait(pending) if pending is not None else None
    if decision == "deny":
        return "exec denied by an operator"
    if decision == "allow-always":
        await approvals.allow_always(agent_id, command)
    if decision in ("allow-once", "allow-always"):
        return None
    if policy.ask_fallback == "full" or (policy.ask_fallback == "allowlist" and listed):
        return None
    return (f"no operator approved this command within {int(approvals.wait_s)}s "
            f"(exec approvals: askFallback={policy.ask_fallback})")


def normalize(file: dict[str, Any]) -> dict[str, Any]:
    """Upstream's document shape: version 1, the legacy `default` agent folded into `main`."""
    out = {k: v for k, v in file.items() if k in ("socket", "defaults", "agents")}
    out["version"] = 1
    agents = dict(out.get("agents") or {})
    if "default" in agents:
        legacy = agents.pop("default")
        agents["main"] = {**legacy, **(agents.get("main") or {})}
    out["agents"] = agents
    return out


def _parse(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):  # unreadable: upstream's fail-closed defaults
        return {"version": 1, "defaults": {"security": "deny", "ask": "off", "askFallback": "deny",
                                           "autoAllowSkills": False}, "agents": {}}
    return value


def _projection(file: dict[str, Any]) -> tuple[Any, ...]:
    socket = file.get("socket") or {}
    defaults = file.get("defaults") or {}
    agents = [a for a in (file.get("agents") or {}).values() if isinstance(a, dict)]
    auto = defaults.get("autoAllowSkills")
    return (socket.get("path"), 1 if socket.get("token") else 0, defaults.get("security"), defaults.get("ask"),
            defaults.get("askFallback"), None if auto is None else int(bool(auto)), len(agents),
            sum(len(a.get("allowlist") or []) for a in agents))


_UPSERT = """INSERT INTO exec_approvals_config (config_key, raw_json, socket_path, has_socket_token, default_security,
  default_ask, default_ask_fallback, auto_allow_skills, agent_count, allowlist_count, updated_at_ms)
  VALUES (?,?,?,?,?,?,?,?,?,?,?)
  ON CONFLICT(config_key) DO UPDATE SET raw_json=excluded.raw_json, socket_path=excluded.socket_path,
  has_socket_token=excluded.has_socket_token, default_security=excluded.default_security,
  default_ask=excluded.default_ask, default_ask_fallback=excluded.default_ask_fallback,
  auto_allow_skills=excluded.auto_allow_skills, agent_count=excluded.agent_count,
  allowlist_count=excluded.allowlist_count, updated_at_ms=excluded.updated_at_ms"""

_by_state_dir: dict[Path, ExecApprovals] = {}


def approvals_for(state_dir: Path) -> ExecApprovals:
    """The process's one `ExecApprovals` for a state dir: the exec tool and the gateway's methods share it."""
    key = state_dir.resolve()
    found = _by_state_dir.get(key)
    if found is None:
        found = _by_state_dir[key] = ExecApprovals(state_dir)
    return found
