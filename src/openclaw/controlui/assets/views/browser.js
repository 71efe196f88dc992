// Browser: this gateway's browser profiles (running, CDP port, tabs) with start/stop, opening a
// page, and a screenshot of the current tab.

import { Badge, Card, ErrorLine, html, useAction, useEffect, useRpc, useState } from "../lib/ui.js";

const call = (client, method, path, body = {}, query = {}) =>
  client.request("browser.request", { method, path, body, query, timeoutMs: 60000 });

export function Browser({ client }) {
  const [data, loadError, reload] = useRpc(client, "browser.request", { method: "GET", path: "/profiles" }, 5000);
  const [shot, setShot] = useState(null);
  const [url, setUrl] = useState("https://example.com");
  const [act, busy, actError] = useAction(async (fn) => { await fn(); await reload(); });
  const profiles = data?.profiles || [];
  const fallback = profiles.find((p) => p.isDefault)?.name;
  useEffect(() => { // the latest one the browser service took, whoever asked for it
    if (!fallback || shot) return;
    call(client, "GET", "/screenshot/last", {}, { profile: fallback })
      .then((res) => setShot({ ...res, at: new Date(res.takenAt) }), () => {});
  }, [fallback]);
  const screenshot = (profile) => act(async () => {
    const res = await call(client, "POST", "/screenshot", { profile, inline: true });
    setShot({ ...res, profile, at: new Date() });
  });
  return html`
    <h1>Browser</h1>
    <${ErrorLine} error=${loadError || actError} />
    <${Card} title="Profiles" id="browser-profiles">
      ${profiles.length ? html`<table><thead><tr><th>Profile</th><th>State</th><th>CDP</th><th>Tabs</th><th></th></tr></thead>
        <tbody>${profiles.map((p) => html`<tr data-profile=${p.name}>
          <td>${p.name} ${p.isDefault ? html`<${Badge}>default<//>` : null}</td>
          <td>${p.running ? html`<${Badge} kind="ok">running<//>` : html`<${Badge}>stopped<//>`}</td>
          <td>${p.cdpUrl || p.cdpPort || "-"}</td><td>${p.tabCount ?? "-"}</td>
          <td><div class="row">
            <button disabled=${busy || p.running} onClick=${() => act(() => call(client, "POST", "/start", { profile: p.name }))}>Start</button>
            <button disabled=${busy || !p.running} onClick=${() => act(() => call(client, "POST", "/stop", { profile: p.name }))}>Stop</button>
            <button disabled=${busy || !p.running} data-action="screenshot" onClick=${() => screenshot(p.name)}>Screenshot</button>
          </div></td></tr>`)}</tbody></table>` : html`<p class="muted">${data ? "No browser profiles." : "Loading…"}</p>`}
      <form class="row" onSubmit=${(e) => { e.preventDefault(); act(() => call(client, "POST", "/tabs/open", { url })); }}>
        <input name="url" size="40" value=${url} onInput=${(e) => setUrl(e.target.value)} />
        <button type="submit" disabled=${busy}>Open in the default profile</button>
      </form>
    <//>
    <${Card} title="Last screenshot" id="screenshot">
      ${shot ? html`<p class="muted">${shot.profile} · ${shot.url} · ${shot.at.toLocaleTimeString()} · ${shot.path}</p>
        <img class="shot" alt="screenshot of the current tab" src=${`data:image/png;base64,${shot.data}`} />`
        : html`<p class="muted">None since the gateway started.</p>`}
    <//>`;
}
