// Small building blocks every view uses: the UI library's exports, a hook that keeps an RPC
// result fresh, and a few presentational pieces.

import { html, useCallback, useEffect, useRef, useState } from "../vendor/preact-htm.js";

export { html, render, useCallback, useEffect, useMemo, useRef, useState } from "../vendor/preact-htm.js";

/** `[data, error, reload]` for `method(params)`, re-read every `everyMs` (0: once) while shown. */
export function useRpc(client, method, params = {}, everyMs = 0) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const key = JSON.stringify(params);
  const alive = useRef(true);
  const load = useCallback(async () => {
    try {
      const result = await client.request(method, JSON.parse(key));
      if (alive.current) { setData(result); setError(null); }
    } catch (err) {
      if (alive.current) setError(err);
    }
  }, [client, method, key]);
  useEffect(() => {
    alive.current = true;
    load();
    const timer = everyMs ? setInterval(load, everyMs) : null;
    return () => { alive.current = false; if (timer) clearInterval(timer); };
  }, [load, everyMs]);
  return [data, error, load];
}

/** Run an action, showing its error; returns `[run, busy, error]`. */
export function useAction(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = useCallback(async (...args) => {
    setBusy(true); setError(null);
    try { return await action(...args); } catch (err) { setError(err); return undefined; } finally { setBusy(false); }
  }, [action]);
  return [run, busy, error];
}

export const Card = ({ title, actions, children, id }) => html`
  <section class="card" data-card=${id || title}>
    ${(title || actions) && html`<header><h2>${title}</h2><div class="row">${actions}</div></header>`}
    ${children}
  </section>`;

export const KV = ({ rows }) => html`
  <table class="kv"><tbody>
    ${rows.filter(Boolean).map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}
  </tbody></table>`;

export const Dot = ({ state }) => html`<span class=${`dot ${state || ""}`}></span>`;

export const Badge = ({ kind, children }) => html`<span class=${`badge ${kind || ""}`}>${children}</span>`;

export const ErrorLine = ({ error }) => error ? html`<p class="error" role="alert">${error.message || String(error)}</p>` : null;

export function duration(ms) {
  if (ms == null) return "-";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function ago(ts) {
  return ts ? `${duration(Date.now() - ts)} ago` : "-";
}

/** The text of a transcript message (`content` as a string or as typed parts). */
export function messageText(message) {
  const content = message && message.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === "string" ? p : p.text || "")).join("");
  return message && typeof message.text === "string" ? message.text : "";
}
