"""From this host's instances to a directory of manifests with a kustomization over them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw import __version__
from openclaw.config.store import read_config
from openclaw.config.view import Config
from openclaw.deploy.kubernetes import manifests as M
from openclaw.deploy.kubernetes.layout import object_name
from openclaw.deploy.kubernetes.portable import pod_config
from openclaw.errors import ConfigError, UsageError
from openclaw.ports.instances import Instance, discover_instances
from openclaw.profiles.paths import InstancePaths

DEFAULT_IMAGE = f"openclaw-python:{__version__}"
DEFAULT_NAMESPACE = "openclaw"


@dataclass
class RenderOptions:
    namespace: str = DEFAULT_NAMESPACE
    image: str = DEFAULT_IMAGE
    browser_image: str | None = None  # default: the image's tag + `-chromium`
    storage: str = "1Gi"
    browser: bool = True


@dataclass
class Rendered:
    files: dict[str, list[dict[str, Any]]]  # file name -> documents, in kustomization order
    instances: list[dict[str, Any]] = field(default_factory=list)  # what the CLI reports per instance


def chromium_image(image: str) -> str:
    """`repo:tag` -> `repo:tag-chromium` (the Containerfile's `chromium` target)."""
    slash = image.rfind("/")
    name, colon, tag = image[slash + 1:].partition(":")
    if "@" in image:
        raise UsageError(f"--image {image} is pinned by digest; give --browser-image for the Chromium variant too")
    return f"{image[:slash + 1]}{name}:{(tag if colon else 'latest')}-chromium"


def cluster_names(instances: list[Instance]) -> dict[str, str]:
    """Instance name on this host -> name in the cluster: the default instance is `main` there
    (as the rescue bot already calls it), unless a profile has that name."""
    taken = {i.name for i in instances if i.profile is not None}
    out = {}
    for inst in instances:
        out[inst.name] = inst.name if inst.profile is not None or "main" in taken else "main"
    clash = {object_name(n) for n in out.values()}
    if len(clash) != len(out):
        raise UsageError("two instances map to the same Kubernetes name (profiles differing only in case or "
                         "'_' vs '-'); rename one")
    return out


def select(me: InstancePaths, everything: bool, env: Mapping[str, str]) -> tuple[list[Instance], list[Instance]]:
    """(to render, all on this host). Without --all: the instance this command runs as."""
    instances = discover_instances(me.home, env, include=[me])
    if everything:
        return instances, instances
    mine = [i for i in instances if os.path.abspath(i.state_dir) == os.path.abspath(me.state_dir)]
    return mine, instances


def _rescue_targets(inst: Instance, config: Config, host: list[Instance], names: dict[str, str],
                    home: Path) -> list[str] | None:
    from openclaw.rescue.commands import targets_from
    from openclaw.rescue.operations import has_rescue_role, may_target

    if not has_rescue_role(config, inst.paths(home)):
        return None
    allowed = targets_from(config)
    return [names[o.name] for o in host if o.state_dir != inst.state_dir and may_target(o, allowed)]


def render(me: InstancePaths, opts: RenderOptions, everything: bool, env: Mapping[str, str]) -> Rendered:
    chosen, host = select(me, everything, env)
    if not chosen:
        raise UsageError(f"no instance at {me.state_dir}; run `{me.cli} setup` first, or pass --all")
    names = cluster_names(host)
    browser_image = opts.browser_image or chromium_image(opts.image)
    files: dict[str, list[dict[str, Any]]] = {}
    if opts.namespace != "default":
        files["namespace.yaml"] = [M.namespace(opts.namespace)]
    out = Rendered(files)
    for inst in chosen:
        snap = read_config(inst.config_path, env, validate=False)
        if not snap.exists:
            raise ConfigError(f"{inst.name} has no config at {inst.config_path}; run `openclaw"
                              f"{'' if inst.profile is None else ' --profile ' + inst.profile} setup` first")
        if snap.issues:
            raise ConfigError(f"{inst.name}'s config is invalid ({snap.issues[0]}); fix it before rendering")
        pod = pod_config(snap.data, inst.paths(me.home), env, opts.browser)
        name = names[inst.name]
        plan = M.PodPlan(name, pod, browser_image if pod.browser else opts.image, opts.storage, opts.namespace,
                         _rescue_targets(inst, snap.view(), host, names, me.home))
        files[f"{plan.name}.yaml"] = [M.config_map(plan), M.service(plan), M.stateful_set(plan)]
        files[f"{plan.name}-secret.yaml"] = [M.secret(plan)]
        if plan.rescue_targets is not None:
            files[f"{plan.name}-rbac.yaml"] = M.rescue_access(plan)
        out.instances.append({"host": inst.name, "name": name, "object": plan.name, "image": plan.image,
                              "rescueTargets": plan.rescue_targets, "missing": pod.missing, "notes": pod.notes})
    files["kustomization.yaml"] = [M.kustomization(opts.namespace, list(files))]
    return out


def _yaml(docs: list[dict[str, Any]]) -> str:
    import yaml  # only this command needs it

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump_all(docs, Dumper=Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                         width=120)


def write(rendered: Rendered, out_dir: Path) -> list[Path]:
    """Every file written atomically; Secrets 0600, the rest 0644."""
    from openclaw.fsutil import atomic_write

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, docs in rendered.files.items():
        path = out_dir / name
        atomic_write(path, _yaml(docs), mode=0o600 if name.endswith("-secret.yaml") else 0o644)
        written.append(path)
    return written


def as_text(rendered: Rendered) -> str:
    """Every object but the kustomization, as one stream (for `--out -`)."""
    docs = [d for name, ds in rendered.files.items() if name != "kustomization.yaml" for d in ds]
    return _yaml(docs)
