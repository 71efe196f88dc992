#!/usr/bin/env bash
# Regenerate tests/fixtures/upstream/*.json: config files written by upstream OpenClaw's own CLI
# (onboard, config set), each in a fresh HOME, with that HOME rewritten to /home/user.
# Needs upstream's CLI (openclaw-upstream on PATH, or OPENCLAW_UPSTREAM_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
up=${OPENCLAW_UPSTREAM_BIN:-$(command -v openclaw-upstream || echo /opt/upstream/bin/openclaw-upstream)}
out=tests/fixtures/upstream
mkdir -p "$out"

fresh() { HOME_DIR=$(mktemp -d); }
run() { HOME=$HOME_DIR "$up" "$@" >/dev/null; }
keep() {  # keep <profile-state-dir> <name>
  sed "s#$HOME_DIR#/home/user#g" "$HOME_DIR/$1/openclaw.json" > "$out/$2.json"
  echo "$out/$2.json"
}
onboard=(onboard --non-interactive --accept-risk --skip-daemon --skip-health)

fresh; run "${onboard[@]}"; keep .openclaw onboard-default
fresh; run "${onboard[@]}" --auth-choice apiKey --anthropic-api-key sk-ant-fixture-key; keep .openclaw onboard-anthropic
fresh; run "${onboard[@]}" --auth-choice openrouter-api-key --openrouter-api-key sk-or-fixture-key --gateway-bind lan --gateway-port 19789
keep .openclaw onboard-openrouter-lan
fresh; run --profile rescue "${onboard[@]}" --gateway-port 19789; keep .openclaw-rescue onboard-profile-rescue
fresh; run "${onboard[@]}"
for kv in "gateway.controlUi.allowedOrigins=[\"https://ops.example.com\"]" "gateway.reload.mode=\"off\"" \
    "channels.telegram.botToken=\"123456:ABC-fixture\"" "channels.telegram.dmPolicy=\"pairing\"" \
    "channels.telegram.groups={\"-1001\":{\"requireMention\":true}}" "agents.defaults.model=\"anthropic/claude-opus-5\"" \
    "agents.defaults.timeoutSeconds=600" "session.dmScope=\"per-channel-peer\"" "tools.deny=[\"exec\"]" \
    "browser.headless=true" "logging.level=\"debug\"" "gateway.http.endpoints.chatCompletions.enabled=true" \
    "models.providers.local={\"baseUrl\":\"http://127.0.0.1:8000/v1\",\"api\":\"openai-completions\",\"models\":[{\"id\":\"qwen\",\"name\":\"Qwen\"}]}"; do
  run config set "${kv%%=*}" "${kv#*=}" --strict-json
done
keep .openclaw config-set
fresh; run "${onboard[@]}"
HOME=$HOME_DIR .venv/bin/python scripts/upstream_configure.py "$up" >/dev/null
keep .openclaw configure-gateway
