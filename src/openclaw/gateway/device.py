"""Ed25519 device identity proofs (v3 and legacy v2 payloads).

`cryptography` is imported only when a client actually presents a device, so
an idle gateway does not pay for it.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from openclaw.gateway.protocol import DEVICE_SKEW_MS, INVALID_REQUEST, ConnectRejected


def b64url_decode(text: str) -> bytes:
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _fail(message: str, code: str, reason: str) -> ConnectRejected:
    return ConnectRejected(INVALID_REQUEST, message, details={"code": code, "reason": reason})


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
    auth = params.get("auth") if isinstance(params.get("auth"), dict) else {}
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


def verify_device(params: dict[str, Any], nonce: str, now_ms: int) -> str:
    """Check the proof in order; returns the device id or raises the exact upstream rejection."""
    device = params.get("device")
    if not isinstance(device, dict):
        raise _fail("device public key invalid", "DEVICE_AUTH_PUBLIC_KEY_INVALID", "device-public-key")
    try:
        raw_key = normalize_public_key(device.get("publicKey"))
    except Exception:
        raise _fail("device public key invalid", "DEVICE_AUTH_PUBLIC_KEY_INVALID", "device-public-key") from None
    device_id = device_id_for(raw_key)
    if str(device.get("id", "")).lower() != device_id:
        raise _fail("device identity mismatch", "DEVICE_AUTH_DEVICE_ID_MISMATCH", "device-id-mismatch")
    signed_at = device.get("signedAt")
    if not isinstance(signed_at, int) or abs(now_ms - signed_at) > DEVICE_SKEW_MS:
        raise _fail("device signature expired", "DEVICE_AUTH_SIGNATURE_EXPIRED", "device-signature-stale")
    if not device.get("nonce"):
        raise _fail("device nonce required", "DEVICE_AUTH_NONCE_REQUIRED", "device-nonce-missing")
    if device.get("nonce") != nonce:
        raise _fail("device nonce mismatch", "DEVICE_AUTH_NONCE_MISMATCH", "device-nonce-mismatch")
    if not _signature_ok(raw_key, device.get("signature"), signed_payloads(params, device)):
        raise _fail("device signature invalid", "DEVICE_AUTH_SIGNATURE_INVALID", "device-signature")
    return device_id


def _signature_ok(raw_key: bytes, signature: Any, payloads: tuple[str, ...]) -> bool:
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
