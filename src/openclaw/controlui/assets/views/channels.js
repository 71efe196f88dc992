// Channels: each channel's state with start/stop, and the DM pairing requests waiting for an
// operator, approved (or dismissed) from here.

import { Badge, Card, Dot, ErrorLine, ago, html, useAction, useRpc } from "../lib/ui.js";

// Telegram and Discord name their bot by username, Slack by its user name.
const botName = (bot) => bot?.username || bot?.name || null;

export function Channels({ client }) {
  const [status, statusError, reloadStatus] = useRpc(client, "channels.status", {}, 5000);
  const [pairing, pairingError, reloadPairing] = useRpc(client, "channels.pairing.list", {}, 5000);
  const [act, busy, actError] = useAction(async (method, params) => {
    const result = await client.request(method, params);
    await Promise.all([reloadStatus(), reloadPairing()]);
    return result;
  });
  const channels = Object.entries(status?.channels || {});
  const requests = pairing?.requests || [];
  return html`
    <h1>Channels</h1>
    <${ErrorLine} error=${statusError || actError} />
    <${Card} title="Channels" id="channel-list">
      ${channels.length ? html`<table><thead><tr><th>Channel</th><th>State</th><th>Accounts</th><th></th></tr></thead>
        <tbody>${channels.map(([id, c]) => html`<tr data-channel=${id}>
          <td>${c.label || id}</td>
          <td><${Dot} state=${c.connected ? "ok" : c.running ? "warn" : "bad"} />
            ${c.suppressed ? "suppressed (crash loop)" : c.connected ? "connected" : c.running ? "starting" : "stopped"}
            ${c.lastError ? html`<div class="error">${c.lastError}</div>` : null}</td>
          <td>${Object.values(c.accounts || {}).map((a) => html`<div data-account=${a.accountId}
              data-connected=${a.connected ? "yes" : "no"}><${Dot} state=${a.connected ? "ok" : "bad"} /> ${a.accountId}
            ${botName(a.bot) ? html` <span class="muted">@${botName(a.bot)}</span>` : null}
            ${a.lastError ? html`<div class="error">${a.lastError}</div>` : null}</div>`)}
            ${Object.keys(c.accounts || {}).length ? null : "-"}</td>
          <td><div class="row">
            <button disabled=${busy || c.running} onClick=${() => act("channels.start", { channel: id })}>Start</button>
            <button disabled=${busy || !c.running} onClick=${() => act("channels.stop", { channel: id })}>Stop</button>
          </div></td></tr>`)}</tbody></table>`
        : html`<p class="muted">No channels configured. Add one with <code>openclaw channels add</code>
            or in Config (channels.telegram.botToken, channels.discord.token,
            channels.slack.botToken + appToken).</p>`}
    <//>
    <${Card} title="Pending pairing requests" id="pairing">
      <${ErrorLine} error=${pairingError} />
      ${requests.length ? html`<table><thead><tr><th>Channel</th><th>Sender</th><th>Asked</th><th>Expires</th><th></th></tr></thead>
        <tbody>${requests.map((r) => html`<tr data-request=${r.requestId} data-sender=${r.senderId}>
          <td>${r.channelLabel} <span class="muted">${r.accountId}</span></td>
          <td>${r.senderId}${r.metadata?.username ? html` <span class="muted">@${r.metadata.username}</span>` : null}</td>
          <td>${ago(Date.parse(r.createdAt))}</td>
          <td>${new Date(r.expiresAt).toLocaleTimeString()}</td>
          <td><div class="row">
            <button class="primary" disabled=${busy} data-action="approve" onClick=${() => act("channels.pairing.approve",
              { channel: r.channel, accountId: r.accountId, requestId: r.requestId, notify: true })}>Approve</button>
            <button disabled=${busy} data-action="dismiss" onClick=${() => act("channels.pairing.dismiss",
              { channel: r.channel, accountId: r.accountId, requestId: r.requestId })}>Dismiss</button>
          </div></td></tr>`)}</tbody></table>`
        : html`<p class="muted">No one is waiting. ${pairing?.accounts?.length
          ? html`<${Badge}>${pairing.accounts.length} account(s) use pairing<//>` : ""}</p>`}
    <//>`;
}
