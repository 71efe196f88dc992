#!/usr/bin/env bash
# Stop the gateways started by scripts/up.sh (SIGTERM: graceful, exit 0) and wait for them to exit.
set -euo pipefail
cd "$(dirname "$0")/.."
oc=.venv/bin/openclaw
pids=$("$oc" gateways --json | .venv/bin/python -c '
import json, sys
print(" ".join(str(i["pid"]) for i in json.load(sys.stdin)["instances"]
               if i["profile"] in ("default", "rescue") and i["pid"]))')
[ -z "$pids" ] && { echo "no main (default) or rescue gateway is running"; exit 0; }
kill $pids
for _ in $(seq 1 150); do
  kill -0 $pids 2>/dev/null || { echo "stopped: $pids"; exit 0; }
  sleep 0.1
done
echo "still running after 15 s: $pids" >&2
exit 1
