#!/usr/bin/env bash
# Install everything the tests need into .venv (plus Debian's chromium for the browser tests,
# systemd for `systemd-analyze verify`, iproute2 for the pod simulation and bubblewrap for the
# tools' fence, when missing and we may install packages), run the static checks (scripts/check.sh;
# OPENCLAW_SKIP_CHECKS=1 skips them) and the tests. CI runs this via .ci/run.
# Tests that drive upstream's Node CLI run only when it is installed
# (OPENCLAW_UPSTREAM_BIN, or `openclaw-upstream` on PATH); see README.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"  # the pod simulation (tests/podsim.py)
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"  # the system's fence (else the wheel's)
if [ -n "$missing" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

. scripts/venv.sh
make_venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
if [ "${OPENCLAW_SKIP_CHECKS:-}" != 1 ]; then
  bash scripts/check.sh  # lint, types, layers: a failure stops here, before the tests
fi
# The tests mostly wait on real processes and sockets: a few workers keep 2 cores busy. One worker
# per module (its shared gateways made once); OPENCLAW_TEST_WORKERS=0 runs in this process. Tests
# marked `alone` (the pod simulation: namespaces, mounts, host-wide mount points) run after, by
# themselves. Exit 5 (nothing collected) only when neither run collected a test.
set +e
.venv/bin/python -m pytest -n "${OPENCLAW_TEST_WORKERS:-4}" --dist loadgroup -m "not alone" "$@"
together=$?
.venv/bin/python -m pytest -m alone "$@"
alone=$?
set -e
if [ "$together" -eq 5 ] && [ "$alone" -eq 5 ]; then exit 5; fi
for rc in "$together" "$alone"; do
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then exit "$rc"; fi
done
exit 0
