// This browser's device identity: an Ed25519 key pair made with WebCrypto, the private half
// non-extractable and kept in IndexedDB, so the gateway sees the same device on every visit.
// Browsers without Ed25519 in WebCrypto (or outside a secure context) connect without one.

const DB = "openclaw-control-ui";
const STORE = "keys";

function idb(mode, action) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction(STORE, mode);
      const req = action(tx.objectStore(STORE));
      tx.oncomplete = () => { open.result.close(); resolve(req.result); };
      tx.onerror = () => reject(tx.error);
    };
  });
}

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const hex = (bytes) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

async function keyPair() {
  const stored = await idb("readonly", (s) => s.get("device"));
  if (stored && stored.privateKey && stored.publicKey) return stored;
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  await idb("readwrite", (s) => s.put(pair, "device"));
  return pair;
}

/** `{id, publicKey, sign(payload)}`, or null where the browser cannot hold an Ed25519 key. */
export async function deviceIdentity() {
  if (!window.isSecureContext || !crypto.subtle || !window.indexedDB) return null;
  try {
    const pair = await keyPair();
    const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
    return {
      id: hex(await crypto.subtle.digest("SHA-256", raw)),
      publicKey: b64url(raw),
      sign: async (text) => b64url(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey,
        new TextEncoder().encode(text))),
    };
  } catch (err) {
    console.warn("no device identity:", err);
    return null;
  }
}
