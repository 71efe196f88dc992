"""SHA-1 and SHA-256 from CPython's own implementations, falling back to `hashlib`.

Why: importing `hashlib` loads OpenSSL's libcrypto (about 5 ms here), which a CLI command that
hashes one config file and one WebSocket key does not otherwise need. The builtin modules give
the same digests; a build without them (or a newer layout) gets `hashlib`'s.
"""

from __future__ import annotations

import importlib
from typing import Protocol


class Hash(Protocol):
    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...


class HashConstructor(Protocol):
    def __call__(self, data: bytes = ..., /) -> Hash: ...


def _builtin(name: str, modules: tuple[str, ...]) -> HashConstructor:
    for module in modules:
        try:
            constructor: HashConstructor = getattr(importlib.import_module(module), name)
            return constructor
        except (ImportError, AttributeError):
            continue
    import hashlib

    fallback: HashConstructor = getattr(hashlib, name)
    return fallback


sha1 = _builtin("sha1", ("_sha1",))
sha256 = _builtin("sha256", ("_sha2", "_sha256"))  # `_sha2` from Python 3.12 on
