#!/usr/bin/env bash
# Install openclaw into .venv, set up two isolated gateways (main and rescue),
# start both in the background, and show every instance on this host.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
oc=.venv/bin/openclaw

for profile in main rescue; do
  "$oc" --profile "$profile" setup
  if "$oc" --profile "$profile" health >/dev/null 2>&1; then
    echo "gateway $profile is already running"
    continue
  fi
  nohup "$oc" --profile "$profile" gateway >/dev/null 2>&1 &
  for _ in $(seq 1 100); do   # up to 10 s; it normally takes a third of a second
    "$oc" --profile "$profile" health >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$oc" --profile "$profile" health >/dev/null || { echo "gateway $profile did not start; see: $oc --profile $profile logs --local" >&2; exit 1; }
  echo "gateway $profile started"
done

echo
"$oc" gateways
echo
echo "Try: $oc --profile rescue status    Stop both: ./scripts/down.sh"
echo "Control UI: $oc --profile main dashboard  (the rescue one's Instances view can restart main)"
