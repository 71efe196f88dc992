// Chat: the sessions, one session's history, a message box; replies stream in from `chat`
// events (each delta carries the whole text so far) and a running reply can be aborted. A chat
// command (`/new`, `/model`, ...) is answered by the gateway at once and kept out of the history:
// its answer shows as a notice under the messages.

import { Card, ErrorLine, ago, html, messageText, useEffect, useRef, useRpc, useState } from "../lib/ui.js";

const MAIN = "agent:main:main";

export function Chat({ client }) {
  const [list, listError, reloadList] = useRpc(client, "sessions.list", { limit: 100 }, 10000);
  const [key, setKey] = useState(MAIN);
  const sessions = list?.sessions || [];
  const keys = sessions.some((s) => s.key === key) ? sessions : [{ key, updatedAt: null }, ...sessions];
  return html`
    <h1>Chat</h1>
    <${ErrorLine} error=${listError} />
    <div class="chat">
      <${Card} title="Sessions" id="sessions">
        <ul class="sessions">
          ${keys.map((s) => html`<li><a href="#" class=${s.key === key ? "active" : ""} title=${s.key}
              data-session=${s.key} onClick=${(e) => { e.preventDefault(); setKey(s.key); }}>
              ${s.label || s.key}<br /><span class="muted">${s.updatedAt ? ago(s.updatedAt) : "new"}</span></a></li>`)}
        </ul>
      <//>
      <${Conversation} client=${client} sessionKey=${key} onSent=${reloadList} shown=${listError} />
    </div>`;
}

// `shown`: the error the page already shows above (no model configured fails both reads alike).
function Conversation({ client, sessionKey, onSent, shown }) {
  const [history, historyError, reload] = useRpc(client, "chat.history", { sessionKey, limit: 200 });
  const [live, setLive] = useState(null); // {runId, text, state}
  const [draft, setDraft] = useState("");
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const lastFinal = useRef(null); // {runId, text}: a command's answer arrives before chat.send's response
  const box = useRef(null);

  useEffect(() => client.on((event, payload) => {
    if (event !== "chat" || payload.sessionKey !== sessionKey) return;
    if (payload.state === "delta") {
      setLive({ runId: payload.runId, text: messageText(payload.message), state: "streaming" });
    } else {
      setLive(null);
      if (payload.state === "final") lastFinal.current = { runId: payload.runId, text: messageText(payload.message) };
      if (payload.state === "error") setError(new Error(payload.errorMessage));
      reload();
      onSent && onSent();
    }
  }), [client, sessionKey, reload]);
  useEffect(() => { setLive(null); setError(null); setNotice(null); }, [sessionKey]);
  useEffect(() => { if (box.current) box.current.scrollTop = box.current.scrollHeight; }, [history, live, notice]);

  const send = async (ev) => {
    ev.preventDefault();
    const message = draft.trim();
    if (!message) return;
    setError(null);
    setNotice(null);
    setDraft("");
    setLive({ runId: null, text: "", state: "waiting", pending: message });
    try {
      const res = await client.request("chat.send", { sessionKey, message, idempotencyKey: crypto.randomUUID() });
      setLive((cur) => (cur && !cur.runId ? { ...cur, runId: res.runId } : cur));
      if (res.status === "ok") { // a command, already answered
        setLive(null);
        setNotice(lastFinal.current && lastFinal.current.runId === res.runId ? lastFinal.current.text : null);
      }
      reload();
    } catch (err) {
      setLive(null);
      setError(err);
    }
  };
  const abort = async () => {
    try { await client.request("chat.abort", { sessionKey }); } catch (err) { setError(err); }
  };
  const messages = (history?.messages || []).filter((m) => m.role === "user" || m.role === "assistant"
    || m.role === "toolResult");
  return html`
    <${Card} title=${sessionKey} id="conversation"
      actions=${live ? html`<button class="danger" onClick=${abort} data-action="abort">Stop</button>` : null}>
      <${ErrorLine} error=${[historyError, error].find((e) => e && e.message !== shown?.message)} />
      <div class="messages" ref=${box} data-testid="messages">
        ${messages.map((m) => html`<div class=${`msg ${m.role === "toolResult" ? "tool" : m.role}`} data-role=${m.role}>
          ${m.role === "toolResult" ? `${m.toolName || "tool"}: ${messageText(m).slice(0, 300)}` : messageText(m)
            || (m.content || []).filter((p) => p.type === "toolCall").map((p) => `→ ${p.name}`).join(" ")}</div>`)}
        ${live && live.pending && !messages.some((m) => m.role === "user" && messageText(m) === live.pending)
          ? html`<div class="msg user" data-role="user">${live.pending}</div>` : null}
        ${live ? html`<div class="msg assistant" data-role="assistant" data-streaming="true">
          ${live.text || html`<span class="muted">…</span>`}</div>` : null}
        ${notice ? html`<div class="msg notice" data-role="notice">${notice}</div>` : null}
      </div>
      <form class="composer" onSubmit=${send}>
        <textarea placeholder="Message the assistant (Enter sends, Shift+Enter for a new line)" value=${draft}
          name="message" onInput=${(e) => setDraft(e.target.value)}
          onKeyDown=${(e) => { if (e.key === "Enter" && !e.shiftKey) send(e); }}></textarea>
        <button class="primary" type="submit" disabled=${!draft.trim()}>Send</button>
      </form>
    <//>`;
}
