# Sourced by up.sh and test.sh: .venv made with this shell's python3. A .venv made by another
# interpreter (a different Python on PATH in this shell) is remade from scratch: upgrading it in
# place mixes two standard libraries and breaks it.
make_venv() {
  local base
  base=$(python3 -c 'import sys; print(sys.base_prefix)')
  if [ -e .venv/pyvenv.cfg ] && ! .venv/bin/python -c "import sys, math; sys.exit(sys.base_prefix != '$base')" 2>/dev/null; then
    echo "remaking .venv for $(command -v python3) (it was made by another Python)" >&2
    python3 -m venv --clear .venv
  else
    python3 -m venv .venv
  fi
}
