"""A Kubernetes API stand-in on loopback: StatefulSets get and strategic-merge patch, service
account tokens, RBAC from the rendered Roles, and a controller that really restarts or scales
the pod behind a StatefulSet (through callbacks the test gives it)."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


class FakeKubeAPI:
    def __init__(self, docs: list[dict[str, Any]], namespace: str) -> None:
        self.namespace = namespace
        self.statefulsets: dict[str, dict[str, Any]] = {}
        for doc in docs:
            if doc["kind"] == "StatefulSet":
                sts = copy.deepcopy(doc)
                sts["metadata"]["generation"] = 1
                sts["status"] = {"replicas": 1, "readyReplicas": 1, "updatedReplicas": 1, "observedGeneration": 1,
                                 "currentRevision": f"{doc['metadata']['name']}-1",
                                 "updateRevision": f"{doc['metadata']['name']}-1"}
                self.statefulsets[doc["metadata"]["name"]] = sts
        self.grants = self._grants(docs)  # service account -> {(verb, resource name)}
        self.tokens: dict[str, str] = {}
        self.requests: list[tuple[str, str, str]] = []  # (method, path, content type)
        self.restart: dict[str, Callable[[], None]] = {}  # sts name -> restart its pod (blocking)
        self.scale: dict[str, Callable[[int], None]] = {}  # sts name -> run 0 or 1 pods (blocking)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    def _grants(self, docs: list[dict[str, Any]]) -> dict[str, set[tuple[str, str]]]:
        roles = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Role"}
        out: dict[str, set[tuple[str, str]]] = {}
        for binding in (d for d in docs if d["kind"] == "RoleBinding"):
            role = roles[binding["roleRef"]["name"]]
            for subject in binding["subjects"]:
                allowed = out.setdefault(subject["name"], set())
                for rule in role["rules"]:
                    if "apps" in rule["apiGroups"] and "statefulsets" in rule["resources"]:
                        allowed |= {(v, n) for v in rule["verbs"] for n in rule.get("resourceNames", [])}
        return out

    def token_for(self, account: str) -> str:
        token = f"token-{account}"
        self.tokens[token] = account
        return token

    # -- server -----------------------------------------------------------------------------
    def start(self) -> FakeKubeAPI:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/apis/apps/v1/namespaces/{ns}/statefulsets/{name}", self._sts)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def _status(code: int, reason: str, message: str) -> web.Response:
        return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                                  "reason": reason, "code": code}, status=code)

    async def _sts(self, request: web.Request) -> web.Response:
        ns, name = request.match_info["ns"], request.match_info["name"]
        self.requests.append((request.method, request.path, request.headers.get("Content-Type", "")))
        account = self.tokens.get(request.headers.get("Authorization", "")[7:])
        if account is None:
            return self._status(401, "Unauthorized", "Unauthorized")
        verb = {"GET": "get", "PATCH": "patch"}.get(request.method)
        if verb is None:
            return self._status(405, "MethodNotAllowed", "method not allowed")
        if ns != self.namespace or (verb, name) not in self.grants.get(account, set()):
            return self._status(403, "Forbidden", f'statefulsets.apps "{name}" is forbidden: User '
                                f'"system:serviceaccount:{ns}:{account}" cannot {verb} resource "statefulsets" in '
                                f'API group "apps" in the namespace "{ns}"')
        sts = self.statefulsets.get(name)
        if sts is None:
            return self._status(404, "NotFound", f'statefulsets.apps "{name}" not found')
        if verb == "patch":
            if request.headers.get("Content-Type") != "application/strategic-merge-patch+json":
                return self._status(415, "UnsupportedMediaType", "unsupported patch type")
            self._apply(name, sts, await request.json())
        return web.json_response(sts)

    def _apply(self, name: str, sts: dict[str, Any], patch: dict[str, Any]) -> None:
        before = copy.deepcopy(sts["spec"])
        _merge(sts, patch)
        if sts["spec"] == before:
            return
        sts["metadata"]["generation"] += 1
        status = sts["status"]
        if sts["spec"]["template"] != before["template"]:
            status["updateRevision"] = f"{name}-{sts['metadata']['generation']}"
            status.update(readyReplicas=0, updatedReplicas=0)
            asyncio.get_running_loop().create_task(self._reconcile(name, sts, lambda: self.restart[name]()))
        else:
            replicas = sts["spec"]["replicas"]
            asyncio.get_running_loop().create_task(self._reconcile(name, sts, lambda: self.scale[name](replicas)))

    async def _reconcile(self, name: str, sts: dict[str, Any], act: Callable[[], None]) -> None:
        """What the StatefulSet controller and kubelet do, with the real pod process."""
        await asyncio.to_thread(act)
        replicas = sts["spec"]["replicas"]
        sts["status"].update(replicas=replicas, readyReplicas=replicas, updatedReplicas=replicas,
                             currentRevision=sts["status"]["updateRevision"],
                             observedGeneration=sts["metadata"]["generation"])
