#!/usr/bin/env bash
# Install openclaw into .venv, set up two isolated gateways (the main bot, which is the default
# instance in ~/.openclaw, and a rescue bot in ~/.openclaw-rescue), start both in the background,
# and show every instance on this host.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/venv.sh
make_venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
oc=.venv/bin/openclaw

for name in main rescue; do
  if [ "$name" = main ]; then flags=(); else flags=(--profile "$name"); fi
  "$oc" "${flags[@]}" setup
  if "$oc" "${flags[@]}" health >/dev/null 2>&1; then
    echo "gateway $name is already running"
    continue
  fi
  nohup "$oc" "${flags[@]}" gateway >/dev/null 2>&1 &
  for _ in $(seq 1 100); do   # up to 10 s; it normally takes a third of a second
    "$oc" "${flags[@]}" health >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$oc" "${flags[@]}" health >/dev/null || { echo "gateway $name did not start; see: $oc ${flags[*]} logs --local" >&2; exit 1; }
  echo "gateway $name started"
done

echo
"$oc" gateways
echo
echo "Try: $oc --profile rescue status    Stop both: ./scripts/down.sh"
echo "Control UI: $oc dashboard  (the rescue one's Instances view can restart main: $oc --profile rescue dashboard)"
