"""Cut a small fixture from an agent store written by upstream OpenClaw.

Usage: upstream_agent_fixture.py <upstream>/agents/main/agent/openclaw-agent.sqlite <out.sqlite>

The input comes from running upstream's own CLI and gateway (see docs/upstream-state.md: onboard,
a stand-in OpenAI-compatible model, `agent --session-id fixture1` twice and `agent --agent main`).
The output keeps upstream's rows of the tables ours reads (session nodes, windows, transcript events
and their index rows, schema_meta, `user_version`), created with our copy of those tables' DDL, and
rewrites the HOME it ran in to /home/user, and drops the entries' rendered skills prompt and prompt report (large, and full of host paths).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from openclaw.stores.agentschema import AGENT_SCHEMA_VERSION, SCHEMA  # noqa: E402

TABLES = ("schema_meta", "session_nodes", "session_windows", "transcript_events", "transcript_event_identities",
          "session_transcript_index_state")
DROPPED = ("skillsSnapshot", "systemPromptReport")


def main(source: Path, out: Path) -> None:
    out.unlink(missing_ok=True)
    home = str(next(p for p in source.resolve().parents if p.name == ".openclaw").parent)  # rewritten as /home/user
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(out)
    dst.executescript(SCHEMA)
    for table in TABLES:
        columns = [r[1] for r in dst.execute(f"PRAGMA table_info({table})")]
        for row in src.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall():
            values = [v.replace(home, "/home/user") if isinstance(v, str) else v for v in row]
            if table == "session_nodes":
                entry = json.loads(values[columns.index("entry_json")])
                for key in DROPPED:
                    entry.pop(key, None)
                values[columns.index("entry_json")] = json.dumps(entry, separators=(",", ":"))
            dst.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values)
    dst.execute(f"PRAGMA user_version={AGENT_SCHEMA_VERSION}")
    dst.commit()
    dst.execute("VACUUM")
    dst.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
