"""Turn pydantic's errors into one line per bad key path, with "did you mean" hints."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from openclaw.config.keypath import format_path
from openclaw.config.model import Issue
from openclaw.config.schema import KNOWN_SECTIONS, OpenClawConfig


def validate_config(data: dict[str, Any]) -> tuple[OpenClawConfig | None, list[Issue]]:
    """Types of our keys (pydantic), then keys neither we nor upstream know (typos)."""
    from openclaw.config.keys import unknown_keys

    unknown = [issue for section in sorted(KNOWN_SECTIONS & data.keys())
               for issue in unknown_keys(data[section], _step(OpenClawConfig, section), [section])]
    try:
        model = OpenClawConfig.model_validate(data)
    except ValidationError as exc:
        return None, unknown + [_issue(err) for err in exc.errors(include_url=False)]
    return (None, unknown) if unknown else (model, [])


def unknown_sections(data: dict[str, Any]) -> list[str]:
    """Top-level sections we keep but do not use (written by upstream or newer versions)."""
    return sorted(k for k in data if k not in KNOWN_SECTIONS)


def _issue(err: Any) -> Issue:
    loc = _clean_loc(tuple(err["loc"]))
    path = format_path(list(loc))
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        message = "unknown key" + (f' (did you mean "{hint[0]}"?)' if hint else "")
        if allowed and not hint:
            message += f" (allowed: {', '.join(sorted(allowed))})"
        return Issue(path, message)
    return Issue(path or "<root>", _describe(err))


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the union-member tags pydantic inserts (`model.str`, `model.ModelSelection`)."""
    out: list[Any] = []
    tp: Any = OpenClawConfig
    for part in loc:
        members = [m for m in _unwrap(tp) if m is not type(None)]
        if len(members) > 1 and isinstance(part, str) and part in {_tag(m) for m in members}:
            tp = next(m for m in members if _tag(m) == part)
            continue
        out.append(part)
        tp = _step(tp, part)
    return tuple(out)


def _tag(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _describe(err: Any) -> str:
    kind = err["type"]
    got = err.get("input")
    shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
    ctx = err.get("ctx") or {}
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '?')} (got {shown})"
    if kind in ("int_type", "int_parsing"):
        return f"expected an integer (got {shown})"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false (got {shown})"
    if kind == "string_type":
        return f"expected a string (got {shown})"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"{err['msg'].lower()} (got {shown})"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected an object (got {shown})"
    if kind == "list_type":
        return f"expected a list (got {shown})"
    if kind == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = OpenClawConfig
    for part in loc:
        model = _step(model, part)
        if model is None:
            return []
    keys: list[str] = []
    for member in _unwrap(model):
        if isinstance(member, type) and issubclass(member, BaseModel):
            keys.extend(f.alias or n for n, f in member.model_fields.items())
    return keys


def _step(tp: Any, part: Any) -> Any:
    """Follow one loc segment through models, dicts, lists and optionals."""
    for candidate in _unwrap(tp):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel) and isinstance(part, str):
            for name, field in candidate.model_fields.items():
                if part in (name, field.alias):
                    return field.annotation
        origin = typing.get_origin(candidate)
        args = typing.get_args(candidate)
        if origin is dict and isinstance(part, str) and args:
            return args[1]
        if origin is list and isinstance(part, int) and args:
            return args[0]
    return None


def _unwrap(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(tp):
            out.extend(_unwrap(arg))
        return out
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    return [tp]
