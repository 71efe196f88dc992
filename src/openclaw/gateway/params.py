"""RPC and `connect` params as typed models, checked by pydantic, failing with upstream's wording.

Each method declares its params as a `TypedDict` marked `@closed`: a closed object (an unknown
key is refused, as upstream's schemas refuse it) whose values are taken strictly (no `"5"` for
an integer, no `1` for a boolean). The validator is built the first time a method is called,
so a gateway does not pay at start for the methods it is never asked. A failure lists up to
`MAX_PROBLEMS` problems, unknown keys first, one per key, and counts the rest.

A frame may be 25 MiB, so the work stays bounded by the keys declared: unknown keys are
counted here rather than raised one by one by pydantic (15x the time for 100k of them), an
array stops at its first bad item (`Strings`) and an object is checked by type, not copied
key by key (`Object`).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from annotated_types import Ge, MinLen
from pydantic import ConfigDict, InstanceOf, TypeAdapter, ValidationError, with_config
from pydantic.types import FailFast
from pydantic_core import ErrorDetails

from openclaw.gateway.protocol import INVALID_REQUEST, RpcError

MAX_PROBLEMS = 5  # listed in one error; the rest are counted

closed = with_config(ConfigDict(strict=True, extra="forbid"))
lenient = with_config(ConfigDict(strict=True))  # unknown keys ignored (the `connect` handshake's params)

NonEmpty = Annotated[str, MinLen(1)]
Positive = Annotated[int, Ge(1)]
NonNegative = Annotated[int, Ge(0)]
Strings = Annotated[list[str], FailFast()]
StringsOrNone = Annotated[list[str] | None, FailFast()]  # not `Strings | None`: a Union would hash FailFast()
if TYPE_CHECKING:
    Object = dict[str, Any]
else:
    Object = InstanceOf[dict]


_KINDS = {"int_type": "integer", "string_type": "string", "bool_type": "boolean", "list_type": "array",
          "dict_type": "object", "is_instance_of": "object"}


@cache
def adapter(model: type) -> TypeAdapter[Any]:
    """The model's validator, built on its first use."""
    return TypeAdapter(model)


@cache
def _keys(model: type) -> frozenset[str]:
    names = vars(model)
    return frozenset(names.get("__required_keys__", ())) | frozenset(names.get("__optional_keys__", ()))


def _problem(error: ErrorDetails) -> str:
    loc, kind, ctx = error["loc"], error["type"], error.get("ctx") or {}
    key = loc[0] if loc else ""
    if kind == "extra_forbidden":
        return f"unexpected property '{key}'"
    if kind == "missing":
        return f"must have required property '{key}'"
    if len(loc) > 1:  # an item of an array
        return f"{key} items must be {_KINDS.get(kind, 'valid')}"
    if kind == "greater_than_equal":
        return f"{key} must be >= {ctx['ge']}"
    if kind == "less_than_equal":
        return f"{key} must be <= {ctx['le']}"
    if kind == "string_too_short":
        return f"{key} must not be empty"
    return f"{key} must be {_KINDS.get(kind, 'valid')}"


def problems(model: type, params: dict[str, Any]) -> tuple[list[str], int]:
    """The first MAX_PROBLEMS things wrong with `params` for `model`, and how many there are: unknown
    keys (in the order sent), then the declared keys' problems (in the order declared), one per key."""
    declared = _keys(model)
    unknown = [key for key in params if key not in declared]
    found = [f"unexpected property '{key}'" for key in unknown[:MAX_PROBLEMS]]
    if unknown:
        params = {key: params[key] for key in declared if key in params}
    try:
        adapter(model).validate_python(params)
    except ValidationError as exc:
        seen: set[Any] = set()
        for error in exc.errors(include_url=False, include_input=False):
            key = error["loc"][0] if error["loc"] else None
            if key not in seen:
                seen.add(key)
                found.append(_problem(error))
        return found[:MAX_PROBLEMS], len(unknown) + len(seen)
    return found, len(unknown)


def check_params(method: str, model: type | None, params: Any) -> dict[str, Any]:
    """`params` (absent: `{}`) if they fit `model` (None: any object); else INVALID_REQUEST."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_REQUEST, f"invalid {method} params: must be object")
    if model is None:
        return params
    found, count = problems(model, params)
    if count:
        more = f" (+{count - len(found)} more)" if count > len(found) else ""
        raise RpcError(INVALID_REQUEST, f"invalid {method} params: {'; '.join(found)}{more}")
    return params
