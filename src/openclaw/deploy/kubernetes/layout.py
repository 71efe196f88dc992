"""Where things are inside a pod, and what each instance's objects are called.

The image, the manifests, the in-cluster rescue operations and the tests all read these, so a
path or name is decided once.
"""

from __future__ import annotations

import re

POD_PORT = 18789  # every instance: each pod has its own network namespace
STATE_MOUNT = "/state"  # the PersistentVolumeClaim
CONFIG_PATH = f"{STATE_MOUNT}/openclaw.json"
SEED_DIR = "/etc/openclaw/seed"  # the ConfigMap, copied to CONFIG_PATH on first start only
SEED_PATH = f"{SEED_DIR}/openclaw.json"
WORKSPACE_SEED_DIR = f"{SEED_DIR}/workspace"  # the workspace's prompt files, copied with the config
SECRET_FILES_DIR = "/etc/openclaw/secrets"  # secrets the config names by file (`tokenFile`)
TMP_MOUNT = "/tmp"  # emptyDir: the root filesystem is read-only
RUN_AS = 10001  # the image's `openclaw` user and group

APP_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
APP = "openclaw"

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
MAX_NAME = 52  # a StatefulSet's name plus its revision hash must fit a 63-character label


def is_dns_label(name: str) -> bool:
    """What Kubernetes accepts as a namespace or Service name."""
    return len(name) <= 63 and _DNS_LABEL.fullmatch(name) is not None


def object_name(instance: str) -> str:
    """`openclaw-<instance>`, as a DNS label (profiles may hold `_` and capitals; labels may not)."""
    name = f"{APP}-{instance.lower().replace('_', '-')}".strip("-")
    if len(name) > MAX_NAME or not is_dns_label(name):
        from openclaw.errors import UsageError

        raise UsageError(f"instance {instance!r} gives the Kubernetes name {name!r}, which is not a DNS label of at "
                         f"most {MAX_NAME} characters; rename the profile")
    return name


def config_map_name(instance: str) -> str:
    return f"{object_name(instance)}-config"


def secret_name(instance: str) -> str:
    return f"{object_name(instance)}-secrets"


def labels(instance: str) -> dict[str, str]:
    return {APP_LABEL: APP, INSTANCE_LABEL: instance.lower().replace("_", "-"),
            "app.kubernetes.io/component": "gateway"}


def selector(instance: str) -> dict[str, str]:
    return {APP_LABEL: APP, INSTANCE_LABEL: instance.lower().replace("_", "-")}


def service_url(instance: str) -> str:
    """How another pod of the same namespace reaches this instance's gateway."""
    return f"http://{object_name(instance)}:{POD_PORT}"
