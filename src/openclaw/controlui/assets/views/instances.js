// Instances: every gateway of this HOME as `openclaw gateways` sees them. Where this gateway has
// the rescue role and you are an admin, the actions that fit each one's state act on the others.
// Gateways other HOMEs run on this host are port neighbours: shown for the ports they hold, never acted on.

import { Badge, Card, Dot, ErrorLine, html, useAction, useRpc, useState } from "../lib/ui.js";

const health = (i) => (i.running ? (i.healthy ? "healthy" : "unhealthy") : "stopped");
const port = (value, listening) => `${value}${listening ? "*" : ""}`;
// A running one can be stopped or restarted, a stopped one started; doctor fits both.
const actionsFor = (i) => (i.running ? ["stop", "restart", "doctor"] : ["start", "doctor"]);

export function Instances({ client }) {
  const [data, loadError, reload] = useRpc(client, "instances.list", {}, 5000);
  const [result, setResult] = useState(null);
  const [run, busy, runError] = useAction(async (profile, action) => {
    setResult({ profile, action, reply: "working…", ok: null });
    const res = await client.request("instances.run", { profile, action });
    setResult(res);
    await reload();
  });
  const rows = data?.instances || [];
  const neighbours = data?.neighbours || [];
  return html`
    <h1>Instances</h1>
    <${ErrorLine} error=${loadError || runError} />
    <${Card} title="Gateways on this host" id="instances" actions=${data && html`
      ${data.canOperate ? html`<${Badge} kind="ok">rescue role: can operate<//>`
        : html`<${Badge}>${data.rescueRole ? "admin needed to operate" : "read-only (no rescue role)"}<//>`}`}>
      <div class="scroll"><table><thead><tr><th>Profile</th><th>Health</th><th></th><th>Base</th><th>Control</th>
        <th>Canvas</th><th>CDP</th><th>PID</th><th>Service</th><th>Collisions</th></tr></thead>
        <tbody>${rows.map((i) => html`<tr data-instance=${i.profile}>
          <td>${i.profile} ${i.self ? html`<${Badge}>this one<//>` : null}</td>
          <td data-health=${health(i)}><${Dot} state=${i.running ? (i.healthy ? "ok" : "bad") : ""} /> ${health(i)}</td>
          <td><div class="row">${data.canOperate && !i.self ? actionsFor(i).map((a) => html`
            <button disabled=${busy} data-action=${a} onClick=${() => run(i.profile, a)}>${a}</button>`) : null}</div></td>
          <td data-port="base">${port(i.base, i.baseListening)}</td><td>${port(i.control, i.controlListening)}</td>
          <td>${port(i.canvas, i.canvasListening)}</td><td>${(i.cdpRange || []).join("–")}</td>
          <td>${i.pid || "-"}</td><td>${i.service || "-"}</td>
          <td>${(i.collisions || []).length ? html`<span class="error">${i.collisions.map((c) => `${c.kind} ${c.other} ${(c.ports || []).join(",")}`).join("; ")}</span>` : "none"}</td>
        </tr>`)}</tbody></table></div>
      <p class="muted">* listening. Ports are each instance's footprint: base (WS + HTTP), browser control, canvas, CDP range.</p>
    <//>
    ${neighbours.length ? html`<${Card} title="Port neighbours" id="neighbours">
      <p class="muted">Gateways other HOMEs run on this host. Their ports are taken; they are not managed from here.</p>
      <div class="scroll"><table><thead><tr><th>Profile</th><th>HOME</th><th>Base</th><th>CDP</th><th>PID</th></tr></thead>
        <tbody>${neighbours.map((n) => html`<tr data-neighbour=${n.pid}>
          <td>${n.profile}</td><td>${n.home || "-"}</td><td>${port(n.base, n.baseListening)}</td>
          <td>${(n.cdpRange || []).join("–")}</td><td>${n.pid || "-"}</td></tr>`)}</tbody></table></div>
    <//>` : null}
    ${result && html`<${Card} title=${`${result.action} ${result.profile}`} id="instance-result">
      <pre data-ok=${String(result.ok)}>${result.reply}</pre><//>`}`;
}
