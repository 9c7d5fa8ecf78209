// Latchkey relay: ISOLATED world, document_start, every frame (a classic content script).
//
// Carries requests from the MAIN-world shim (window.postMessage, same window only) to the service
// worker (runtime.sendMessage) and the answers back. The window channel is untrusted: the page can
// post anything here, so this file only checks shapes; the service worker decides everything from
// the browser-supplied `sender`, never from what the page says.
//
// Message shapes: docs/design.md and extension/shared/messages.js (this classic script cannot
// import that module, so it builds the `webauthn` and `abort` messages by hand in those shapes).
(() => {
  "use strict";

  const api = globalThis.browser ?? globalThis.chrome;
  const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
  const ERROR_NAMES = [
    "TypeError",
    "NotAllowedError",
    "SecurityError",
    "NotSupportedError",
    "InvalidStateError",
    "AbortError",
    "UnknownError",
    "ConstraintError",
  ];
  /** Requests forwarded to the service worker and not yet answered or aborted. */
  const pending = new Set();

  const targetOrigin = () => (location.origin && location.origin !== "null" ? location.origin : "*");
  const post = (msg) => {
    try {
      window.postMessage(msg, targetOrigin());
    } catch {
      // the window is going away
    }
  };
  const answer = (id, result) => post({ __latchkey: "res", id, result });
  const error = (name, message) => ({ error: { name, message } });

  const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const isAnswer = (a) =>
    isPlainObject(a) &&
    (a.fallback === true ||
      isPlainObject(a.ok) ||
      (isPlainObject(a.error) && ERROR_NAMES.includes(a.error.name) && typeof a.error.message === "string"));

  const send = (message) => {
    try {
      return Promise.resolve(api.runtime.sendMessage(message));
    } catch (e) {
      return Promise.reject(e); // "Extension context invalidated": thrown, not rejected, in Chromium
    }
  };

  /**
   * True when some ancestor frame has another origin. Such requests are handed back to the browser
   * for now (cross-origin iframes are a later issue); the service worker checks the frame against
   * the tab's top origin as well, from data the page cannot touch.
   */
  const crossOriginAncestor = () => {
    try {
      let w = window;
      while (w.parent !== w) {
        const parent = w.parent;
        let origin;
        try {
          origin = parent.location.origin;
        } catch {
          return true; // cross-origin windows refuse access
        }
        if (origin !== location.origin) return true;
        w = parent;
      }
      return false;
    } catch {
      return true;
    }
  };

  const onRequest = (id, kind, rawOptions) => {
    // A JSON copy: the options become plain data of this world (in Firefox the page's objects
    // arrive wrapped), and nothing but JSON goes on to the service worker.
    let options;
    try {
      options = JSON.parse(JSON.stringify(rawOptions));
    } catch {
      options = undefined;
    }
    post({ __latchkey: "ack", id });
    if (!isPlainObject(options)) {
      answer(id, error("TypeError", "The request options could not be read."));
      return;
    }
    if (crossOriginAncestor()) {
      answer(id, { fallback: true });
      return;
    }
    if (pending.has(id)) return;
    pending.add(id);
    send({ type: "webauthn", kind, requestId: id, options }).then(
      (result) => {
        if (!pending.delete(id)) return; // aborted meanwhile: the page has its answer
        answer(id, isAnswer(result) ? result : error("NotAllowedError", "Latchkey did not answer the request."));
      },
      () => {
        if (!pending.delete(id)) return;
        answer(
          id,
          error("NotAllowedError", "Latchkey is not available (it was reloaded or disabled); reload the page."),
        );
      },
    );
  };

  const onAbort = (id) => {
    if (!pending.delete(id)) return;
    send({ type: "abort", requestId: id }).catch(() => {});
  };

  window.addEventListener(
    "message",
    (event) => {
      if (event.source !== window) return;
      const data = event.data;
      if (!isPlainObject(data)) return;
      const tag = data.__latchkey;
      if (tag !== "req" && tag !== "abort") return;
      event.stopImmediatePropagation(); // our traffic is not the page's business
      const id = data.id;
      if (typeof id !== "string" || !ID_RE.test(id)) return;
      if (tag === "abort") {
        onAbort(id);
      } else if (data.kind === "create" || data.kind === "get") {
        onRequest(id, data.kind, data.options);
      }
    },
    true,
  );
})();
