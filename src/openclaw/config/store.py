"""Reading and writing `openclaw.json`: JSON5 in, JSON out, atomic, locked, backed up."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.config.envsubst import merged_env, substitute
from openclaw.config.keypath import changed_paths
from openclaw.config.model import ConfigSnapshot, Issue
from openclaw.config.view import Config
from openclaw.digests import sha256
from openclaw.errors import ConfigError, OpenClawError
from openclaw.fsutil import atomic_write, ensure_private_dir, locked


def config_hash(raw_text: str) -> str:
    return sha256(raw_text.encode()).hexdigest()


def parse_json5(text: str) -> Any:
    """Plain JSON takes the fast stdlib path; json5 loads only for real JSON5 (comments etc.)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    import json5

    try:
        return json5.loads(text)
    except ValueError as exc:
        raise ValueError(f"not valid JSON5: {exc}") from None


def parse_value(raw: str, strict_json: bool) -> Any:
    """JSON5 when it parses (numbers, booleans, objects), else the raw string."""
    if strict_json:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise OpenClawError(f"--strict-json: value is not valid JSON ({exc})") from None
    try:
        return parse_json5(raw)
    except ValueError:
        return raw


def read_config(path: Path, env: Mapping[str, str], validate: bool = True,
                valid_record: Path | None = None) -> ConfigSnapshot:
    """Snapshot the file; problems become `issues` rather than exceptions. With `valid_record`, a
    resolved config that passed the schema before (with the same code) is not validated again."""
    snap = ConfigSnapshot(path=path, exists=path.exists())
    if snap.exists:
        try:
            snap.raw_text = path.read_text(encoding="utf-8")
        except OSError as exc:
            snap.issues.append(Issue("<file>", f"cannot read: {exc.strerror or exc}"))
            return snap
        snap.hash = config_hash(snap.raw_text)
        try:
            parsed = parse_json5(snap.raw_text) if snap.raw_text.strip() else {}
        except ValueError as exc:
            snap.issues.append(Issue("<file>", str(exc)))
            return snap
        if not isinstance(parsed, dict):
            snap.issues.append(Issue("<root>", "the config must be a JSON object"))
            return snap
        snap.data = parsed
    resolve_and_validate(snap, env, validate, valid_record)
    return snap


def resolve_and_validate(snap: ConfigSnapshot, env: Mapping[str, str], validate: bool = True,
                         valid_record: Path | None = None) -> None:
    issues: list[Issue] = []
    snap.resolved = substitute(snap.data, merged_env(snap.data, env), issues)
    snap.issues.extend(issues)
    if not validate:
        return
    key = None
    if valid_record is not None:
        from openclaw.config.validated import known_valid, validation_key

        key = validation_key(snap.resolved)
        if not snap.issues and known_valid(valid_record, key):
            return
    from openclaw.config.validate import validate_config

    _, problems = validate_config(snap.resolved)
    snap.issues.extend(problems)
    if valid_record is not None and key is not None and not snap.issues:
        from openclaw.config.validated import remember_valid

        remember_valid(valid_record, key)


def format_issues(path: Path, issues: list[Issue]) -> str:
    lines = [f"Invalid config at {path}:"]
    lines += [f"  - {issue}" for issue in issues]
    return "\n".join(lines)


def read_resolved(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The config with `${ENV}` substituted, without schema validation (light readers: no pydantic);
    a file that does not parse is still an error."""
    snap = read_config(path, env, validate=False)
    broken = [i for i in snap.issues if i.path in ("<file>", "<root>")]
    if broken:
        raise ConfigError(format_issues(path, broken))
    return snap.resolved


def read_view(path: Path, env: Mapping[str, str]) -> Config:
    """`read_resolved`, as the typed view every reader takes."""
    return Config(read_resolved(path, env))


def load_valid_config(path: Path, env: Mapping[str, str]) -> ConfigSnapshot:
    snap = read_config(path, env)
    if snap.issues:
        raise ConfigError(
            format_issues(path, snap.issues)
            + "\nFix it with `openclaw config set|unset`, or restore the last good one with "
            "`openclaw config rollback`."
        )
    return snap


def dump_config(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def write_config(path: Path, data: dict[str, Any]) -> None:
    """Atomic write with the previous file kept as `<name>.bak`; 0600, never through a symlink."""
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    atomic_write(path, dump_config(data), backup=backup_path(path))


@contextmanager
def config_write_lock(path: Path, timeout: float = 30.0, cancel: threading.Event | None = None) -> Iterator[None]:
    """Serializes read-modify-write cycles across processes so no update is lost."""
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    with locked(path.with_name(f".{path.name}.lock"), timeout=timeout, what="config write", cancel=cancel):
        yield


@dataclass
class ConfigUpdate:
    before: dict[str, Any]
    after: dict[str, Any]
    changed: list[str] = field(default_factory=list)
    created: bool = False

    @property
    def written(self) -> bool:
        return bool(self.changed) or self.created


def update_config(
    path: Path,
    mutate: Callable[[dict[str, Any]], None],
    env: Mapping[str, str],
    require_valid: bool = True,
    check: Callable[[Config], list[Issue]] | None = None,
) -> ConfigUpdate:
    """Read, mutate, validate (the schema, then `check` on the resolved config) and write under
    the write lock; nothing is written on error."""
    with config_write_lock(path):
        snap = read_config(path, env, validate=False)
        parse_problems = [i for i in snap.issues if i.path in ("<file>", "<root>")]
        if parse_problems:
            raise ConfigError(format_issues(path, parse_problems))
        before = snap.data
        after = copy.deepcopy(before)
        mutate(after)
        changed = changed_paths(before, after)
        if not changed and snap.exists:
            return ConfigUpdate(before, after, [])
        if require_valid:
            candidate = ConfigSnapshot(path=path, exists=True, data=after)
            resolve_and_validate(candidate, env)
            issues = candidate.issues or (check(candidate.view()) if check else [])
            if issues:
                raise ConfigError(format_issues(path, issues) + "\nNothing was written.")
        write_config(path, after)
        return ConfigUpdate(before, after, changed, created=not snap.exists)


def restore_file(path: Path, raw_text: str) -> None:
    """Replace the config with known text (rollback), keeping the current file as `.bak`."""
    with config_write_lock(path):
        atomic_write(path, raw_text, backup=backup_path(path))


def seed_config(path: Path, seed: str | None) -> bool:
    """First start from a packaged config (`OPENCLAW_CONFIG_SEED`, a pod's ConfigMap): copy it in
    when there is no config yet; once one exists, later edits are the instance's own and stay."""
    if not seed or path.exists():
        return False
    source = Path(seed)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"OPENCLAW_CONFIG_SEED={seed} cannot be read ({exc.strerror}); fix the mount or unset it") from None
    with config_write_lock(path):
        if path.exists():
            return False
        atomic_write(path, text)
    return True
