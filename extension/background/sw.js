// Latchkey service worker (Chromium) / module background script (Firefox): the message router.
//
//   requests.js  pages' `webauthn` requests and the prompt window
//   manage.js    vault management messages from the popup and options page
//   vault.js     the wasm core, storage.local commits, session, auto-lock, PIN rate limit, settings
//   host.js      the native host (helper app): one lazily opened connectNative port
//   hostflow.js  the helper app at the prompt (verify, OS unlock, OS authenticator) and OS unlock on/off
//
// Contracts: docs/design.md. The origin always comes from the browser's `sender`, never from the
// message. Listeners for wake-up events are registered synchronously at the top level (a woken
// worker must find them at once). In Firefox the wasm module's compile starts first
// (wasm-start.js); the instance and the vault are loaded on first use.
//
// Never log PINs, keys, options, records, responses or storage contents.

// First: in Firefox the wasm core's compile starts before anything else runs (wasm-start.js).
import "./wasm-start.js";
import { api } from "../shared/browser.js";
import { answerError, answerVaultError, parseMessage } from "../shared/messages.js";
import { TEST_FLAVOR } from "../../flavor.js";
import { asFailure, currentSettings, ensureSettings, hasVault, onAlarm, onStorageChanged, sanitizeSettings } from "./vault.js";
import { listenProxy, syncProxy } from "./proxy.js";
import { forgetTokens, onChannelBind, openChannel } from "./channel.js";
import {
  EXTENSION_ORIGIN,
  handleAbort,
  handleAutofillChoose,
  handleAutofillList,
  handleSiteStatus,
  handleProxyRequest,
  handleProxyCanceled,
  handlePromptDecision,
  handlePromptDetails,
  handlePromptPin,
  handleWebAuthn,
  endRequests,
  onNavigationCommitted,
  onTabRemoved,
  onWindowRemoved,
  senderOrigin,
} from "./requests.js";
import { MANAGEMENT_TYPES, handleManagement } from "./manage.js";
import { handlePromptHostVerify, handlePromptOsUnlock, handlePromptPlatform } from "./hostflow.js";

const RELAY_PORT = "latchkey-relay";
const isContentScript = (sender) => !!sender.tab && senderOrigin(sender) !== EXTENSION_ORIGIN;
const isExtensionPage = (sender) => senderOrigin(sender) === EXTENSION_ORIGIN;

/** Sends what `promise` resolves to (an answer envelope); never leaves the page without one. */
function reply(promise, sendResponse) {
  promise.then(sendResponse, (e) => {
    const f = asFailure(e);
    sendResponse(answerVaultError(f.name, f.message));
  });
}

/** Answers an extension page with `{ok}` or `{error: {name, message, retryAfterMs?}}`. */
function answerPage(promise, sendResponse) {
  Promise.resolve(promise).then(
    (value) => sendResponse({ ok: value }),
    (e) => {
      const f = asFailure(e);
      sendResponse(answerVaultError(f.name, f.message, f.retryAfterMs));
    },
  );
}

// Closed windows and tabs and frames that navigate matter only to this life's requests (their
// prompt windows, their pages), so these listeners are added with the first request (before it is
// kept or its prompt opens), not at the top level: a closed tab or window or any page load never
// wakes the background for nothing (both browsers wake it for top-level listeners), and a cold
// start does not set up those three APIs (~2–3 ms of Firefox's start-up).
let watching = false;
function watchPages() {
  if (watching) return;
  watching = true;
  api.windows?.onRemoved.addListener(onWindowRemoved);
  api.tabs?.onRemoved.addListener(onTabRemoved);
  api.webNavigation?.onCommitted.addListener(onNavigationCommitted);
}

/**
 * Handles one message (from runtime.onMessage or a relay's port). Returns true when `sendResponse`
 * will be called later, false when it was called already or no answer is given.
 * `port`: the relay's port the message came on (its requests end when the port closes).
 */
function route(message, sender, sendResponse, port = null) {
  if (sender.id !== api.runtime.id) return false;
  const msg = parseMessage(message);
  if (!msg) {
    if (message && message.type === "webauthn") {
      sendResponse(answerError("NotAllowedError", "Malformed request."));
    } else if (isExtensionPage(sender) && message && message.type !== "vault-changed") {
      sendResponse(answerVaultError("TypeError", "Malformed message."));
    }
    return false;
  }
  switch (msg.type) {
    case "webauthn":
      if (!isContentScript(sender)) return false;
      watchPages();
      handleWebAuthn(msg, sender, sendResponse, port);
      return true;
    case "abort":
      if (isContentScript(sender)) handleAbort(msg, sender);
      return false;
    case "autofill-list":
      if (!isContentScript(sender)) return false;
      reply(handleAutofillList(msg, sender), sendResponse);
      return true;
    case "autofill-choose":
      if (!isContentScript(sender)) return false;
      reply(handleAutofillChoose(msg, sender), sendResponse);
      return true;
    case "site-status":
      if (!isContentScript(sender)) return false;
      reply(handleSiteStatus(sender), sendResponse);
      return true;
    case "prompt-details":
      if (!isExtensionPage(sender)) return false;
      reply(handlePromptDetails(msg, sender), sendResponse);
      return true;
    case "prompt-pin":
      if (!isExtensionPage(sender)) return false;
      reply(handlePromptPin(msg, sender), sendResponse);
      return true;
    case "prompt-host-verify":
      if (!isExtensionPage(sender)) return false;
      reply(handlePromptHostVerify(msg, sender), sendResponse);
      return true;
    case "prompt-os-unlock":
      if (!isExtensionPage(sender)) return false;
      reply(handlePromptOsUnlock(msg, sender), sendResponse);
      return true;
    case "prompt-platform":
      if (!isExtensionPage(sender)) return false;
      reply(handlePromptPlatform(msg, sender), sendResponse);
      return true;
    case "prompt-decision":
      if (!isExtensionPage(sender)) return false;
      sendResponse(handlePromptDecision(msg, sender));
      return false;
    default:
      if (!MANAGEMENT_TYPES.has(msg.type) || !isExtensionPage(sender)) return false;
      answerPage(handleManagement(msg), sendResponse);
      return true;
  }
}

api.runtime.onMessage.addListener((message, sender, sendResponse) => route(message, sender, sendResponse));

// Each frame's relay keeps one port (extension/content/relay.js): `{seq, message}` in,
// `{seq, answer}` out (`seq` absent: no answer wanted). The port's `sender` is the browser's, as
// for runtime.onMessage; only content scripts of web pages may connect. When the port closes
// (the frame navigated, was removed, or went into the back/forward cache) its pending requests end.
// In Chromium the relay also gets a fast port bound to this one (channel.js, `channel-open`): the
// same traffic with the same `sender` and requests, closed with it.
api.runtime.onConnect.addListener((port) => {
  const sender = port.sender;
  if (port.name !== RELAY_PORT || !sender || sender.id !== api.runtime.id || !isContentScript(sender)) {
    port.disconnect();
    return;
  }
  const owner = new Set();
  const link = { disconnectHandlers: [] };
  /** One `{seq, message}` of this relay, from either of its ports; answered through `post`. */
  const handle = (data, post) => {
    if (data === null || typeof data !== "object") return;
    const seq = Number.isSafeInteger(data.seq) ? data.seq : null;
    let answered = false;
    const respond = (answer) => {
      if (answered || seq === null) return;
      answered = true;
      try {
        post({ seq, answer });
      } catch {
        // the frame is gone
      }
    };
    // No answer coming (an unknown or refused message): the relay hears "no answer" at once.
    if (!route(data.message, sender, respond, owner)) respond(undefined);
  };
  const postOnPort = (m) => port.postMessage(m);
  port.onMessage.addListener((data) => {
    // `channel-open` is answered on the runtime port only (a fast port cannot ask for another);
    // every other message is parsed once, by route().
    if (data !== null && typeof data === "object" && data.message?.type === "channel-open" && parseMessage(data.message)) {
      const token = openChannel(port, link, handle);
      if (Number.isSafeInteger(data.seq)) postOnPort({ seq: data.seq, answer: { ok: token === null ? null : { token } } });
      return;
    }
    handle(data, postOnPort);
  });
  port.onDisconnect.addListener(() => {
    void api.runtime.lastError;
    forgetTokens(port);
    for (const close of link.disconnectHandlers) close();
    endRequests(owner);
  });
});

// The fast channel's hand-over from Latchkey's channel page (Chromium's service worker only).
if (typeof ServiceWorkerGlobalScope === "function" && globalThis instanceof ServiceWorkerGlobalScope) {
  globalThis.addEventListener("message", onChannelBind);
}

api.storage.onChanged.addListener(onStorageChanged);

// Proxy mode (Chromium, opt-in): listeners now, the attachment once the settings are read and
// whenever they change.
const wantsProxy = (s) => s.proxyMode === true && s.enabled !== false;
listenProxy({
  onRequest: (kind, requestId, origin, sameOrigin, options) => {
    watchPages();
    return handleProxyRequest(kind, requestId, origin, sameOrigin, options);
  },
  onCanceled: handleProxyCanceled,
  isUvpaa: () => ensureSettings().then(() => currentSettings().enabled),
});
ensureSettings().then(() => syncProxy(wantsProxy(currentSettings())));
api.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && changes.settings) syncProxy(wantsProxy(sanitizeSettings(changes.settings.newValue)));
});
api.alarms?.onAlarm.addListener(onAlarm);

// First run (normal flavor): the options page creates the vault.
api.runtime.onInstalled.addListener((details) => {
  if (TEST_FLAVOR || details.reason !== "install") return;
  hasVault()
    .then((exists) => (exists ? undefined : api.runtime.openOptionsPage()))
    .catch((e) => console.warn("Latchkey: could not open the options page:", e && e.message));
});
