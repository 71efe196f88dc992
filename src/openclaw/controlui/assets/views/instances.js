// Instances: every gateway on this host as `openclaw gateways` sees them. Where this gateway has
// the rescue role and you are an admin, start/stop/restart and doctor act on the others.

import { Badge, Card, Dot, ErrorLine, html, useAction, useRpc, useState } from "../lib/ui.js";

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
  return html`
    <h1>Instances</h1>
    <${ErrorLine} error=${loadError || runError} />
    <${Card} title="Gateways on this host" id="instances" actions=${data && html`
      ${data.canOperate ? html`<${Badge} kind="ok">rescue role: can operate<//>`
        : html`<${Badge}>${data.rescueRole ? "admin needed to operate" : "read-only (no rescue role)"}<//>`}`}>
      <table><thead><tr><th>Profile</th><th>Base</th><th>Control</th><th>Canvas</th><th>CDP</th><th>PID</th>
        <th>Health</th><th>Service</th><th>Collisions</th><th></th></tr></thead>
        <tbody>${rows.map((i) => html`<tr data-instance=${i.profile}>
          <td>${i.profile} ${i.self ? html`<${Badge}>this one<//>` : null}</td>
          <td>${i.base}</td><td>${i.control}${i.controlListening ? "*" : ""}</td>
          <td>${i.canvas}${i.canvasListening ? "*" : ""}</td><td>${(i.cdpRange || []).join("–")}</td>
          <td>${i.pid || "-"}</td>
          <td data-health=${i.running ? (i.healthy ? "healthy" : "unhealthy") : "stopped"}>
            <${Dot} state=${i.running ? (i.healthy ? "ok" : "bad") : ""} />
            ${i.running ? (i.healthy ? "healthy" : "unhealthy") : "stopped"}</td>
          <td>${i.service || "-"}</td>
          <td>${(i.collisions || []).length ? html`<span class="error">${i.collisions.map((c) => `${c.kind} ${c.other} ${(c.ports || []).join(",")}`).join("; ")}</span>` : "none"}</td>
          <td><div class="row">${data.canOperate && !i.self ? ["start", "stop", "restart", "doctor"].map((a) => html`
            <button disabled=${busy} data-action=${a} onClick=${() => run(i.profile, a)}>${a}</button>`) : null}</div></td>
        </tr>`)}</tbody></table>
      <p class="muted">* listening. Ports are each instance's footprint: base (WS + HTTP), browser control, canvas, CDP range.</p>
    <//>
    ${result && html`<${Card} title=${`${result.action} ${result.profile}`} id="instance-result">
      <pre data-ok=${String(result.ok)}>${result.reply}</pre><//>`}`;
}
