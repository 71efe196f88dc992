"""`openclaw deploy kubernetes`: manifests checked offline against Kubernetes' schemas, secrets kept
in Secrets, every rendered pod run on this machine in its own network and mount namespace (all on
the same port at once), and the rescue bot restarting a StatefulSet through the Kubernetes API."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_kubeapi import FakeKubeAPI
from helpers import Env, Gateway, free_base, make_env, wait_for
from podsim import POD_IP, Mountpoints, Objects, Pod, can_simulate, config_in_volume, load_docs

NS = "oc-test"
SECRETS = {"openai": "sk-main-5f1c0e2d9b", "search": "srch-8a7b6c5d4e", "telegram": "123456:tg-3e4f5a6b7c",
           "password": "pw-9d8c7b6a5f", "header": "Bearer hdr-1a2b3c4d5e"}
REPO = Path(__file__).resolve().parents[1]
SOUL = "# Soul\n\nThe main bot, moved to a cluster with its character intact.\n"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Env:
    """Three instances as a user would have them: the main bot (a model key, an env var, no
    browser), a rescue bot (Telegram token from a file, targets main, browser on), and `work`
    (password auth)."""
    env = make_env(tmp_path_factory.mktemp("k8s-host"))
    env.provision(None, free_base())
    env.set_config(("models.providers.openai.apiKey", SECRETS["openai"]),
                   ("agents.defaults.model", "openai/gpt-4o-mini"), ("env.vars.SEARCH_KEY", SECRETS["search"]),
                   ("browser.enabled", "false"), ("models.providers.openai.headers",
                                                  json.dumps({"Authorization": SECRETS["header"]})))
    (env.home / ".openclaw" / "workspace" / "SOUL.md").write_text(SOUL)
    env.setup("rescue")  # the planner keeps its footprint clear of the others
    token_file = env.root / "telegram-token"
    token_file.write_text(SECRETS["telegram"] + "\n")
    env.set_config(("channels.telegram.tokenFile", str(token_file)), ("rescue.targets", '["main"]'), profile="rescue")
    env.setup("work")
    env.set_config(("gateway.auth", json.dumps({"mode": "password", "password": SECRETS["password"]})), profile="work")
    return env


@pytest.fixture(scope="module")
def rendered(host: Env) -> tuple[Path, dict[str, Any]]:
    out = host.root / "manifests"
    report = host.cli_json("deploy", "kubernetes", "--all", "--namespace", NS, "--image", "registry.test/oc:1.0",
                           "--out", str(out))
    return out, report


def host_secrets(host: Env) -> list[str]:
    return [*SECRETS.values(), host.token(), host.token("rescue")]


def test_render_names_images_and_files(rendered: tuple[Path, dict[str, Any]]) -> None:
    out, report = rendered
    rows = {r["name"]: r for r in report["instances"]}
    assert set(rows) == {"main", "rescue", "work"}
    assert rows["main"]["host"] == "default" and rows["main"]["object"] == "openclaw-main"
    assert rows["main"]["image"] == "registry.test/oc:1.0"  # browser off: the slim image
    assert rows["rescue"]["image"] == "registry.test/oc:1.0-chromium"
    assert rows["rescue"]["rescueTargets"] == ["main"] and rows["main"]["rescueTargets"] is None
    assert sorted(p.name for p in out.iterdir()) == sorted(report["files"])
    assert {"kustomization.yaml", "namespace.yaml", "openclaw-main.yaml", "openclaw-main-secret.yaml",
            "openclaw-rescue-rbac.yaml"} <= set(report["files"])
    assert (out / "openclaw-main-secret.yaml").stat().st_mode & 0o777 == 0o600
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert kustomization["namespace"] == NS
    assert sorted(kustomization["resources"]) == sorted(f for f in report["files"] if f != "kustomization.yaml")


@pytest.mark.parametrize("version", ["1.31.0", "latest"])
def test_manifests_validate_against_kubernetes_schemas(rendered: tuple[Path, dict[str, Any]], version: str) -> None:
    import kubernetes_validate

    if version == "latest":
        version = kubernetes_validate.utils.latest_version()
    docs = load_docs(rendered[0])
    kinds = sorted({d["kind"] for d in docs})
    assert kinds == ["ConfigMap", "Namespace", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount",
                     "StatefulSet"]
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)  # raises on any schema error


def test_kustomize_builds(rendered: tuple[Path, dict[str, Any]]) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (kustomize build is checked where it is)")
    built = subprocess.run(["kubectl", "kustomize", str(rendered[0])], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    docs = [d for d in yaml.safe_load_all(built.stdout) if d]
    assert all(d["metadata"].get("namespace") == NS for d in docs if d["kind"] != "Namespace")


def test_secrets_only_in_secrets(host: Env, rendered: tuple[Path, dict[str, Any]]) -> None:
    out, _ = rendered
    secrets = host_secrets(host)
    in_secrets = "".join(p.read_text() for p in out.glob("*-secret.yaml"))
    for value in secrets:
        assert value in in_secrets, f"{value[:6]}... missing from the Secrets"
    for path in out.iterdir():
        if path.name.endswith("-secret.yaml"):
            continue
        text = path.read_text()
        for value in secrets:
            assert value not in text, f"a secret ({value[:6]}...) leaked into {path.name}"
    for doc in load_docs(out):
        if doc["kind"] == "Secret":
            assert set(doc) == {"apiVersion", "kind", "metadata", "type", "stringData"}


def test_statefulsets_follow_the_contract(rendered: tuple[Path, dict[str, Any]]) -> None:
    from openclaw.deploy.kubernetes import sizing

    objects = Objects(load_docs(rendered[0]))
    for sts in objects.all("StatefulSet"):
        spec = sts["spec"]
        pod = spec["template"]["spec"]
        c = pod["containers"][0]
        assert spec["replicas"] == 1 and spec["volumeClaimTemplates"][0]["metadata"]["name"] == "state"
        assert (c["startupProbe"]["httpGet"]["path"], c["readinessProbe"]["httpGet"]["path"],
                c["livenessProbe"]["httpGet"]["path"]) == ("/startupz", "/readyz", "/healthz")
        assert pod["terminationGracePeriodSeconds"] > sizing.STOP_BUDGET_S
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] != 0
        assert c["securityContext"]["readOnlyRootFilesystem"] and pod["enableServiceLinks"] is False
        assert c["resources"]["requests"]["memory"] and c["resources"]["limits"]["memory"]
        env = {e["name"]: e for e in c["env"]}
        assert env["OPENCLAW_GATEWAY_PORT"]["value"] == "18789"
        secret = objects.get("Secret", sts["metadata"]["name"] + "-secrets")
        for item in c["env"]:
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secret["stringData"]
        service = objects.get("Service", sts["metadata"]["name"])
        assert [p["port"] for p in service["spec"]["ports"]] == [18789]  # browser control and CDP stay pod-local
        config = json.loads(objects.get("ConfigMap", sts["metadata"]["name"] + "-config")["data"]["openclaw.json"])
        assert config["gateway"]["bind"] == "lan" and config["gateway"]["port"] == 18789
        assert pod["automountServiceAccountToken"] is (sts["metadata"]["name"] == "openclaw-rescue")
    main_files = objects.get("ConfigMap", "openclaw-main-config")["data"]
    assert main_files["workspace.SOUL.md"] == SOUL and "workspace.AGENTS.md" in main_files
    rescue_cfg = json.loads(objects.get("ConfigMap", "openclaw-rescue-config")["data"]["openclaw.json"])
    assert rescue_cfg["channels"]["telegram"]["tokenFile"].startswith("/etc/openclaw/secrets/")
    assert rescue_cfg["agents"]["defaults"]["workspace"] == "/state/workspace"
    assert rescue_cfg["browser"]["noSandbox"] is True and rescue_cfg["browser"]["headless"] is True
    role = objects.get("Role", "openclaw-rescue")
    assert role["rules"] == [{"apiGroups": ["apps"], "resources": ["statefulsets"], "resourceNames": ["openclaw-main"],
                              "verbs": ["get", "patch"]}]
    binding = objects.get("RoleBinding", "openclaw-rescue")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "openclaw-rescue", "namespace": NS}]


def test_containerfile_matches_the_manifests(rendered: tuple[Path, dict[str, Any]]) -> None:
    from openclaw.deploy.kubernetes import layout

    text = (REPO / "Containerfile").read_text()
    assert 'ENTRYPOINT ["openclaw", "gateway"]' in text
    assert re.search(rf"^USER {layout.RUN_AS}:{layout.RUN_AS}$", text, re.M)
    assert f"--uid {layout.RUN_AS}" in text and f"OPENCLAW_STATE_DIR={layout.STATE_MOUNT}" in text
    assert f"OPENCLAW_GATEWAY_PORT={layout.POD_PORT}" in text and "AS chromium" in text
    assert re.findall(r"^FROM .* AS (\w+)$", text, re.M)[-1] == "slim"  # the default target
    sts = Objects(load_docs(rendered[0])).get("StatefulSet", "openclaw-main")
    assert sts["spec"]["template"]["spec"]["containers"][0]["command"] == ["openclaw", "gateway"]


def test_cli_errors(host: Env, tmp_path: Path) -> None:
    bad = host.cli("deploy", "kubernetes", "--namespace", "Bad_NS", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "--namespace 'Bad_NS' is not a valid namespace" in bad.stderr
    bad = host.cli("deploy", "kubernetes", "--storage", "lots", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "--storage 'lots' is not a Kubernetes quantity" in bad.stderr
    lonely = make_env(tmp_path / "empty")
    missing = lonely.cli("deploy", "kubernetes", "--out", str(tmp_path / "y"))
    assert missing.returncode == 78 and "has no config" in missing.stderr and "setup" in missing.stderr
    assert not (tmp_path / "y").exists()
    lonely.provision(None, free_base())
    lonely.cli("config", "set", "gateway.auth.mode", "none", check=True)
    open_door = lonely.cli("deploy", "kubernetes", "--out", str(tmp_path / "z"))
    assert open_door.returncode == 78 and "gateway.auth.mode is none" in open_door.stderr
    assert not (tmp_path / "z").exists()
    printed = host.cli("--profile", "work", "deploy", "kubernetes", "--out", "-", check=True)
    kinds = [d["kind"] for d in yaml.safe_load_all(printed.stdout) if d]
    assert kinds == ["Namespace", "ConfigMap", "Service", "StatefulSet", "Secret"]


def test_chromium_image_names() -> None:
    from openclaw.deploy.kubernetes.render import chromium_image

    assert chromium_image("openclaw-python:0.1.0") == "openclaw-python:0.1.0-chromium"
    assert chromium_image("registry.local:5000/team/oc") == "registry.local:5000/team/oc:latest-chromium"


# -- the pods, simulated -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster(rendered: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Any:
    reason = can_simulate()
    if reason:
        pytest.skip(f"pod simulation: {reason}")
    docs = load_docs(rendered[0])
    objects = Objects(docs)
    root = tmp_path_factory.mktemp("pods")
    uid = None  # the manifest's user
    with Mountpoints(docs):
        pods = {sts["metadata"]["name"]: Pod(sts, objects, root, uid=uid) for sts in objects.all("StatefulSet")}
        for pod in pods.values():
            pod.start()
        try:
            for pod in pods.values():
                pod.wait_started()
            yield pods, objects, root, uid
        finally:
            for pod in pods.values():
                pod.stop()


def test_every_pod_on_the_same_port_with_its_probes(cluster: Any, host: Env) -> None:
    pods, _, _, _ = cluster
    assert len(pods) == 3
    for pod in pods.values():
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            status, _ = pod.probe(kind)
            assert status == 200, f"{pod.name} {kind}"
        assert pod.port("gateway") == 18789
    # each answers on 18789 in its own network namespace, with its own state and token
    for name, pod in pods.items():
        status = pod.exec("openclaw", "status", "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        gateway = json.loads(status.stdout)["gateway"]
        assert gateway["reachable"] is True and gateway["url"] == "ws://127.0.0.1:18789"
        seeded = config_in_volume(pod)
        assert seeded["gateway"]["port"] == 18789
        text = (pod.volumes["state"] / "openclaw.json").read_text()
        assert not any(secret in text for secret in host_secrets(host)), f"{name}: a secret in the volume's config"
    tokens = {pod.env().get("OPENCLAW_GATEWAY_TOKEN") for pod in pods.values()} - {None}
    assert len(tokens) == 2  # main and rescue; work uses its password


def test_secret_files_are_regular_files_in_the_pod(cluster: Any) -> None:
    """kubelet reaches a secret volume's files through symlinks, which token readers refuse; each file
    is mounted by subPath, so the rescue pod reads its Telegram token file as the channel would."""
    pods, _, _, _ = cluster
    pod = pods["openclaw-rescue"]
    path = config_in_volume(pod)["channels"]["telegram"]["tokenFile"]
    code = ("import sys; from openclaw.channels.settings import read_token_file; "
            "print(read_token_file(sys.argv[1], 'tokenFile'))")
    out = pod.exec(sys.executable, "-c", code, path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == repr((SECRETS["telegram"], "tokenFile"))


def test_probes_from_the_pod_address_see_no_details(cluster: Any) -> None:
    pods, _, _, _ = cluster
    pod = pods["openclaw-main"]
    status, body = pod.probe("readinessProbe")  # the kubelet: not loopback, no token
    assert status == 200 and json.loads(body) == {"ready": True}
    status, body = pod.http("/readyz", "gateway")  # a port-forward arrives on loopback: local, details
    assert status == 200 and "uptimeMs" in json.loads(body)
    status, body = pod.http("/", "gateway", POD_IP)  # the Service: the Control UI answers, page only
    assert status == 200 and "<html" in body.lower()


def test_browser_runs_as_the_pod_user_and_stops_with_the_pod(cluster: Any, tmp_path: Path) -> None:
    pods, _, _, uid = cluster
    rescue = pods["openclaw-rescue"]
    started = rescue.exec("openclaw", "browser", "start", "--json", timeout=90)
    assert started.returncode == 0, started.stdout + started.stderr
    status = json.loads(rescue.exec("openclaw", "browser", "status", "--json").stdout)
    assert status["running"] is True and status["headless"] is True
    chromium = subprocess.run(["pgrep", "-u", str(uid if uid is not None else 10001), "-f", "chromium"],
                              capture_output=True, text=True)
    assert chromium.stdout.strip() or uid == 0
    assert "channel telegram started" in rescue.output()  # its token came from the Secret's file
    took = rescue.stop()
    grace = rescue.spec["terminationGracePeriodSeconds"]
    assert took < grace, f"stopping took {took:.1f}s, above the grace period {grace}s"
    assert rescue.proc is not None and rescue.proc.returncode == 0
    wait_for(lambda: not subprocess.run(["pgrep", "-f", "user-data-dir=/state"], capture_output=True).stdout,
             10, what="Chromium gone with its pod")


def test_config_is_seeded_on_first_start_only(cluster: Any) -> None:
    pods, objects, root, uid = cluster
    main = pods["openclaw-main"]
    logs = main.exec("openclaw", "logs", "--limit", "200")  # through the gateway, as kubectl exec would
    assert logs.returncode == 0 and "config seeded from /etc/openclaw/seed/openclaw.json (first start)" in logs.stdout
    edited = main.exec("openclaw", "config", "set", "logging.level", "debug")
    assert edited.returncode == 0, edited.stderr
    main.stop()
    again = Pod(main.sts, objects, root, volumes={"state": main.volumes["state"]}, uid=uid)
    pods["openclaw-main"] = again
    again.start().wait_started()
    config = config_in_volume(again)
    assert (again.volumes["state"] / "workspace" / "SOUL.md").read_text() == SOUL  # carried with the config
    assert "workspace seeded from /etc/openclaw/seed/workspace" in logs.stdout
    assert config["logging"]["level"] == "debug"  # the edit survived; the seed did not overwrite it
    assert config["gateway"]["auth"]["token"] == "${OPENCLAW_GATEWAY_TOKEN}"


# -- the rescue bot in a cluster ----------------------------------------------------------------
@pytest.fixture
def kubeapi(rendered: tuple[Path, dict[str, Any]]) -> Any:
    api = FakeKubeAPI(load_docs(rendered[0]), NS).start()
    yield api
    api.stop()


def test_rescue_restarts_and_scales_through_the_kubernetes_api(
    kubeapi: FakeKubeAPI, rendered: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rescue pod's own environment, a real main gateway behind its 'Service', and an API that
    enforces the rendered Role."""
    from openclaw.chat.commands import parse
    from openclaw.profiles.paths import resolve_paths
    from openclaw.rescue import commands

    env = make_env(tmp_path / "main-pod")
    port = free_base()
    env.provision(None, port)
    current: list[Gateway] = [env.gateway().start().wait_healthy(port)]

    def restart() -> None:
        current[-1].stop()
        current.append(env.gateway().start().wait_healthy(port))

    def scale(replicas: int) -> None:
        if replicas == 0:
            current[-1].stop()
        else:
            current.append(env.gateway().start().wait_healthy(port))

    kubeapi.restart["openclaw-main"] = restart
    kubeapi.scale["openclaw-main"] = scale
    rescue = Objects(load_docs(rendered[0])).get("StatefulSet", "openclaw-rescue")
    pod_env = {e["name"]: e.get("value") for e in rescue["spec"]["template"]["spec"]["containers"][0]["env"]}
    targets = json.loads(pod_env["OPENCLAW_KUBERNETES_TARGETS"])
    assert targets == {"main": {"statefulSet": "openclaw-main", "url": "http://openclaw-main:18789"}}
    targets["main"]["url"] = f"http://127.0.0.1:{port}"  # the Service, as this test reaches it
    targets["work"] = {"statefulSet": "openclaw-work", "url": "http://127.0.0.1:9"}  # not in the Role
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(kubeapi.token_for("openclaw-rescue"))
    (sa / "namespace").write_text(NS)
    monkeypatch.setenv("OPENCLAW_KUBERNETES_TARGETS", json.dumps(targets))
    monkeypatch.setenv("OPENCLAW_KUBERNETES_API", kubeapi.url)
    monkeypatch.setenv("OPENCLAW_KUBERNETES_SA_DIR", str(sa))
    # rescue.targets unset: the rendered targets and the Role decide
    ctx = commands.Context(resolve_paths(os.environ), None, os.environ)

    def run(text: str, targets: list[str] | None = None) -> tuple[bool, str]:
        cmd = parse(text)
        assert cmd is not None
        return asyncio.run(commands.run(commands.Context(ctx.me, targets, ctx.env) if targets else ctx, cmd))

    try:
        ok, reply = run("/status main")
        assert ok and reply.startswith("main: ready, 1/1 pods ready, statefulset/openclaw-main"), reply
        first_pid = current[-1].pid
        ok, reply = run("/restart main")
        assert ok, reply
        assert reply == "main restarted (statefulset/openclaw-main, revision openclaw-main-2) and is ready", reply
        assert current[-1].pid != first_pid and len(current) == 2
        patches = [r for r in kubeapi.requests if r[0] == "PATCH"]
        assert patches == [("PATCH", f"/apis/apps/v1/namespaces/{NS}/statefulsets/openclaw-main",
                            "application/strategic-merge-patch+json")]
        annotations = kubeapi.statefulsets["openclaw-main"]["spec"]["template"]["metadata"]["annotations"]
        assert "kubectl.kubernetes.io/restartedAt" in annotations
        ok, reply = run("/status main")
        assert ok and "last restart: " in reply
        ok, reply = run("/stop main")
        assert ok and reply == "main stopped (statefulset/openclaw-main scaled to 0)", reply
        assert current[-1].proc is not None and current[-1].proc.poll() is not None
        ok, reply = run("/status main")
        assert ok and reply.startswith("main: stopped (0 replicas)"), reply
        ok, reply = run("/start main")
        assert ok and reply == "main started (statefulset/openclaw-main scaled to 1) and is ready", reply
        from openclaw.rescue.survey import rows  # the Control UI's Instances view

        listed = {r["profile"]: r for r in rows(resolve_paths(os.environ), os.environ)}
        assert listed["main"]["healthy"] is True and listed["main"]["service"] == "statefulset/openclaw-main"
        assert listed["default"]["self"] is True and "forbidden" in listed["work"]["error"]
        ok, reply = run("/gateways")
        assert ok and "main: ready" in reply and "work: " in reply and "forbidden" in reply
        ok, reply = run("/restart work")  # listed in the env, but the Role does not grant it
        assert not ok and "the Kubernetes API refused" in reply and "cannot patch" in reply, reply
        ok, reply = run("/restart work", ["main"])  # rescue.targets narrowed in the pod's config
        assert not ok and reply == "work is not among this rescue bot's targets (known: main)", reply
        ok, reply = run("/restart elsewhere")
        assert not ok and reply == "elsewhere is not among this rescue bot's targets (known: main, work)"
        ok, reply = run("/logs main")
        assert not ok and "kubectl logs statefulset/openclaw-main" in reply
        (sa / "token").write_text("stolen")
        ok, reply = run("/status main")
        assert not ok and "did not accept the service account token" in reply
    finally:
        for gw in current:
            gw.stop()


def test_portable_config_token_sources(tmp_path: Path) -> None:
    from openclaw.deploy.kubernetes.portable import pod_config
    from openclaw.profiles.paths import InstancePaths

    paths = InstancePaths(None, tmp_path, tmp_path / ".openclaw", tmp_path / ".openclaw" / "openclaw.json", False)
    from_env = pod_config({"gateway": {"auth": {"mode": "token"}}}, paths, {"OPENCLAW_GATEWAY_TOKEN": "t-env-1"}, False)
    assert from_env.env["OPENCLAW_GATEWAY_TOKEN"] == "t-env-1" and not from_env.notes
    assert from_env.config["gateway"]["auth"]["token"] == "${OPENCLAW_GATEWAY_TOKEN}"
    password = pod_config({"gateway": {"auth": {"password": "pw-1"}}}, paths, {}, False)
    assert password.env == {"OPENCLAW_GATEWAY_PASSWORD": "pw-1"} and "token" not in password.config["gateway"]["auth"]
    fresh = pod_config({}, paths, {}, False)
    assert len(fresh.env["OPENCLAW_GATEWAY_TOKEN"]) >= 40 and "a new one is in the Secret" in fresh.notes[0]
    keyed = pod_config({"agents": {"defaults": {"model": "anthropic/claude-x"}}}, paths, {}, False)
    assert keyed.missing == ["ANTHROPIC_API_KEY"] and keyed.env["ANTHROPIC_API_KEY"] == ""
    assert keyed.config["browser"]["enabled"] is False  # --no-browser


def test_channel_tokens_from_the_environment_go_into_the_secret(tmp_path: Path) -> None:
    """A channel with no token in its config reads its default account's from the environment: the
    render carries that variable into the Secret and the container's env, or says the pod has none."""
    env = make_env(tmp_path)
    env.provision(None, free_base())
    env.set_config(("channels.slack", json.dumps({"dmPolicy": "pairing"})),  # both tokens from the env
                   ("channels.telegram", json.dumps({"enabled": False})),  # off: nothing to carry
                   ("channels.discord", json.dumps({"accounts": {"ops": {"token": "dc-ops-in-config"}}})))
    host_env = {"SLACK_BOT_TOKEN": "xoxb-from-the-host-env", "SLACK_APP_TOKEN": "",
                "TELEGRAM_BOT_TOKEN": "tg-not-wanted", "DISCORD_BOT_TOKEN": "dc-not-wanted"}
    out = tmp_path / "manifests"
    report = env.cli_json("deploy", "kubernetes", "--namespace", NS, "--out", str(out), extra_env=host_env)
    notes = report["instances"][0]["notes"]
    assert any("SLACK_BOT_TOKEN from this environment is in the Secret" in n for n in notes), notes
    assert any("SLACK_APP_TOKEN is not set here: the pod's slack channel will have no token" in n for n in notes)
    docs = load_docs(out)
    secret = next(d for d in docs if d["kind"] == "Secret")["stringData"]
    assert secret["SLACK_BOT_TOKEN"] == "xoxb-from-the-host-env"
    assert not {"SLACK_APP_TOKEN", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"} & set(secret)  # named accounts only
    container = next(d for d in docs if d["kind"] == "StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    given = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef", {}).get("key") for e in container["env"]}
    assert given["SLACK_BOT_TOKEN"] == "SLACK_BOT_TOKEN"
    for path in out.iterdir():
        if not path.name.endswith("-secret.yaml"):
            assert "xoxb-from-the-host-env" not in path.read_text(), path.name
    bare = env.cli_json("deploy", "kubernetes", "--namespace", NS, "--out", str(tmp_path / "again"),
                        extra_env={**host_env, "SLACK_BOT_TOKEN": ""})
    assert sum("will have no token" in n for n in bare["instances"][0]["notes"]) == 2


def test_default_account_env_follows_the_channels_account_rules() -> None:
    from openclaw.config.secret_env import default_account_env

    assert default_account_env({}, "slack") == ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    assert default_account_env({"botToken": "xoxb-1"}, "slack") == ("SLACK_APP_TOKEN",)
    assert default_account_env({"appTokenFile": "/f", "accounts": {"x": {}}}, "slack") == ("SLACK_BOT_TOKEN",)
    assert default_account_env({"accounts": {"x": {"token": "t"}}}, "discord") == ()
    assert default_account_env({"tokenFile": "/t"}, "telegram") == ()
    assert default_account_env({"enabled": False}, "telegram") == ()
    assert default_account_env(None, "discord") == ()


def test_unreadable_secret_files_stop_the_render(tmp_path: Path) -> None:
    from openclaw.deploy.kubernetes.portable import pod_config
    from openclaw.errors import ConfigError
    from openclaw.profiles.paths import InstancePaths

    paths = InstancePaths(None, tmp_path, tmp_path / ".openclaw", tmp_path / ".openclaw" / "openclaw.json", False)
    gone = str(tmp_path / "missing-token")
    for raw, key in (({"channels": {"telegram": {"tokenFile": gone}}}, "channels.telegram.tokenFile"),
                     ({"models": {"providers": {"x": {"apiKey": {"source": "file", "id": gone}}}}},
                      "models.providers.x.apiKey")):
        with pytest.raises(ConfigError, match=rf"{re.escape(key)} names .*missing-token, which cannot be read"):
            pod_config(raw, paths, {}, True)
