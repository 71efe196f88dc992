"""The base classes of the config schema's sections, and a secret reference: shared by
`schema.py` and the feature schemas beside it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Section(BaseModel):
    """Our keys, typed. Other keys are kept: `config.keys` accepts those upstream's schema knows and
    reports the rest as unknown (typos), so pydantic itself lets extras through."""

    model_config = ConfigDict(extra="allow", alias_generator=to_camel, strict=True)


class OpenSection(Section):
    """The same rules; a name for sections upstream fills with many more keys."""


class SecretRef(Section):
    source: Literal["env", "file", "exec"]
    provider: str | None = None
    id: str
