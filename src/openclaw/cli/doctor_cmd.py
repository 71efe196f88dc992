"""`openclaw doctor [--fix] [--json]`."""

from __future__ import annotations

import os

import click

from openclaw.cli.output import print_json, short_path, style
from openclaw.doctor.run import run_doctor
from openclaw.profiles.paths import resolve_paths

COLORS = {"error": "red", "warning": "yellow", "info": "blue"}


@click.command(help="Check this profile and its neighbours; --fix applies the safe repairs.")
@click.option("--fix", is_flag=True, help="Fix permissions, stale locks and service drift; nothing else.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report.")
def doctor(fix: bool, as_json: bool) -> None:
    paths = resolve_paths(os.environ)
    report = run_doctor(paths, os.environ, fix=fix)
    if as_json:
        print_json(report.as_dict())
    else:
        click.echo(f"Doctor: profile {paths.name} ({short_path(paths.state_dir)})")
        for finding in report.fixed:
            click.echo(f"  {style('fixed', fg='green')}: {finding.what}")
        for finding, error in report.failed:
            click.echo(f"  {style('fix failed', fg='red')}: {finding.what}: {error}")
        for f in report.findings:
            click.echo(f"  [{style(f.severity, fg=COLORS[f.severity])}] {f.check}: {f.what}")
            click.echo(f"      why: {f.why}")
            click.echo(f"      fix: {f.fix}" + (" (doctor --fix does this)" if f.repair and not fix else ""))
        counts = {s: sum(1 for f in report.findings if f.severity == s) for s in COLORS}
        fixable = sum(1 for f in report.findings if f.repair)
        if report.findings:
            click.echo(f"{len(report.findings)} finding(s): {counts['error']} error, {counts['warning']} warning, "
                       f"{counts['info']} info" + (f"; {fixable} fixable with --fix" if fixable else ""))
        else:
            click.echo("No problems found.")
    if report.errors:
        raise SystemExit(1)
