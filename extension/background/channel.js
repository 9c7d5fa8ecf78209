// The fast channel (Chromium; docs/design.md "The fast channel"): a MessagePort straight from a
// frame's relay to this worker, next to the relay's runtime port.
//
// A runtime port message goes relay → browser process → worker and back (an empty round trip is
// ~0.4 ms); a MessagePort is a direct pipe between the two renderers (~0.1 ms). No browser API
// hands a content script a port to the worker, so the relay asks for a one-time token on its
// runtime port (`channel-open`), creates a MessageChannel, and posts the token with one end to
// Latchkey's channel page (extension/channel/), loaded for a moment in a hidden <iframe>: a page's
// scripts cannot read what is posted to a cross-origin frame. The page passes both on to this
// worker (`channel-bind`). The worker binds the port to the runtime port that asked for the token:
// everything arriving on it is handled exactly like that port's messages, with the browser-made
// `sender` of the runtime port (never anything the page or the port says), and the fast port is
// closed with it. A token is random (128 bits), used once, and expires after CHANNEL_TOKEN_MS.
//
// Firefox has no worker here (its background is an event page): the channel page is not in its
// manifest and the relay keeps to its runtime port.

import { api } from "../shared/browser.js";

export const CHANNEL_PAGE = "extension/channel/channel.html";
const CHANNEL_TOKEN_MS = 10_000;

/** @type {Map<string, {runtimePort: object, bind: (port: MessagePort) => void, expires: number}>} */
const tokens = new Map();
let bound = 0;
let messages = 0;

/** For vault-status (tests): fast ports open now, messages received on them in this worker's life. */
export const channelState = () => ({ available: hasChannelPage(), bound, messages });

let channelPage = null;
function hasChannelPage() {
  if (channelPage === null) {
    try {
      const resources = api.runtime.getManifest().web_accessible_resources ?? [];
      channelPage = typeof MessageChannel === "function" && resources.some((r) => Array.isArray(r.resources) && r.resources.includes(CHANNEL_PAGE));
    } catch {
      channelPage = false;
    }
  }
  return channelPage;
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * `channel-open` on `runtimePort`: a token for one fast port, or null where there is no channel
 * page. `handle(data, post)` handles one `{seq, message}` from the fast port as the runtime port's
 * listener does, answering through `post`.
 * @param {{disconnectHandlers: Array<() => void>}} link the runtime port's state (its close closes the fast ports)
 */
export function openChannel(runtimePort, link, handle) {
  if (!hasChannelPage()) return null;
  const now = Date.now();
  for (const [t, e] of tokens) if (e.expires <= now) tokens.delete(t);
  const token = hex(crypto.getRandomValues(new Uint8Array(16)));
  tokens.set(token, {
    runtimePort,
    expires: now + CHANNEL_TOKEN_MS,
    bind(port) {
      let open = true;
      bound++;
      const close = () => {
        if (!open) return;
        open = false;
        bound--;
        port.onmessage = null;
        port.close();
      };
      link.disconnectHandlers.push(close);
      const post = (m) => {
        if (open) port.postMessage(m);
      };
      port.onmessage = (event) => {
        messages++;
        handle(event.data, post);
      };
      post({ ready: true });
    },
  });
  return token;
}

/** A runtime port closed: its tokens are void. */
export function forgetTokens(runtimePort) {
  for (const [t, e] of tokens) if (e.runtimePort === runtimePort) tokens.delete(t);
}

/**
 * The worker's `message` event (Chromium): `{type: "channel-bind", token}` with one port, from
 * Latchkey's own channel page only.
 */
export function onChannelBind(event) {
  const data = event.data;
  const ports = event.ports ?? [];
  if (!data || typeof data !== "object" || data.type !== "channel-bind" || ports.length !== 1) return;
  const port = ports[0];
  const entry = typeof data.token === "string" ? tokens.get(data.token) : undefined;
  const fromChannelPage = !!event.source && event.source.url === api.runtime.getURL(CHANNEL_PAGE);
  if (!entry || entry.expires <= Date.now() || !fromChannelPage) {
    port.close();
    return;
  }
  tokens.delete(data.token);
  entry.bind(port);
}
