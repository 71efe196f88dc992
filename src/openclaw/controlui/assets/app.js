// The Control UI: one protocol connection to the gateway that served the page, a view per
// concern. The token comes from the URL fragment (never sent to a server) or a prompt, and is
// kept in this origin's localStorage, so each gateway's page remembers its own.

import { GatewayClient, gatewayUrl } from "./lib/gateway.js";
import { html, render, useEffect, useState } from "./lib/ui.js";

// Each view's code loads when it is first shown; the connection does not wait for any of them.
const VIEWS = [
  ["overview", "Overview", () => import("./views/overview.js")], ["chat", "Chat", () => import("./views/chat.js")],
  ["channels", "Channels", () => import("./views/channels.js")], ["config", "Config", () => import("./views/config.js")],
  ["logs", "Logs", () => import("./views/logs.js")], ["browser", "Browser", () => import("./views/browser.js")],
  ["instances", "Instances", () => import("./views/instances.js")],
];
const loaded = new Map(); // view id -> its component

function useView(id) {
  const [component, setComponent] = useState(() => loaded.get(id) || null);
  useEffect(() => {
    if (loaded.has(id)) { setComponent(() => loaded.get(id)); return undefined; }
    let alive = true;
    const [, , load] = VIEWS.find(([v]) => v === id);
    load().then((module) => {
      const View = Object.values(module).find((v) => typeof v === "function");
      loaded.set(id, View);
      if (alive) setComponent(() => View);
    });
    return () => { alive = false; };
  }, [id]);
  return component;
}
const TOKEN_KEY = "openclaw.gateway.token";
const base = new URL(document.baseURI).pathname.replace(/\/?$/, "/");

function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromUrl = fragment.get("token");
  if (fromUrl) {
    localStorage.setItem(TOKEN_KEY, fromUrl);
    history.replaceState(null, "", location.pathname + location.search); // out of the address bar
  }
  return fromUrl || localStorage.getItem(TOKEN_KEY) || "";
}

function currentView() {
  const rest = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : "";
  return VIEWS.some(([id]) => id === rest) ? rest : "overview";
}

function Login({ client, message }) {
  const [token, setToken] = useState("");
  const submit = (ev) => {
    ev.preventDefault();
    localStorage.setItem(TOKEN_KEY, token.trim());
    client.useToken(token.trim());
  };
  return html`
    <form class="card login" onSubmit=${submit}>
      <h1>Connect to this gateway</h1>
      <p class="muted">Paste the gateway token (gateway.auth.token) or password.
        ${" "}<code>openclaw dashboard</code> prints a link that carries it.</p>
      ${message && html`<p class="error" role="alert">${message}</p>`}
      <input type="password" name="token" placeholder="token or password" value=${token}
        onInput=${(e) => setToken(e.target.value)} autocomplete="current-password" />
      <button class="primary" type="submit">Connect</button>
    </form>`;
}

/** This gateway's profile for the sidebar: from the hello when it carries one (its health snapshot is
 * empty until the first health check), else asked once; the address only if that fails. */
function useProfile(client, state) {
  const [profile, setProfile] = useState(null);
  useEffect(() => {
    if (state !== "open") return undefined;
    let alive = true;
    const known = client.hello?.snapshot?.health?.gateway?.profile;
    if (known) setProfile(known);
    else client.request("health", {}).then((h) => h?.gateway?.profile || location.host, () => location.host)
      .then((name) => { if (alive) setProfile(name); });
    return () => { alive = false; };
  }, [client, state]);
  return profile;
}

function App({ client }) {
  const [state, setState] = useState(client.state);
  const [error, setError] = useState(client.error);
  const [view, setView] = useState(currentView());
  useEffect(() => client.onState((s, e) => { setState(s); setError(e); }), [client]);
  useEffect(() => {
    const pop = () => setView(currentView());
    addEventListener("popstate", pop);
    return () => removeEventListener("popstate", pop);
  }, []);
  const View = useView(view);
  const profile = useProfile(client, state);
  if (state === "auth") return html`<${Login} client=${client} message=${error} />`;
  const go = (id) => (ev) => {
    ev.preventDefault();
    history.pushState(null, "", base + (id === "overview" ? "" : id));
    setView(id);
  };
  return html`
    <div class="shell">
      <nav>
        <div class="brand"><img src="assets/icon.svg" alt="" /> OpenClaw</div>
        ${VIEWS.map(([id, label]) => html`
          <a href=${base + (id === "overview" ? "" : id)} class=${id === view ? "active" : ""}
             data-view=${id} onClick=${go(id)}>${label}</a>`)}
        <div class="conn" data-state=${state}>
          <span class=${`dot ${state === "open" ? "ok" : state === "connecting" ? "warn" : "bad"}`}></span>
          ${state === "open" ? html`connected${profile ? html` · <span data-testid="profile">${profile}</span>` : ""}` : state}
          ${error && state !== "open" ? html`<div>${error}</div>` : null}
        </div>
      </nav>
      <main>
        ${state !== "open" ? html`<p class="muted">Connecting to the gateway…</p>`
          : View ? html`<${View} client=${client} hello=${client.hello} />` : html`<p class="muted">Loading…</p>`}
      </main>
    </div>`;
}

const client = new GatewayClient(gatewayUrl(), takeToken());
client.start();
const root = document.getElementById("app");
root.textContent = ""; // the boot message
render(html`<${App} client=${client} />`, root);
