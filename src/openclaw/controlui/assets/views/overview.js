// Overview: is this gateway healthy, what is it (version, profile, uptime), which of its ports
// listen, its channels, its model and its sessions.

import { Badge, Card, Dot, ErrorLine, KV, ago, duration, html, useRpc } from "../lib/ui.js";

export function Overview({ client }) {
  const [status, statusError] = useRpc(client, "status", {}, 5000);
  const [health, healthError] = useRpc(client, "health", {}, 5000);
  const gw = status?.gateway || {};
  const ports = gw.ports || {};
  const model = status?.modelRuntime || {};
  const healthy = health?.ok === true;
  return html`
    <h1>Overview</h1>
    <${ErrorLine} error=${statusError || healthError} />
    <div class="grid">
      <${Card} title="Gateway" id="gateway">
        <p data-testid="health">
          <${Dot} state=${health ? (healthy ? "ok" : "bad") : ""} />
          ${health ? (healthy ? "healthy" : "unhealthy") : "checking…"}
        </p>
        <${KV} rows=${[
          ["Profile", gw.profile || "-"], ["Version", gw.version || status?.runtimeVersion || "-"],
          ["Uptime", duration(status?.uptimeMs)], ["Bind", gw.bind ? `${gw.bind} (${gw.bindHost})` : "-"],
          ["PID", gw.pid || "-"],
          ["Connections", gw.connections ? `${gw.connections.open} open, ${gw.connections.authenticated} signed in` : "-"],
        ]} />
      <//>
      <${Card} title="Ports" id="ports">
        <${KV} rows=${[
          ["Gateway (WS + HTTP)", html`${ports.base ?? gw.port} <${Badge} kind="ok">listening<//>`],
          ["Browser control", html`${ports.control ?? "-"} ${listen(gw.browser?.listening)}`],
          ["Canvas", html`${ports.canvas ?? "-"} ${listen(gw.canvas?.listening)}`],
          ["Browser CDP range", ports.cdpRange ? `${ports.cdpRange[0]}–${ports.cdpRange[1]}` : "-"],
        ]} />
      <//>
      <${Card} title="Model" id="model">
        <${KV} rows=${[
          ["Default model", model.model || html`<span class="muted">none configured</span>`],
          model.configured && ["API key", keyCell(model)],
          model.fallbacks?.length && ["Fallbacks", model.fallbacks.join(", ")],
          model.error && ["Problem", html`<span class="error">${model.error}</span>`],
        ]} />
      <//>
    </div>
    <${Card} title="Channels" id="channels">
      ${status?.channelSummary?.length ? html`
        <table><thead><tr><th>Channel</th><th>State</th><th>Accounts</th></tr></thead><tbody>
          ${status.channelSummary.map((c) => html`<tr>
            <td>${c.label || c.id}</td>
            <td><${Dot} state=${c.connected ? "ok" : c.running ? "warn" : "bad"} />
              ${c.suppressed ? "suppressed" : c.connected ? "connected" : c.running ? "starting" : "stopped"}</td>
            <td>${(c.accounts || []).join(", ")}</td></tr>`)}
        </tbody></table>` : html`<p class="muted">No channels configured.</p>`}
    <//>
    <${Card} title="Sessions" id="sessions">
      <p>${status ? `${status.sessions.count} session${status.sessions.count === 1 ? "" : "s"}` : "…"}</p>
      ${status?.sessions?.recent?.length ? html`
        <table><thead><tr><th>Session</th><th>Updated</th></tr></thead><tbody>
          ${status.sessions.recent.map((s) => html`<tr><td>${s.key}</td><td>${ago(s.updatedAt)}</td></tr>`)}
        </tbody></table>` : null}
    <//>`;
}

// A keyless provider (a local model) needs none: say so rather than "present none needed".
const keyCell = (model) => model.keySource === "none needed" ? html`<${Badge} kind="ok">not needed<//>`
  : model.keyPresent ? html`<${Badge} kind="ok">present<//> <span class="muted">${model.keySource || ""}</span>`
  : html`<${Badge} kind="bad">missing<//>`;

const listen = (on) => on == null ? null
  : on ? html`<${Badge} kind="ok">listening<//>` : html`<${Badge}>not started<//>`;
