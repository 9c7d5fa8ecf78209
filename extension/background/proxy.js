// Chromium's webAuthenticationProxy (proxy mode; off by default: docs/design.md, "Proxy mode").
//
// When the `proxyMode` setting is on (and Latchkey is switched on), the worker attaches as the
// browser's WebAuthn proxy: modal create/get requests then reach Latchkey from Chromium itself
// (the page gets a native PublicKeyCredential) instead of through the MAIN-world shim, which hands
// them to the browser (answer `{fallback: true}`). Conditional requests never reach a proxy
// (Chromium fails them), so autofill stays on the MAIN-world path; Firefox has no such API.
// Another extension holding the proxy ("Another extension is already attached") leaves Latchkey
// on the MAIN-world path.
//
// Traps (shared/notes/browser-facts.md): while attached, Chromium's own handling is suspended for
// every request, with no way to hand one back; a rejected complete*Request leaves the page's
// request pending — so every request is completed, and a failed completion is retried as an error.

import { api } from "../shared/browser.js";

const wap = api.webAuthenticationProxy;
let attached = false;
let lastError = null;
let syncing = Promise.resolve();

export const proxyAvailable = () => !!wap;
export const proxyAttached = () => attached;
export const proxyState = () => ({ available: !!wap, attached, error: lastError });

/** Attach or detach to match `wanted` (one change at a time). */
export function syncProxy(wanted) {
  if (!wap) return Promise.resolve(proxyState());
  syncing = syncing.then(async () => {
    if (wanted && !attached) {
      try {
        await wap.attach();
        attached = true;
        lastError = null;
      } catch (e) {
        // The attachment survives worker restarts: a woken worker finds itself attached already.
        try {
          await wap.detach();
          await wap.attach();
          attached = true;
          lastError = null;
        } catch (e2) {
          attached = false;
          lastError = String((e2 && e2.message) || (e && e.message) || e2);
          console.warn("Latchkey: proxy mode unavailable:", lastError);
        }
      }
    } else if (!wanted && attached) {
      await wap.detach().catch(() => {});
      attached = false;
    }
    return proxyState();
  });
  return syncing;
}

/**
 * Completes a proxied request exactly once: `answer` is `{ok: credentialJSON}` or `{error}`. If
 * Chromium refuses the completion (e.g. a response it cannot parse), the request is completed
 * again with an error so the page is never left pending.
 */
export async function completeProxied(kind, requestId, answer) {
  if (!wap) return;
  const complete = (details) =>
    kind === "create" ? wap.completeCreateRequest(details) : wap.completeGetRequest(details);
  const asError = (name, message) => ({ requestId, error: { name, message } });
  try {
    if (answer && answer.ok) await complete({ requestId, responseJson: JSON.stringify(answer.ok) });
    else {
      const e = answer && answer.error ? answer.error : { name: "NotAllowedError", message: "The request was not allowed." };
      await complete(asError(e.name, e.message));
    }
  } catch (e) {
    await complete(asError("UnknownError", "Latchkey could not complete the request.")).catch(() => {});
  }
}

/**
 * Registers the proxy's listeners (synchronously, at the worker's top level).
 * `onRequest(kind, requestId, origin, sameOriginWithAncestors, options)`; `onCanceled(requestId)`.
 */
export function listenProxy({ onRequest, onCanceled, isUvpaa }) {
  if (!wap) return;
  const take = (kind) => (details) => {
    let options = null;
    try {
      options = JSON.parse(details.requestDetailsJson);
    } catch {
      options = null;
    }
    // The caller's origin comes from Chromium (remoteDesktopClientOverride), not from the page.
    const ov = options && options.extensions && options.extensions.remoteDesktopClientOverride;
    if (!options || !ov || typeof ov.origin !== "string") {
      completeProxied(kind, details.requestId, { error: { name: "NotAllowedError", message: "Malformed request." } });
      return;
    }
    delete options.extensions.remoteDesktopClientOverride;
    if (Object.keys(options.extensions).length === 0) delete options.extensions;
    onRequest(kind, details.requestId, ov.origin, ov.sameOriginWithAncestors === true, options);
  };
  wap.onCreateRequest.addListener(take("create"));
  wap.onGetRequest.addListener(take("get"));
  wap.onRequestCanceled.addListener((requestId) => onCanceled(requestId));
  wap.onIsUvpaaRequest.addListener((details) => {
    Promise.resolve(isUvpaa())
      .catch(() => false)
      .then((isUvpaa) => wap.completeIsUvpaaRequest({ requestId: details.requestId, isUvpaa }).catch(() => {}));
  });
}
