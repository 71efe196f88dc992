#!/usr/bin/env bash
# Static checks, before the tests: lint (ruff, the rules chosen in pyproject.toml), types (mypy,
# strictness per package in pyproject.toml) and layers (import-linter's contracts in pyproject.toml).
# Needs the venv scripts/test.sh installs; run on its own with `bash scripts/check.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "ruff: lint" >&2
.venv/bin/ruff check --quiet src tests bench
echo "mypy: types" >&2
.venv/bin/mypy
echo "import-linter: layers" >&2
out=$(.venv/bin/lint-imports --no-cache 2>&1) || { echo "$out" >&2; exit 1; }
echo "$out" | grep -E "^Contracts:" >&2
