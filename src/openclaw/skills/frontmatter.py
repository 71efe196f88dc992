"""A `SKILL.md`'s frontmatter: the `---` block at its top, read into typed fields.

Plain `key: value` lines (the common shape, with `metadata` as one line of JSON) are read without
a YAML parser; anything richer (nested blocks, lists, block scalars) goes to PyYAML, imported only
then. When YAML refuses the block, the line reading is used as a fallback, as upstream does. A
`metadata` given as a string is read as JSON5. A file that yields no usable name and description
is a `FrontmatterError`, reported by the loader and never raised into a turn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_FIELD_CHARS = 4096  # a name, description or homepage longer than this is cut
NAME_CHARS = 128


class FrontmatterError(Exception):
    """The file is not a usable skill (the message says why)."""


@dataclass(frozen=True)
class Requirements:
    bins: tuple[str, ...] = ()
    any_bins: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    config: tuple[str, ...] = ()
    os: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        return {"bins": list(self.bins), "anyBins": list(self.any_bins), "env": list(self.env),
                "config": list(self.config), "os": list(self.os)}


@dataclass(frozen=True)
class Frontmatter:
    name: str
    description: str
    homepage: str | None = None
    user_invocable: bool = True
    disable_model_invocation: bool = False
    requires: Requirements = Requirements()
    always: bool = False
    primary_env: str | None = None
    skill_key: str | None = None
    emoji: str | None = None
    install: tuple[Mapping[str, Any], ...] = ()
    has_metadata: bool = False  # a `metadata.openclaw` block was given
    extra: Mapping[str, Any] = field(default_factory=dict)


_FENCE = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]+(.*)|[ \t]*)$")


def block(text: str) -> str:
    """The frontmatter block's text; FrontmatterError when the file has none."""
    found = _FENCE.match(text)
    if not found:
        raise FrontmatterError("no frontmatter (the file must start with a --- block holding name and description)")
    return found.group(1)


def _scalar(raw: str) -> Any:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    lowered = value.lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    return value


def read_lines(text: str) -> dict[str, Any]:
    """`key: value` lines; lines that are not (indented, lists, comments) are passed over."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        found = _LINE.match(line)
        if found and not line.startswith((" ", "\t", "#")):
            out[found.group(1)] = _scalar(found.group(2) or "")
    return out


def _simple(text: str) -> bool:
    """Only top-level `key: value` lines (no nesting, lists or block scalars): no YAML needed."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        found = _LINE.match(line)
        if not found or line[0] in " \t-" or (found.group(2) or "").strip() in ("", "|", ">", "|-", ">-"):
            return False
    return True


def read_yaml(text: str) -> dict[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # the C safe loader when built with libyaml
    except yaml.YAMLError:
        return read_lines(text)
    return data if isinstance(data, dict) else read_lines(text)


def _metadata(raw: Any) -> Mapping[str, Any] | None:
    """`metadata.openclaw` (a mapping, or JSON5 text holding one)."""
    if isinstance(raw, str):
        import json

        try:
            raw = json.loads(raw)  # the usual case, and much faster than JSON5
        except ValueError:
            import json5

            try:
                raw = json5.loads(raw)
            except ValueError as exc:
                raise FrontmatterError(f"metadata is not valid JSON5 ({exc})") from None
    if not isinstance(raw, Mapping):
        return None
    found = raw.get("openclaw")
    return found if isinstance(found, Mapping) else None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(str(v).strip() for v in value if isinstance(v, (str, int, float)) and str(v).strip())


def _text(value: Any, limit: int = MAX_FIELD_CHARS) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    cleaned = " ".join(value.split())
    return cleaned[:limit] or None


def _flag(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    return default


def parse(text: str, folder_name: str) -> Frontmatter:
    """The skill a `SKILL.md` describes; FrontmatterError when it cannot be used."""
    raw = block(text)
    data = read_lines(raw) if _simple(raw) else read_yaml(raw)
    meta = _metadata(data.get("metadata"))
    name = _text(data.get("name"), NAME_CHARS) or folder_name
    description = _text(data.get("description"))
    if not description:
        raise FrontmatterError("the frontmatter has no description (the model picks a skill by it)")
    requires = meta.get("requires") if meta and isinstance(meta.get("requires"), Mapping) else {}
    assert isinstance(requires, Mapping)
    install = meta.get("install") if meta else None
    return Frontmatter(
        name=name, description=description,
        homepage=_text(data.get("homepage")) or (_text(meta.get("homepage")) if meta else None),
        user_invocable=_flag(data.get("user-invocable"), True),
        disable_model_invocation=_flag(data.get("disable-model-invocation"), False),
        requires=Requirements(_strings(requires.get("bins")), _strings(requires.get("anyBins")),
                              _strings(requires.get("env")), _strings(requires.get("config")),
                              _strings(meta.get("os")) if meta else ()),
        always=bool(meta and meta.get("always") is True),
        primary_env=_text(meta.get("primaryEnv"), NAME_CHARS) if meta else None,
        skill_key=_text(meta.get("skillKey"), NAME_CHARS) if meta else None,
        emoji=_text(meta.get("emoji"), 16) if meta else None,
        install=tuple(i for i in install if isinstance(i, Mapping)) if isinstance(install, list) else (),
        has_metadata=meta is not None,
        extra={k: v for k, v in data.items() if k not in ("name", "description", "metadata")},
    )
