"""Checking a connecting client's device proof, in upstream's order, with its exact rejections."""

from __future__ import annotations

from typing import Any

from openclaw.devicekeys import device_id_for, normalize_public_key, signature_ok, signed_payloads
from openclaw.gateway.protocol import DEVICE_SKEW_MS, INVALID_REQUEST, ConnectRejected


def _fail(message: str, code: str, reason: str) -> ConnectRejected:
    return ConnectRejected(INVALID_REQUEST, message, details={"code": code, "reason": reason})


def verify_device(params: dict[str, Any], nonce: str, now_ms: int) -> str:
    """Check the proof in order; returns the device id or raises the exact upstream rejection."""
    device = params.get("device")
    if not isinstance(device, dict):
        raise _fail("device public key invalid", "DEVICE_AUTH_PUBLIC_KEY_INVALID", "device-public-key")
    try:
        raw_key = normalize_public_key(device.get("publicKey"))
    except Exception:  # noqa: BLE001 - every malformed key (base64, PEM, algorithm) is the same refusal
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
    if not signature_ok(raw_key, device.get("signature"), signed_payloads(params, device)):
        raise _fail("device signature invalid", "DEVICE_AUTH_SIGNATURE_INVALID", "device-signature")
    return device_id
