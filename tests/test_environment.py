"""The process environment is read at the entry points only; everything below takes it passed in.

A library function that reads `os.environ` itself ignores the environment its caller resolved
(a profile projected by root flags, a test's throwaway HOME, a gateway's own env), so each read
here is either an entry point or a named exception.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "openclaw"

# Entry points: they read the process environment once and pass it down.
ENTRY_POINTS = (
    "__main__.py",  # `python -m openclaw`
    "cli/",  # the click commands (and `openclaw` itself, cli/main.py), each an entry point
    "fleet/api.py",  # `openclaw.fleet.Fleet`, the harnesses' entry point
)

# Reads that must see the real process environment, by (module, function).
EXCEPTIONS = {
    # the host-wide runtime dir (registry, config locks) is one per user and host: every process
    # must agree on it whatever env it was handed, as `tempfile.gettempdir()` does for TMPDIR
    ("profiles/paths.py", "runtime_dir"),
    ("profiles/paths.py", "_uid"),
    # `python -m openclaw.fleet.supervisor`, a process entry point of its own
    ("fleet/supervisor.py", "main"),
    # a forked member replaces its inherited process environment with its own instance's
    ("fleet/child.py", "run_member"),
}


def _reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, enclosing function) of every `os.environ`, `os.getenv`, `from os import environ/getenv`."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, func: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = node.name
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "environb", "getenv", "putenv") \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            found.append((node.lineno, func))
        if isinstance(node, ast.ImportFrom) and node.module == "os" \
                and any(a.name in ("environ", "environb", "getenv") for a in node.names):
            found.append((node.lineno, func))
        for child in ast.iter_child_nodes(node):
            visit(child, func)

    visit(tree, "<module>")
    return found


def _scan() -> dict[str, list[tuple[int, str]]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        reads = _reads(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if reads:
            out[rel] = reads
    return out


def test_the_environment_is_read_only_at_entry_points() -> None:
    stray = []
    for rel, reads in _scan().items():
        if rel.startswith(ENTRY_POINTS):
            continue
        stray += [f"{rel}:{line} in {func}()" for line, func in reads if (rel, func) not in EXCEPTIONS]
    assert not stray, ("the process environment is read below the entry points; take an `env: Mapping[str, str]` "
                       "parameter and let the caller pass it:\n  " + "\n  ".join(stray))


def test_the_check_sees_each_form() -> None:
    source = ("import os\nfrom os import getenv\n"
              "def f():\n    return os.environ.get('A'), os.getenv('B'), dict(os.environ)\n")
    assert [func for _, func in _reads(ast.parse(source))] == ["<module>", "f", "f", "f"]
