"""The onboarding wizard's model step: a provider, a model and where its key comes from.

A key typed in is saved in `models.providers.<id>.apiKey` (the config is private to
the profile); with the key in the environment the config holds a reference to the
variable instead (`{source: env, id: NAME}`), so the secret never lands on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openclaw.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from openclaw.provisioning.wizard import Answers, Prompter, Proposal

SUGGESTED = {  # a sensible first model per built-in provider; any ref can be typed instead
    "anthropic": "anthropic/claude-sonnet-4-5",
    "openai": "openai/gpt-5",
    "openrouter": "openrouter/anthropic/claude-sonnet-4.5",
    "ollama": "ollama/llama3.3",
}
KEYED = ("anthropic", "openai", "openrouter")
AUTH_CHOICES = {  # upstream's --auth-choice values that name one of our providers
    "apiKey": "anthropic", "anthropic-api-key": "anthropic", "openai-api-key": "openai",
    "openrouter-api-key": "openrouter", "ollama": "ollama", "custom-api-key": "custom", "skip": None,
}
COMPATIBILITY = {"openai": "openai-completions", "anthropic": "anthropic-messages"}
SKIP = "skip (no model: the gateway answers chats with 'no model configured')"


@dataclass
class ModelChoice:
    """What the step writes. `key` is a literal secret, `key_env` a variable to reference."""

    provider: str
    ref: str
    key: str | None = None
    key_env: str | None = None
    base_url: str | None = None
    api: str | None = None

    def key_note(self) -> str:
        if self.key:
            return "key saved in the config"
        if self.key_env:
            return f"key read from ${self.key_env} at run time"
        return "no key yet (set one before chatting)" if self.provider in KEYED else "no key needed"


def _env_name(provider: str) -> str:
    from openclaw.models.catalog import env_key_name

    return env_key_name(provider)


def _ref_for(provider: str, model: str) -> str:
    return model if model.startswith(f"{provider}/") else f"{provider}/{model}"


def from_flags(flags: Mapping[str, Any], env: Mapping[str, str]) -> ModelChoice | None:
    """The choice `--non-interactive` describes, or None when no model flag was given."""
    choice = flags.get("auth_choice")
    if choice is not None and choice not in AUTH_CHOICES:
        raise UsageError(f"--auth-choice {choice}: use one of {', '.join(AUTH_CHOICES)}")
    keys = {p: flags.get(f"{p}_api_key") for p in KEYED}
    custom = flags.get("custom_base_url") or flags.get("custom_model_id")
    provider = AUTH_CHOICES.get(choice) if choice else None
    if choice == "skip":
        return None
    if provider is None:
        given = [p for p, k in keys.items() if k] + (["custom"] if custom else [])
        if len(given) > 1:
            raise UsageError(f"keys for more than one provider given ({', '.join(given)}); pick one with --auth-choice")
        model = flags.get("model")
        provider = given[0] if given else (model.split("/", 1)[0] if model and "/" in model else None)
    if provider is None:
        if flags.get("model"):
            raise UsageError(f"--model {flags['model']}: write it as provider/model, e.g. {SUGGESTED['anthropic']}")
        return None
    if provider == "custom":
        return _custom_from_flags(flags)
    model = flags.get("model") or SUGGESTED.get(provider)
    if not model:
        raise UsageError(f"--model is needed for provider {provider} (e.g. {provider}/MODEL-ID)")
    out = ModelChoice(provider, _ref_for(provider, model))
    _key_from_flags(out, keys.get(provider), flags.get("secret_input_mode"), env)
    return out


def _key_from_flags(out: ModelChoice, key: str | None, mode: str | None, env: Mapping[str, str]) -> None:
    if out.provider not in KEYED:
        return
    name = _env_name(out.provider)
    if mode == "ref" or (not key and env.get(name)):
        if key and env.get(name) != key:
            raise UsageError(f"--secret-input-mode ref keeps only a reference to ${name}; export the key there first")
        out.key_env = name
    else:
        out.key = key or None


def _custom_from_flags(flags: Mapping[str, Any]) -> ModelChoice:
    base_url, model = flags.get("custom_base_url"), flags.get("custom_model_id")
    if not base_url or not model:
        raise UsageError("a custom provider needs --custom-base-url and --custom-model-id")
    provider = flags.get("custom_provider_id") or "custom"
    api = COMPATIBILITY.get(flags.get("custom_compatibility") or "openai")
    if api is None:
        raise UsageError("--custom-compatibility takes openai or anthropic")
    return ModelChoice(provider, _ref_for(provider, model), key=flags.get("custom_api_key") or None,
                       base_url=base_url.rstrip("/"), api=api)


def write_choice(data: dict[str, Any], choice: ModelChoice) -> None:
    """Set the default model (keeping configured fallbacks) and the provider entry it needs."""
    defaults = data.setdefault("agents", {}).setdefault("defaults", {})
    current = defaults.get("model")
    if isinstance(current, dict):
        current["primary"] = choice.ref
    else:
        defaults["model"] = choice.ref
    entry: dict[str, Any] = {}
    if choice.base_url:
        entry.update(baseUrl=choice.base_url, api=choice.api or "openai-completions")
    if choice.key:
        entry["apiKey"] = choice.key
    elif choice.key_env:
        entry["apiKey"] = {"source": "env", "id": choice.key_env}
    if entry:
        providers = data.setdefault("models", {}).setdefault("providers", {})
        target = providers.setdefault(choice.provider, {})
        target.update(entry)
        if choice.base_url:  # a custom provider lists its models (upstream requires id and name)
            model_id = choice.ref.split("/", 1)[1]
            listed = target.setdefault("models", [])
            if not any(isinstance(m, dict) and m.get("id") == model_id for m in listed):
                listed.append({"id": model_id, "name": model_id})


class ModelStep:
    name = "model"

    def ask(self, prompter: Prompter, answers: Answers, proposal: Proposal) -> None:
        options = [*SUGGESTED, "custom (an OpenAI- or Anthropic-compatible endpoint)", SKIP]
        picked = prompter.select("Model provider:", options, "anthropic").split(" ", 1)[0]
        if picked == "skip":
            return
        if picked == "custom":
            answers.extra["model"] = self._ask_custom(prompter)
            return
        ref = prompter.text("Model (provider/model):", SUGGESTED[picked],
                            validate=lambda v: None if v.startswith(f"{picked}/") and len(v) > len(picked) + 1
                            else f"start with {picked}/")
        choice = ModelChoice(picked, ref)
        if picked in KEYED:
            name = _env_name(picked)
            if proposal.env.get(name) and prompter.confirm(f"Use ${name} from the environment (not saved)?", True):
                choice.key_env = name
            else:
                choice.key = prompter.secret(f"{picked} API key (empty: set ${name} later):").strip() or None
        answers.extra["model"] = choice

    def _ask_custom(self, prompter: Prompter) -> ModelChoice:
        base_url = prompter.text("Base URL (e.g. http://127.0.0.1:8000/v1):", "",
                                 validate=lambda v: None if v.startswith(("http://", "https://")) else "an http(s) URL")
        api = prompter.select("It speaks:", ["openai", "anthropic"], "openai")
        provider = prompter.text("Provider id:", "custom", validate=lambda v: None if v and "/" not in v else "no '/'")
        model = prompter.text("Model id:", "", validate=lambda v: None if v.strip() else "a model id")
        key = prompter.secret("API key (empty: none):").strip() or None
        return ModelChoice(provider, _ref_for(provider, model.strip()), key=key, base_url=base_url.rstrip("/"),
                           api=COMPATIBILITY[api])

    def write(self, data: dict[str, Any], answers: Answers) -> None:
        choice = answers.extra.get("model")
        if isinstance(choice, ModelChoice):
            write_choice(data, choice)
