"""The few Kubernetes API calls the rescue bot makes from inside a pod: read and patch a StatefulSet.

Credentials are the pod's service account (token re-read on every call, since bound tokens
rotate; the cluster CA from the same directory). Every call has a time limit and a bounded body.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw.errors import OpenClawError
from openclaw.httpbody import BodyTooLarge, read_body

SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
CALL_TIMEOUT_S = 10.0
MAX_BODY = 4 * 1024 * 1024
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets


class KubeError(OpenClawError):
    """The API refused or could not be reached; the message says which and what to check."""


@dataclass(frozen=True)
class KubeAPI:
    base: str
    namespace: str
    sa_dir: Path

    @classmethod
    def in_cluster(cls, env: Mapping[str, str]) -> KubeAPI:
        """From the pod's environment; `OPENCLAW_KUBERNETES_API` and `..._SA_DIR` override (tests)."""
        sa_dir = Path(env.get("OPENCLAW_KUBERNETES_SA_DIR") or SA_DIR)
        base = env.get("OPENCLAW_KUBERNETES_API") or ""
        if not base:
            host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT") or "443"
            if not host:
                raise KubeError("not in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set)")
            base = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
        namespace = env.get("OPENCLAW_KUBERNETES_NAMESPACE") or _read(sa_dir / "namespace") or "default"
        return cls(base.rstrip("/"), namespace.strip(), sa_dir)

    def _ssl(self) -> ssl.SSLContext | bool:
        if not self.base.startswith("https:"):
            return False
        ca = self.sa_dir / "ca.crt"
        return ssl.create_default_context(cafile=str(ca)) if ca.exists() else ssl.create_default_context()

    def _headers(self, content_type: str | None = None) -> dict[str, str]:
        token = _read(self.sa_dir / "token")
        if not token:
            raise KubeError(f"no service account token at {self.sa_dir / 'token'}; the rescue pod needs "
                            "automountServiceAccountToken: true and its ServiceAccount")
        headers = {"Authorization": f"Bearer {token.strip()}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _sts_url(self, name: str) -> str:
        return f"{self.base}/apis/apps/v1/namespaces/{self.namespace}/statefulsets/{name}"

    async def _call(self, method: str, url: str, body: Any = None, content_type: str | None = None) -> dict[str, Any]:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT_S)
        data = json.dumps(body).encode() if body is not None else None
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, session.request(
                    method, url, data=data, headers=self._headers(content_type), ssl=self._ssl()) as resp:
                raw = await read_body(resp.content, MAX_BODY, resp.headers)
                status = resp.status
        except BodyTooLarge:
            raise KubeError(f"the Kubernetes API sent more than {MAX_BODY} bytes for {url}") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise KubeError(f"the Kubernetes API at {self.base} did not answer ({type(exc).__name__}: {exc})") from None
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            payload = {}
        if status >= 400:
            raise KubeError(_explain(status, payload, self.namespace))
        return payload if isinstance(payload, dict) else {}

    async def get_statefulset(self, name: str) -> dict[str, Any]:
        return await self._call("GET", self._sts_url(name))

    async def patch_statefulset(self, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        return await self._call("PATCH", self._sts_url(name), patch, "application/strategic-merge-patch+json")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _explain(status: int, payload: dict[str, Any], namespace: str) -> str:
    message = str(payload.get("message") or f"HTTP {status}")[:300]
    if status == 401:
        return f"the Kubernetes API did not accept the service account token ({message})"
    if status == 403:
        return f"the Kubernetes API refused: {message} (the rescue Role allows get/patch on its targets only)"
    if status == 404:
        return f"not found in namespace {namespace}: {message}"
    return f"the Kubernetes API answered {status}: {message}"
