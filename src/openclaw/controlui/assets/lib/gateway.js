// A protocol-v4 client for the page: the challenge, `connect` (with this browser's device
// identity when it has one), requests that resolve with their `res`, events to subscribers,
// and reconnection with backoff. Nothing in it knows about views.

import { deviceIdentity } from "./device.js";

const SCOPES = ["operator.admin", "operator.read", "operator.write", "operator.approvals", "operator.pairing"];
const CLIENT = { id: "openclaw-control-ui", mode: "webchat", displayName: "Control UI" };
const REQUEST_TIMEOUT_MS = 130000;

const asciiLower = (text) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

export class GatewayClient {
  constructor(url, token) {
    this.url = url;
    this.token = token;
    this.state = "idle"; // idle | connecting | open | closed | auth
    this.hello = null;
    this.error = "";
    this._ws = null;
    this._pending = new Map();
    this._seq = 0;
    this._listeners = new Set();
    this._stateListeners = new Set();
    this._retryMs = 500;
    this._timer = null;
    this._instanceId = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
  }

  /** `fn(event, payload)` for every event; returns an unsubscribe function. */
  on(fn) { this._listeners.add(fn); return () => this._listeners.delete(fn); }
  onState(fn) { this._stateListeners.add(fn); return () => this._stateListeners.delete(fn); }

  _setState(state, error = "") {
    this.state = state;
    this.error = error;
    for (const fn of this._stateListeners) fn(state, error);
  }

  start() {
    clearTimeout(this._timer);
    this._device = this._device || deviceIdentity(); // made (or read) while the socket opens
    this._setState("connecting");
    const ws = new WebSocket(this.url);
    this._ws = ws;
    ws.onmessage = (msg) => this._frame(ws, msg.data);
    ws.onclose = (ev) => this._closed(ws, ev);
  }

  stop() {
    clearTimeout(this._timer);
    if (this._ws) { const ws = this._ws; this._ws = null; ws.close(1000); }
    this._setState("idle");
  }

  useToken(token) { this.token = token; this.stop(); this.start(); }

  /** The method's payload, or an Error carrying the gateway's `code` and `details`. */
  request(method, params = {}) {
    if (this.state !== "open") return Promise.reject(new Error("not connected to the gateway"));
    return this._send(method, params);
  }

  _send(method, params) {
    const id = `ui-${++this._seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, REQUEST_TIMEOUT_MS);
      this._pending.set(id, { resolve, reject, timer });
      this._ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }

  async _frame(ws, data) {
    if (ws !== this._ws) return;
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    if (frame.type === "event" && frame.event === "connect.challenge") {
      this._connect(frame.payload || {});
    } else if (frame.type === "res") {
      const pending = this._pending.get(frame.id);
      if (!pending) return;
      this._pending.delete(frame.id);
      clearTimeout(pending.timer);
      if (frame.ok) pending.resolve(frame.payload);
      else pending.reject(Object.assign(new Error(frame.error?.message || "request failed"),
        { code: frame.error?.code, details: frame.error?.details }));
    } else if (frame.type === "event") {
      for (const fn of this._listeners) fn(frame.event, frame.payload);
    }
  }

  async _connect(challenge) {
    const params = {
      minProtocol: 4, maxProtocol: 4,
      client: { ...CLIENT, version: "control-ui", platform: navigator.platform || "web", instanceId: this._instanceId },
      role: "operator", scopes: SCOPES, caps: [],
      userAgent: navigator.userAgent, locale: navigator.language,
    };
    if (this.token) params.auth = { token: this.token };
    const device = await this._device;
    if (device && challenge.nonce) {
      const signedAt = challenge.ts;
      const payload = ["v3", device.id, CLIENT.id, CLIENT.mode, "operator", SCOPES.join(","), signedAt,
        this.token || "", challenge.nonce, asciiLower(params.client.platform.trim()), ""].join("|");
      params.device = { id: device.id, publicKey: device.publicKey, signature: await device.sign(payload),
        signedAt, nonce: challenge.nonce };
    }
    try {
      this.hello = await this._send("connect", params);
      this._retryMs = 500;
      this._setState("open");
    } catch (err) {
      this._authError = err;
    }
  }

  _closed(ws, ev) {
    if (ws !== this._ws) return;
    this._ws = null;
    for (const { reject, timer } of this._pending.values()) { clearTimeout(timer); reject(new Error("connection closed")); }
    this._pending.clear();
    const refused = this._authError;
    this._authError = null;
    if (refused && /token|password|unauthorized|auth|origin|device/i.test(refused.message)) {
      this._setState("auth", refused.message);
      return; // a person has to act: no point retrying
    }
    this._setState("closed", refused ? refused.message : (ev.reason || "connection lost"));
    this._timer = setTimeout(() => this.start(), this._retryMs);
    this._retryMs = Math.min(this._retryMs * 2, 10000);
  }
}

/** The gateway's WebSocket URL: the page's own origin and base path. */
export function gatewayUrl() {
  const base = new URL(document.baseURI);
  return `${base.protocol === "https:" ? "wss" : "ws"}://${base.host}${base.pathname.replace(/\/$/, "") || "/"}`;
}
