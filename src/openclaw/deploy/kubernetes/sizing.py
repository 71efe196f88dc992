"""Resource requests, limits and the stop budget, from the footprint measured in docs/benchmarks.md.

A gateway idles at ~51 MB RSS (46 MB PSS) in a pod, grows ~9 MB once the Control UI has been
served and ~8 MB after a thousand agent turns, and peaked at 103 MB under the slow-consumer flood;
the limit leaves room for the exec tool's child processes, which count against the same cgroup.
With headless Chromium showing one page the pod's processes come to ~400 MB PSS (12 processes);
each further tab adds its renderer. `python bench/kubernetes.py` prints these figures.
"""

from __future__ import annotations

from typing import Any

GATEWAY = {"requests": {"cpu": "50m", "memory": "96Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
WITH_BROWSER = {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "1536Mi"}}

# SIGTERM to exit: clients get 1 s to close, each browser 3 s before it is killed, HTTP
# shutdown 1 s; measured 0.2 s idle and 0.3 s with Chromium open (bench/kubernetes.py), 0.27 s
# with 300 Control UI clients connected. The grace period sits well above the worst case.
STOP_BUDGET_S = 8
TERMINATION_GRACE_S = 20

# Probes: start to healthy is ~0.3 s here, but a cold node may pull the image and a slow volume
# may attach late; startup gets a minute before liveness takes over.
STARTUP = {"periodSeconds": 1, "failureThreshold": 60, "timeoutSeconds": 2}
READINESS = {"periodSeconds": 5, "failureThreshold": 2, "timeoutSeconds": 2}
LIVENESS = {"periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 3}


def resources(browser: bool) -> dict[str, Any]:
    source = WITH_BROWSER if browser else GATEWAY
    return {kind: dict(values) for kind, values in source.items()}
