"""An Ed25519 device identity that signs `connect` with the v3 payload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openclaw.devicekeys import b64url_encode, device_id_for, signed_payloads

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass
class DeviceIdentity:
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> DeviceIdentity:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.generate())

    @property
    def public_raw(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def device_id(self) -> str:
        return device_id_for(self.public_raw)

    def sign_connect(self, params: dict[str, Any], nonce: str, signed_at: int, version: str = "v3") -> dict[str, Any]:
        device = {"id": self.device_id, "publicKey": b64url_encode(self.public_raw), "signedAt": signed_at,
                  "nonce": nonce}
        v3, v2 = signed_payloads(params, device)
        payload = v3 if version == "v3" else v2
        device["signature"] = b64url_encode(self.private_key.sign(payload.encode()))
        return device


def load_or_create(state_dir: Any, name: str = "cli-device.pem") -> DeviceIdentity:
    """This state dir's CLI device key (`identity/cli-device.pem`, 0600), made on first use. A
    gateway that grants scopes by device (upstream's, to probe clients) then sees one device, not one
    per command. The gateway's own key (`gateway.identity.get`) is `gateway-device.pem` beside it."""
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from openclaw.fsutil import atomic_write, ensure_private_dir

    path = Path(state_dir) / "identity" / name
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, Ed25519PrivateKey):  # another kind of key cannot sign `connect`: made anew
            return DeviceIdentity(key)
    except (OSError, ValueError, TypeError):
        pass
    identity = DeviceIdentity.generate()
    pem = identity.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
    ensure_private_dir(path.parent)
    atomic_write(path, pem.decode(), mode=0o600)
    return identity
