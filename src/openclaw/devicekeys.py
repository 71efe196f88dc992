"""Ed25519 device keys: the encodings, the payload a client signs, the signature check.

Shared by the gateway (verifying a connecting device) and the CLI client
(signing as one). `cryptography` is imported only when a key is actually
used, so an idle gateway does not pay for it.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any


def b64url_decode(text: str) -> bytes:
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def normalize_public_key(value: Any) -> bytes:
    """Raw 32 bytes from base64url, padded/standard base64, or a PEM SubjectPublicKeyInfo."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("empty")
    text = value.strip()
    if text.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = b64url_decode(text)
    if len(raw) != 32:
        raise ValueError("not 32 bytes")
    return raw


def device_id_for(raw_public_key: bytes) -> str:
    return hashlib.sha256(raw_public_key).hexdigest()


def _lower_ascii(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in value.strip())


def signed_payloads(params: dict[str, Any], device: dict[str, Any]) -> tuple[str, str]:
    """The v3 and v2 strings a client signs, built from its own connect params."""
    client = params.get("client") or {}
    raw_auth = params.get("auth")
    auth: dict[str, Any] = raw_auth if isinstance(raw_auth, dict) else {}
    token = auth.get("token") or auth.get("deviceToken") or auth.get("bootstrapToken") or ""
    scopes = ",".join(s for s in (params.get("scopes") or []) if isinstance(s, str))
    role = params.get("role") or "operator"
    base = [
        str(device.get("id")), str(client.get("id")), str(client.get("mode")), str(role), scopes,
        str(device.get("signedAt")), str(token), str(device.get("nonce")),
    ]
    v3 = "|".join(["v3", *base, _lower_ascii(client.get("platform")), _lower_ascii(client.get("deviceFamily"))])
    v2 = "|".join(["v2", *base])
    return v3, v2


def signature_ok(raw_key: bytes, signature: Any, payloads: tuple[str, ...]) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        sig = b64url_decode(str(signature or ""))
    except ValueError:
        return False
    key = Ed25519PublicKey.from_public_bytes(raw_key)
    for payload in payloads:
        try:
            key.verify(sig, payload.encode())
            return True
        except InvalidSignature:
            continue
    return False
