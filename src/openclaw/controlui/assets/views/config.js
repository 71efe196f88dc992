// Config: the file with secrets redacted, edited as JSON5 and saved through the validator
// (its problems shown inline, nothing written), guarded by the hash it was loaded with, and a
// rollback to the last config this gateway started with.

import { Badge, Card, ErrorLine, html, useAction, useEffect, useRpc, useState } from "../lib/ui.js";

export function Config({ client }) {
  const [snap, loadError, reload] = useRpc(client, "config.get", {});
  const [text, setText] = useState("");
  const [notice, setNotice] = useState("");
  const [problems, setProblems] = useState(null);
  useEffect(() => { if (snap) setText(snap.raw ?? JSON.stringify(snap.parsed ?? {}, null, 2)); }, [snap]);

  const [save, saving, saveError] = useAction(async () => {
    setNotice(""); setProblems(null);
    try {
      const res = await client.request("config.set", { raw: text, baseHash: snap.hash });
      setNotice(res.restart ? `Saved. The gateway applies it with a restart (${res.restart}).` : "Saved and applied.");
      await reload();
    } catch (err) {
      const issues = err.details?.issues;
      if (Array.isArray(issues) && issues.length) { setProblems(issues); return; }
      throw err;
    }
  });
  const [rollback, rolling, rollbackError] = useAction(async () => {
    if (!confirm("Put back the config this gateway last started with?")) return;
    const res = await client.request("config.rollback", {});
    setNotice(`Rolled back (${res.changedPaths.length} key${res.changedPaths.length === 1 ? "" : "s"} changed).`);
    setProblems(null);
    await reload();
  });
  const stale = saveError && /changed since last load/.test(saveError.message);
  return html`
    <h1>Config</h1>
    <${ErrorLine} error=${loadError} />
    <${Card} title=${snap ? snap.path : "openclaw.json"} id="config"
      actions=${html`
        ${snap && html`<${Badge} kind=${snap.valid ? "ok" : "bad"}>${snap.valid ? "valid" : "invalid"}<//>`}
        <button onClick=${reload}>Reload</button>
        <button onClick=${rollback} disabled=${rolling} data-action="rollback">Roll back</button>
        <button class="primary" onClick=${save} disabled=${saving || !snap} data-action="save">Save</button>`}>
      <p class="muted">Secrets show as __OPENCLAW_REDACTED__ and are kept as they are when you save.</p>
      ${snap && !snap.valid && snap.issues?.length ? html`<ul class="issues">
        ${snap.issues.map((i) => html`<li>${i.path}: ${i.message}</li>`)}</ul>` : null}
      ${problems && html`<div role="alert" data-testid="config-problems"><p class="error">Not saved: the validator
        refused it.</p><ul class="issues">${problems.map((i) => html`<li>${i.path}: ${i.message}</li>`)}</ul></div>`}
      ${stale ? html`<p class="error" role="alert">The file changed since you loaded it. Reload, then apply your
        edit again.</p>` : html`<${ErrorLine} error=${saveError || rollbackError} />`}
      ${notice && html`<p class="muted" role="status">${notice}</p>`}
      <textarea class="code" spellcheck="false" value=${text} onInput=${(e) => setText(e.target.value)}
        name="config"></textarea>
    <//>`;
}
