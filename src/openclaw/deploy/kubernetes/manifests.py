"""The Kubernetes objects for one instance, as plain dicts (the writer turns them into YAML)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from openclaw.deploy.kubernetes import layout as L
from openclaw.deploy.kubernetes import sizing
from openclaw.deploy.kubernetes.portable import PodConfig
from openclaw.rescue.cluster import NAMESPACE_ENV, TARGETS_ENV

TMP_LIMIT = {False: "256Mi", True: "1Gi"}  # emptyDir /tmp, bounded (Chromium keeps its cache there)


@dataclass
class PodPlan:
    instance: str  # the name in the cluster (`main` for this host's default instance)
    pod: PodConfig
    image: str
    storage: str
    namespace: str
    rescue_targets: list[str] | None = None  # set on a rescue-role instance

    @property
    def name(self) -> str:
        return L.object_name(self.instance)


def _meta(plan: PodPlan, name: str | None = None) -> dict[str, Any]:
    return {"name": name or plan.name, "namespace": plan.namespace, "labels": L.labels(plan.instance)}


def config_map(plan: PodPlan) -> dict[str, Any]:
    text = json.dumps(plan.pod.config, indent=2, ensure_ascii=False) + "\n"
    files = {f"workspace.{name}": body for name, body in sorted(plan.pod.workspace.items())}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(plan, L.config_map_name(plan.instance)),
            "data": {"openclaw.json": text, **files}}


def secret(plan: PodPlan) -> dict[str, Any]:
    data = {**plan.pod.env, **plan.pod.files}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": _meta(plan, L.secret_name(plan.instance)),
            "type": "Opaque", "stringData": dict(sorted(data.items()))}


def service(plan: PodPlan) -> dict[str, Any]:
    """The gateway port only: browser control and CDP stay inside the pod."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(plan),
            "spec": {"type": "ClusterIP", "selector": L.selector(plan.instance),
                     "ports": [{"name": "gateway", "port": L.POD_PORT, "targetPort": "gateway", "protocol": "TCP"}]}}


def _env(plan: PodPlan) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "OPENCLAW_STATE_DIR", "value": L.STATE_MOUNT},
        {"name": "OPENCLAW_CONFIG_PATH", "value": L.CONFIG_PATH},
        {"name": "OPENCLAW_CONFIG_SEED", "value": L.SEED_PATH},
        {"name": "OPENCLAW_WORKSPACE_SEED", "value": L.WORKSPACE_SEED_DIR},
        {"name": "OPENCLAW_GATEWAY_PORT", "value": str(L.POD_PORT)},
        {"name": "HOME", "value": L.TMP_MOUNT},
    ]
    if plan.rescue_targets is not None:
        targets = {t: {"statefulSet": L.object_name(t), "url": L.service_url(t)} for t in plan.rescue_targets}
        env += [{"name": TARGETS_ENV, "value": json.dumps(targets, separators=(",", ":"))},
                {"name": NAMESPACE_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]
    env += [{"name": name, "valueFrom": {"secretKeyRef": {"name": L.secret_name(plan.instance), "key": name}}}
            for name in sorted(plan.pod.env)]
    return env


def _probe(path: str, timing: dict[str, int]) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "gateway"}, **timing}


def _volumes(plan: PodPlan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    volumes: list[dict[str, Any]] = [
        {"name": "seed", "configMap": {"name": L.config_map_name(plan.instance), "items": [
            {"key": "openclaw.json", "path": "openclaw.json"},
            *({"key": f"workspace.{name}", "path": f"workspace/{name}"} for name in sorted(plan.pod.workspace))]}},
        {"name": "tmp", "emptyDir": {"sizeLimit": TMP_LIMIT[plan.pod.browser]}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "state", "mountPath": L.STATE_MOUNT},
        {"name": "seed", "mountPath": L.SEED_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": L.TMP_MOUNT},
    ]
    if plan.pod.files:
        volumes.append({"name": "secret-files", "secret": {
            "secretName": L.secret_name(plan.instance), "defaultMode": 0o440,
            "items": [{"key": key, "path": key} for key in sorted(plan.pod.files)]}})
        # One subPath mount per file: kubelet lays a secret volume out as symlinks into a `..data`
        # folder, and token readers refuse symlinks; a subPath mount is the file itself.
        mounts += [{"name": "secret-files", "mountPath": f"{L.SECRET_FILES_DIR}/{key}", "subPath": key,
                    "readOnly": True} for key in sorted(plan.pod.files)]
    return volumes, mounts


def stateful_set(plan: PodPlan) -> dict[str, Any]:
    volumes, mounts = _volumes(plan)
    container = {
        "name": "gateway", "image": plan.image, "imagePullPolicy": "IfNotPresent",
        "command": ["openclaw", "gateway"],
        "env": _env(plan),
        "ports": [{"name": "gateway", "containerPort": L.POD_PORT, "protocol": "TCP"}],
        "startupProbe": _probe("/startupz", sizing.STARTUP),
        "readinessProbe": _probe("/readyz", sizing.READINESS),
        "livenessProbe": _probe("/healthz", sizing.LIVENESS),
        "resources": sizing.resources(plan.pod.browser),
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": mounts,
    }
    pod_spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": sizing.TERMINATION_GRACE_S,
        "enableServiceLinks": False,  # a Service named openclaw-gateway would set OPENCLAW_GATEWAY_PORT
        "automountServiceAccountToken": plan.rescue_targets is not None,
        "securityContext": {"runAsNonRoot": True, "runAsUser": L.RUN_AS, "runAsGroup": L.RUN_AS,
                            "fsGroup": L.RUN_AS, "fsGroupChangePolicy": "OnRootMismatch",
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": volumes,
    }
    if plan.rescue_targets is not None:
        pod_spec["serviceAccountName"] = plan.name
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta(plan),
        "spec": {
            "serviceName": plan.name, "replicas": 1, "selector": {"matchLabels": L.selector(plan.instance)},
            "podManagementPolicy": "OrderedReady", "updateStrategy": {"type": "RollingUpdate"},
            "template": {"metadata": {"labels": L.labels(plan.instance)}, "spec": pod_spec},
            "volumeClaimTemplates": [{
                "metadata": {"name": "state", "labels": L.labels(plan.instance)},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": plan.storage}}},
            }],
        },
    }


def rescue_access(plan: PodPlan) -> list[dict[str, Any]]:
    """A ServiceAccount whose Role may read and restart (patch) only the StatefulSets it targets."""
    targets = sorted(L.object_name(t) for t in plan.rescue_targets or [])
    rules = [{"apiGroups": ["apps"], "resources": ["statefulsets"], "resourceNames": targets,
              "verbs": ["get", "patch"]}] if targets else []
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(plan),
         "automountServiceAccountToken": False},  # mounted by its pod only (the pod spec asks for it)
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta(plan), "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta(plan),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": plan.name},
         "subjects": [{"kind": "ServiceAccount", "name": plan.name, "namespace": plan.namespace}]},
    ]


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {L.APP_LABEL: L.APP}}}


def kustomization(namespace_name: str, files: list[str]) -> dict[str, Any]:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "namespace": namespace_name, "resources": files}
