"""`openclaw onboard`: the interactive wizard, or `--non-interactive` with a flag per answer."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from openclaw.cli.output import kv, print_json, short_path
from openclaw.errors import UsageError
from openclaw.profiles.paths import InstancePaths, resolve_paths
from openclaw.provisioning.channel_step import ChannelStep
from openclaw.provisioning.model_step import from_flags
from openclaw.provisioning.onboarding import (
    AUTH_MODES,
    BIND_MODES,
    CHANNEL_STEPS,
    STEPS,
    OnboardResult,
    apply,
    check_answers,
    port_problem,
    propose,
)
from openclaw.provisioning.wizard import Answers, Proposal
from openclaw.services.lifecycle import service_name


class QuestionaryPrompter:
    """Arrow-key prompts; Ctrl-C raises KeyboardInterrupt before anything is written."""

    def __init__(self) -> None:
        import questionary

        self.q = questionary

    def text(self, message: str, default: str, validate: Callable[[str], str | None] | None = None) -> str:
        check = (lambda value: validate(value) or True) if validate else None
        return str(self.q.text(message, default=default, validate=check).unsafe_ask())

    def select(self, message: str, choices: list[str], default: str) -> str:
        return str(self.q.select(message, choices=choices, default=default).unsafe_ask())

    def secret(self, message: str, validate: Callable[[str], str | None] | None = None) -> str:
        check = (lambda value: validate(value) or True) if validate else None
        return str(self.q.password(message, validate=check).unsafe_ask())

    def confirm(self, message: str, default: bool) -> bool:
        return bool(self.q.confirm(message, default=default).unsafe_ask())


def ask(prompter: QuestionaryPrompter, proposal: Proposal, paths: InstancePaths) -> Answers | None:
    click.echo(f"Setting up profile {paths.name}: state {short_path(paths.state_dir)}, "
               f"config {short_path(paths.config_path)}")
    answers = Answers(workspace=prompter.text("Agent workspace:", short_path(proposal.workspace)), port=0)
    answers.port = int(prompter.text("Gateway base port:", str(proposal.port),
                                     validate=lambda v: port_problem(v, proposal)))
    answers.bind = prompter.select("Gateway bind:", list(BIND_MODES), proposal.bind)
    auth_choices = list(AUTH_MODES) if answers.bind == "loopback" else ["token", "password"]
    answers.auth = prompter.select("Gateway auth:", auth_choices,
                                   proposal.auth if proposal.auth in auth_choices else "token")
    if answers.auth == "token":
        answers.token = prompter.secret("Gateway token (empty: keep or generate one):") or None
    elif answers.auth == "password":
        while not answers.password:
            answers.password = prompter.secret("Gateway password:")
    for step in STEPS:
        step.ask(prompter, answers, proposal)
    if proposal.service_available:
        answers.install_daemon = prompter.confirm(f"Install and start the {service_name(paths, os.environ)} service "
                                                  "(starts at login, restarts on failure)?", True)
    else:
        click.echo(f"Service: skipped ({proposal.service_reason})")
    return answers if prompter.confirm("Write this configuration?", True) else None


def summary(result: OnboardResult) -> None:
    fp, a = result.footprint, result.answers
    service = f"{service_name(result.paths, os.environ)} (not installed)"
    if result.service:
        service = f"{result.service['name']} ({result.service['state']})"
    click.echo("")
    kv([
        ("Profile", result.paths.name),
        ("Config", short_path(result.paths.config_path)),
        ("State dir", short_path(result.paths.state_dir)),
        ("Workspace", short_path(result.workspace)),
        ("Ports", f"gateway {fp.base} ({a.bind}), browser control {fp.control}, canvas {fp.canvas}, "
                  f"CDP {fp.cdp_label}"),
        ("Auth", f"{a.auth}" + (" (saved in the config)" if a.auth != "none" else "")),
        ("Model", f"{model['ref']} ({model['key']})" if (model := result.model())
                  else "none (chats get 'no model configured'; onboard again or `openclaw models set`)"),
        *[(step.label, _channel_line(step, result.channels.get(step.name))) for step in CHANNEL_STEPS],
        ("Service", service),
        *([("Gateway", _running_line(result.running))] if result.running else []),
    ])
    click.echo("\nNext:")
    for command in result.as_dict()["next"]:
        click.echo(f"  {command}")


def _channel_line(step: ChannelStep, state: str | None) -> str:
    if state == "kept":
        return "configured already (kept as it was; onboard with its token again to replace it)"
    return step.saved if state == "saved" else step.skipped


def _running_line(running: dict[str, Any]) -> str:
    where = f"running (pid {running['pid']}, port {running['port']})"
    if running["applies"] == "restart":
        return f"{where} with gateway.reload.mode off: restart it to apply this config (kill -USR1 {running['pid']})"
    return f"{where}; it applies this config by itself (gateway.* changes restart it in-process)"


@click.command(help="Set up this profile step by step (or --non-interactive with flags).")
@click.option("--non-interactive", is_flag=True, help="Take every answer from flags and defaults.")
@click.option("--accept-risk", is_flag=True, hidden=True, help="Accepted for compatibility with upstream.")
@click.option("--mode", type=click.Choice(["local"]), default="local", hidden=True)
@click.option("--workspace", help="Agent workspace directory.")
@click.option("--gateway-port", type=click.IntRange(1, 65535), help="Base port (default: planned free footprint).")
@click.option("--gateway-bind", type=click.Choice(BIND_MODES), help="Bind mode (default loopback).")
@click.option("--gateway-auth", type=click.Choice(AUTH_MODES), help="Auth mode (default token).")
@click.option("--gateway-token", help="Token to use (default: keep or generate).")
@click.option("--gateway-password", help="Password (with --gateway-auth password).")
@click.option("--install-daemon/--no-install-daemon", default=None, help="Install the managed service.")
@click.option("--skip-daemon", is_flag=True,
              help="Do not install the service (upstream's spelling of --no-install-daemon).")
@click.option("--skip-health", is_flag=True, hidden=True, help="Accepted for compatibility with upstream.")
@click.option("--telegram-token", help="Telegram bot token (adds channels.telegram, DMs by pairing).")
@click.option("--telegram-allow-from", help="Comma-separated Telegram user ids allowed without pairing.")
@click.option("--discord-token", help="Discord bot token (adds channels.discord, DMs by pairing).")
@click.option("--discord-allow-from", help="Comma-separated Discord user ids allowed without pairing.")
@click.option("--slack-bot-token", help="Slack bot token, xoxb-... (with --slack-app-token: adds channels.slack in "
                                        "Socket Mode, DMs by pairing).")
@click.option("--slack-app-token", help="Slack app-level token for Socket Mode, xapp-...")
@click.option("--slack-allow-from", help="Comma-separated Slack member ids (U012AB3CD) allowed without pairing.")
@click.option("--model", help="Default model as provider/model (default: a suggested one for the provider).")
@click.option("--auth-choice", help="Provider: apiKey (Anthropic), openai-api-key, openrouter-api-key, ollama, "
                                    "custom-api-key or skip.")
@click.option("--anthropic-api-key", help="Anthropic API key.")
@click.option("--openai-api-key", help="OpenAI API key.")
@click.option("--openrouter-api-key", help="OpenRouter API key.")
@click.option("--custom-base-url", help="An OpenAI- or Anthropic-compatible endpoint, e.g. http://127.0.0.1:8000/v1.")
@click.option("--custom-model-id", help="The model id at --custom-base-url.")
@click.option("--custom-api-key", help="Its key, if it needs one.")
@click.option("--custom-provider-id", help="Provider id for it (default custom).")
@click.option("--custom-compatibility", type=click.Choice(["openai", "anthropic"]), help="Its API (default openai).")
@click.option("--secret-input-mode", type=click.Choice(["plaintext", "ref"]),
              help="ref: keep only a reference to $<PROVIDER>_API_KEY in the config, not the key.")
@click.option("--force", is_flag=True, help="Accept a port whose footprint overlaps another instance.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def onboard(non_interactive: bool, workspace: str | None, gateway_port: int | None, gateway_bind: str | None,
            gateway_auth: str | None, gateway_token: str | None, gateway_password: str | None,
            install_daemon: bool | None, force: bool, as_json: bool, **flags: Any) -> None:
    paths = resolve_paths(os.environ)
    proposal = propose(paths, os.environ)
    if non_interactive:
        answers = Answers(
            workspace=workspace or proposal.workspace, port=gateway_port or proposal.port,
            bind=gateway_bind or proposal.bind, auth=gateway_auth or proposal.auth,
            token=gateway_token, password=gateway_password,
            install_daemon=bool(install_daemon) and not flags.pop("skip_daemon", False),
        )
        for step in CHANNEL_STEPS:
            if (channel := step.from_flags(flags)) is not None:
                answers.extra[step.name] = channel
        model = from_flags(flags, os.environ)
        if model:
            answers.extra["model"] = model
    else:
        if not sys.stdin.isatty():
            raise UsageError("onboard needs a terminal; use --non-interactive with --gateway-port etc.")
        try:
            asked = ask(QuestionaryPrompter(), proposal, paths)
        except KeyboardInterrupt:
            click.echo("\nOnboarding cancelled; nothing was written.", err=True)
            raise SystemExit(130) from None
        if asked is None:
            click.echo("Nothing was written.")
            return
        answers = asked
    check_answers(answers, proposal, force=force)
    result = apply(paths, answers, os.environ)
    if as_json:
        print_json(result.as_dict())
    else:
        summary(result)
