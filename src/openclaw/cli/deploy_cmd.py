"""`openclaw deploy kubernetes`: manifests for this host's instances, one pod each."""

from __future__ import annotations

import os
from pathlib import Path

import click

from openclaw.cli.output import json_option, print_json, short_path
from openclaw.profiles.paths import resolve_paths


@click.group(help="Run this host's instances elsewhere.")
def deploy() -> None:
    pass


@deploy.command("kubernetes", help="""Render Kubernetes manifests: per instance a StatefulSet with a volume for
its state, a Secret with its tokens, its config as a ConfigMap (copied into the volume on first start
only), a Service for the gateway port and probes; a kustomization.yaml over them.

\b
Which instances: the one this command runs as (`openclaw --profile NAME deploy kubernetes`), or --all.
Apply with: kubectl apply -k DIR""")
@click.option("--all", "everything", is_flag=True, help="Every instance on this host.")
@click.option("--namespace", default="openclaw", show_default=True, help="The namespace to deploy into.")
@click.option("--image", default=None, help="The gateway image (default: openclaw-python:<version>).")
@click.option("--browser-image", default=None,
              help="The image for instances with the browser on (default: the --image tag + '-chromium').")
@click.option("--no-browser", is_flag=True, help="Turn the browser off in every pod (the slim image everywhere).")
@click.option("--storage", default="1Gi", show_default=True, help="Volume size for each instance's state.")
@click.option("--out", "out_dir", default="openclaw-kubernetes", show_default=True,
              help="Directory to write; '-' prints the objects (Secrets included) to stdout.")
@json_option
def kubernetes(everything: bool, namespace: str, image: str | None, browser_image: str | None, no_browser: bool,
               storage: str, out_dir: str, as_json: bool) -> None:
    from openclaw.deploy.kubernetes import render as R
    from openclaw.deploy.kubernetes.layout import is_dns_label
    from openclaw.errors import UsageError

    if not is_dns_label(namespace):
        raise UsageError(f"--namespace {namespace!r} is not a valid namespace (lowercase letters, digits, '-')")
    if not _quantity(storage):
        raise UsageError(f"--storage {storage!r} is not a Kubernetes quantity (e.g. 1Gi, 500Mi)")
    opts = R.RenderOptions(namespace=namespace, image=image or R.DEFAULT_IMAGE, browser_image=browser_image,
                           storage=storage, browser=not no_browser)
    rendered = R.render(resolve_paths(os.environ), opts, everything, os.environ)
    if out_dir == "-":
        click.echo(R.as_text(rendered), nl=False)
        return
    written = R.write(rendered, Path(out_dir))
    if as_json:
        print_json({"ok": True, "out": str(Path(out_dir).resolve()), "files": [p.name for p in written],
                    "instances": rendered.instances})
        return
    for row in rendered.instances:
        where = f" (here: {row['host']})" if row["host"] != row["name"] else ""
        click.echo(f"{row['name']}{where}: statefulset/{row['object']}, image {row['image']}")
        if row["rescueTargets"] is not None:
            targets = ", ".join(row["rescueTargets"]) or "nothing"
            click.echo(f"  rescue: may restart {targets} through the Kubernetes API")
        if row["missing"]:
            click.echo(f"  fill in before applying ({row['object']}-secret.yaml): {', '.join(row['missing'])}")
        for note in row["notes"]:
            click.echo(f"  note: {note}")
    click.echo(f"wrote {len(written)} files to {short_path(Path(out_dir).resolve())}; "
               f"apply with: kubectl apply -k {out_dir}")


def _quantity(text: str) -> bool:
    import re

    return re.fullmatch(r"[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?", text) is not None

