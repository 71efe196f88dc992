#!/usr/bin/env bash
# Regenerate tests/fixtures/upstream-state/cron/store.json: the cron rows (jobs, run receipts, cron task
# runs) and the table definitions of upstream OpenClaw's state/openclaw.sqlite, written by upstream's own
# CLI and gateway in a fresh HOME (rewritten to /home/user). Needs upstream's CLI (openclaw-upstream on
# PATH, or OPENCLAW_UPSTREAM_BIN) and takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
up=${OPENCLAW_UPSTREAM_BIN:-$(command -v openclaw-upstream || echo /opt/upstream/bin/openclaw-upstream)}
out=tests/fixtures/upstream-state/cron
mkdir -p "$out"
home=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
gw=""
cleanup() { [ -n "$gw" ] && kill -TERM -- "-$gw" 2>/dev/null; sleep 2; rm -rf "$home"; }
trap cleanup EXIT

run() {  # upstream's gateway may restart itself early on: try again while it comes back
  for _ in 1 2 3 4 5 6; do HOME=$home timeout 300 "$up" "$@" --port "$port" >/dev/null && return 0; sleep 10; done
  return 1
}
HOME=$home timeout 300 "$up" onboard --non-interactive --accept-risk --skip-daemon --skip-health >/dev/null
HOME=$home setsid "$up" gateway run --port "$port" >"$home/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 300); do grep -q '\[gateway\].*ready' "$home/gateway.log" 2>/dev/null && break; sleep 1; done
grep -q '\[gateway\].*ready' "$home/gateway.log" || { echo "upstream's gateway did not start" >&2; exit 1; }

run cron add --name morning --cron "0 8 * * 1-5" --tz Europe/Berlin --message "morning brief" --announce \
  --channel telegram --to 12345 --description "weekday brief"
run cron add --name pulse --every 10m --command "echo hello"
run cron add --name oneshot --at 2h --message "one time" --agent main --delete-after-run
run cron add --name paused --every 1h --message "paused job" --disabled --announce
db=$home/.openclaw/state/openclaw.sqlite
pulse=$(sqlite3 "$db" "SELECT job_id FROM cron_jobs WHERE name = 'pulse'")
run cron run "$pulse"
for _ in $(seq 120); do
  [ "$(sqlite3 "$db" "SELECT COUNT(*) FROM task_runs WHERE runtime = 'cron'")" -ge 1 ] && break; sleep 1
done

"${PYTHON:-.venv/bin/python}" - "$db" "$home" "$out/store.json" <<'EOF'
import json, sqlite3, sys

db_path, home, target = sys.argv[1:]
db = sqlite3.connect(db_path)
db.row_factory = sqlite3.Row
tables = ("cron_jobs", "cron_run_receipts", "task_runs")
schema = [r[0] for r in db.execute(
    "SELECT sql FROM sqlite_master WHERE tbl_name IN (?, ?, ?) AND sql IS NOT NULL ORDER BY type DESC, name", tables)]
rows = {t: [dict(r) for r in db.execute(f"SELECT * FROM {t}" + (" WHERE runtime = 'cron'" if t == "task_runs" else "")
                                       + " ORDER BY rowid")] for t in tables}
# built-in jobs carry long prompt text that is upstream's own prose: keep their shape, not their words
# (their grant revision is then recomputed by the project's own code, so run this from the repo's venv)
from openclaw.stores import cron as cron_rows
for row in rows["cron_jobs"]:
    job = json.loads(row["job_json"])
    if not job.get("declarationKey"):
        continue
    if len(str(job.get("payload", {}).get("message", ""))) > 80:
        job["payload"]["message"] = "(built-in prompt text, not kept in this fixture)"
    if len(str(job.get("description", ""))) > 80:
        job["description"] = job["description"].split("]")[0] + "] (text not kept)"
        row["description"] = job["description"]
    row["job_json"] = cron_rows.to_json(cron_rows.definition(job))
    row["grant_definition_revision"] = cron_rows.grant_revision(job)
data = {"userVersion": db.execute("PRAGMA user_version").fetchone()[0], "schema": schema, "rows": rows}
text = json.dumps(data, indent=1, ensure_ascii=False).replace(home, "/home/user")
open(target, "w").write(text + "\n")
print(target)
EOF
