#!/usr/bin/env bash
# Install everything the tests need into .venv and run them (CI runs this via .ci/run).
# Tests that drive upstream's Node CLI run only when it is installed
# (OPENCLAW_UPSTREAM_BIN, or `openclaw-upstream` on PATH); see README.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
exec .venv/bin/python -m pytest "$@"
