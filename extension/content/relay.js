// Latchkey relay: ISOLATED world, document_start, every frame (a classic content script).
//
// Carries requests from the MAIN-world shim (window.postMessage, same window only) to the service
// worker (one runtime.connect port per frame) and the answers back. The window channel is
// untrusted: the page can post anything here, so this file only checks shapes; the service worker
// decides everything from the browser-supplied `sender`, never from what the page says.
//
// Message shapes: docs/design.md and extension/shared/messages.js (this classic script cannot
// import that module, so it builds its messages by hand in those shapes). It also draws the
// autofill menu (conditional mediation) and answers the service worker's `frame-policy` questions.
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
  /**
   * Latchkey's cap on one request's options (JSON characters; docs/design.md "Hostile input"):
   * larger requests end in TypeError here, before they reach the service worker.
   */
  const MAX_OPTIONS_CHARS = 1024 * 1024;
  /** Requests forwarded to the service worker and not yet answered or aborted. */
  const pending = new Set();

  const targetOrigin = () => {
    const origin = location.origin; // read once: each read crosses into the page's world
    return origin && origin !== "null" ? origin : "*";
  };
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

  // ---- the channel to the service worker: one long-lived port per frame ------------------------
  // Opened on this frame's first message (a page that never asks wakes no worker) and kept: a port
  // message costs less than a runtime.sendMessage, which sets up a channel per call. The worker
  // trusts only the port's browser-made `sender`. When this frame goes away (navigation, a removed
  // <iframe>) the browser closes the port and the worker ends the frame's pending requests. When
  // the worker goes away instead (stopped when idle, restarted, crashed), calls still waiting are
  // sent once more on a new port (a new worker knows none of them; a request it did not finish is
  // simply made again); a second loss, or an extension that is gone, fails them.
  const PORT_NAME = "latchkey-relay";
  let port = null;
  let seq = 0;
  /** @type {Map<number, {message: object, resolve: Function, reject: Function, retried: boolean, fast: boolean}>} */
  const calls = new Map();

  /** An answer `{seq, answer}` from either port. */
  const onAnswer = (m) => {
    if (!isPlainObject(m) || !Number.isSafeInteger(m.seq)) return;
    const call = calls.get(m.seq);
    if (!call) return;
    calls.delete(m.seq);
    call.resolve(m.answer);
  };

  // ---- the fast channel (Chromium; docs/design.md "The fast channel") -------------------------
  // A MessagePort straight to the worker (~0.1 ms a round trip instead of ~0.4 through the browser
  // process), bound by the worker to this frame's runtime port and its browser-made sender. Once
  // the runtime port has answered something, the relay asks on it for a one-time token
  // (`channel-open`); one end of a MessageChannel goes with the token to Latchkey's channel page,
  // loaded for a moment in a hidden <iframe> (what is posted to that cross-origin frame is out of
  // the page's reach), which hands it to the worker. Until
  // the worker says `ready` — or if anything fails (a page that removes the frame, a CSP that blocks
  // it) — everything keeps going on the runtime port. The fast port dies with the worker; the
  // runtime port's disconnect (below) drops it and sends what waits once more on a new port.
  const CHANNEL_PAGE = "extension/channel/channel.html";
  const CHANNEL_SETUP_MS = 5000;
  const channelUrl = (() => {
    try {
      const resources = api.runtime.getManifest().web_accessible_resources ?? [];
      const listed = resources.some((r) => Array.isArray(r.resources) && r.resources.includes(CHANNEL_PAGE));
      return listed && typeof MessageChannel === "function" ? api.runtime.getURL(CHANNEL_PAGE) : null;
    } catch {
      return null;
    }
  })();
  /** The bound fast port (for `port`), or null. */
  let fast = null;
  let channelTried = null; // the runtime port a channel was asked for (once per port)

  const openChannel = (p) => {
    if (!channelUrl || channelTried === p || port !== p) return;
    channelTried = p;
    const id = ++seq;
    const call = {
      message: { type: "channel-open" },
      resolve: (answer) => {
        const token = isPlainObject(answer) && isPlainObject(answer.ok) ? answer.ok.token : null;
        if (typeof token === "string" && port === p) bindChannel(p, token);
      },
      reject: () => {},
      retried: true, // never sent again on another port
      fast: false,
    };
    calls.set(id, call);
    try {
      p.postMessage({ seq: id, message: call.message });
    } catch {
      calls.delete(id);
    }
  };

  const bindChannel = (p, token) => {
    const channel = new MessageChannel();
    const mine = channel.port1;
    const frame = document.createElement("iframe");
    let settled = false;
    const settle = (ok) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      frame.remove();
      if (ok && port === p) {
        fast = mine;
      } else {
        mine.onmessage = null;
        mine.close();
      }
    };
    const timer = setTimeout(() => settle(false), CHANNEL_SETUP_MS);
    mine.onmessage = (event) => {
      const m = event.data;
      if (!settled && isPlainObject(m) && m.ready === true) settle(true);
      else onAnswer(m);
    };
    frame.setAttribute("aria-hidden", "true");
    frame.tabIndex = -1;
    frame.style.cssText = "display:none!important";
    frame.addEventListener(
      "load",
      () => {
        try {
          frame.contentWindow.postMessage({ type: "channel-bind", token }, new URL(channelUrl).origin, [channel.port2]);
        } catch {
          settle(false);
        }
      },
      { once: true },
    );
    frame.src = channelUrl;
    try {
      (document.documentElement ?? document).appendChild(frame);
    } catch {
      settle(false);
    }
  };

  const connect = () => {
    const p = api.runtime.connect({ name: PORT_NAME }); // throws when the extension is gone
    p.onMessage.addListener((m) => {
      onAnswer(m);
      // The channel is set up after the port's first answer, not beside its first request: a woken
      // worker's first request (wasm start, vault reopen) must not share the CPU with the hand-over.
      if (channelTried !== p) setTimeout(() => openChannel(p), 0);
    });
    p.onDisconnect.addListener(() => {
      void api.runtime.lastError; // read, so Chromium does not log it as unchecked
      if (port !== p) return;
      port = null;
      if (fast) {
        fast.onmessage = null;
        fast.close();
        fast = null;
      }
      const waiting = [...calls.entries()];
      if (waiting.length === 0) return; // reconnect lazily, on the next message
      for (const [id, call] of waiting) {
        if (call.retried) {
          calls.delete(id);
          call.reject(new Error("the service worker went away"));
        }
      }
      const resend = [...calls.entries()];
      let next;
      try {
        next = ensurePort();
      } catch (e) {
        for (const [id, call] of resend) {
          calls.delete(id);
          call.reject(e);
        }
        return;
      }
      for (const [id, call] of resend) {
        call.retried = true;
        postCall(next, id, call);
      }
    });
    return p;
  };
  const ensurePort = () => (port ??= connect());
  const postCall = (p, id, call) => {
    try {
      call.fast = fast !== null;
      (fast ?? p).postMessage({ seq: id, message: call.message });
    } catch (e) {
      calls.delete(id);
      call.reject(e);
    }
  };

  /** Sends `message` to the service worker; resolves to its answer. */
  const send = (message) =>
    new Promise((resolve, reject) => {
      let p;
      try {
        p = ensurePort();
      } catch (e) {
        reject(e); // "Extension context invalidated"
        return;
      }
      const id = ++seq;
      const call = { message, resolve, reject, retried: false };
      calls.set(id, call);
      postCall(p, id, call);
    });

  /**
   * The page gave up on request `requestId`: its call is dropped here, so a lost port never sends
   * it again (a new worker would start, and prompt for, a request nobody waits for).
   */
  const forget = (requestId) => {
    for (const [id, call] of [...calls.entries()]) {
      if (call.message.type === "webauthn" && call.message.requestId === requestId) {
        calls.delete(id);
        call.resolve(undefined);
      }
    }
  };

  /**
   * A message without an answer (abort): only on an open port (a new worker knows no request), and
   * on the one its request went on (so it cannot overtake the request).
   */
  const notify = (message) => {
    let viaFast = fast !== null;
    for (const call of calls.values()) {
      if (call.message.type === "webauthn" && call.message.requestId === message.requestId) viaFast = call.fast;
    }
    try {
      if (port) (viaFast && fast ? fast : port).postMessage({ message });
    } catch {
      // the port is closing: the worker ends the frame's requests itself
    }
  };

  /**
   * `{cross, topSameOrigin}`: whether some ancestor has another origin, and whether the top frame
   * (readable only when same-origin) has ours — A embeds B embeds A, which clientDataJSON cannot
   * express with topOrigin alone (the browser gets such requests).
   */
  const ancestry = () => {
    let cross = false;
    try {
      let w = window;
      while (w.parent !== w) {
        const parent = w.parent;
        let origin;
        try {
          origin = parent.location.origin;
        } catch {
          origin = null; // cross-origin windows refuse access
        }
        if (origin !== location.origin) cross = true;
        w = parent;
      }
    } catch {
      return { cross: true, topSameOrigin: false };
    }
    let topSameOrigin = false;
    try {
      topSameOrigin = window.top.location.origin === location.origin;
    } catch {
      topSameOrigin = false;
    }
    return { cross, topSameOrigin };
  };
  /**
   * What the browser says about this frame, read here (the isolated world: the page cannot replace
   * these objects): Chromium's permissions-policy answer (null where document.featurePolicy is
   * missing, as in Firefox) and transient user activation.
   */
  const frameFacts = (kind) => {
    const feature = kind === "create" ? "publickey-credentials-create" : "publickey-credentials-get";
    let policyAllows = null;
    try {
      const fp = document.featurePolicy;
      if (fp && typeof fp.allowsFeature === "function" && fp.features().includes(feature)) {
        policyAllows = fp.allowsFeature(feature) === true;
      }
    } catch {
      policyAllows = null;
    }
    let userActivation = false;
    try {
      userActivation = navigator.userActivation ? navigator.userActivation.isActive === true : false;
    } catch {
      userActivation = false;
    }
    return { policyAllows, userActivation };
  };

  const onRequest = (id, kind, rawOptions, conditional) => {
    // A JSON copy: the options become plain data of this world (in Firefox the page's objects
    // arrive wrapped), and nothing but JSON goes on to the service worker.
    let options;
    let tooLarge = false;
    try {
      const text = JSON.stringify(rawOptions);
      tooLarge = typeof text === "string" && text.length > MAX_OPTIONS_CHARS;
      options = tooLarge ? undefined : JSON.parse(text);
    } catch {
      options = undefined; // not JSON-able, or nested too deeply for the JSON copy
    }
    // The shim's ack: this relay is here. A request going on to the service worker is acknowledged
    // after its port message is sent (that message is what the page waits for).
    const ack = () => post({ __latchkey: "ack", id });
    if (tooLarge) {
      ack();
      answer(id, error("TypeError", `The request options are larger than Latchkey's limit of ${MAX_OPTIONS_CHARS} characters.`));
      return;
    }
    if (!isPlainObject(options)) {
      ack();
      answer(id, error("TypeError", "The request options could not be read."));
      return;
    }
    const anc = ancestry();
    if (anc.cross && anc.topSameOrigin) {
      ack();
      answer(id, { fallback: true }); // A embeds B embeds A: the browser's own WebAuthn
      return;
    }
    if (pending.has(id)) {
      ack();
      return;
    }
    pending.add(id);
    const message = { type: "webauthn", kind, requestId: id, options };
    if (conditional) message.mediation = "conditional";
    if (anc.cross || window.top !== window) message.frame = frameFacts(kind);
    if (conditional) autofill.start(id);
    send(message).then(
      (result) => {
        if (conditional) autofill.stop(id);
        if (!pending.delete(id)) return; // aborted meanwhile: the page has its answer
        answer(id, isAnswer(result) ? result : error("NotAllowedError", "Latchkey did not answer the request."));
      },
      () => {
        if (conditional) autofill.stop(id);
        if (!pending.delete(id)) return;
        answer(
          id,
          error("NotAllowedError", "Latchkey is not available (it was reloaded or disabled); reload the page."),
        );
      },
    );
    ack();
  };

  const onAbort = (id) => {
    autofill.stop(id);
    if (!pending.delete(id)) return;
    notify({ type: "abort", requestId: id });
    forget(id);
  };

  window.addEventListener(
    "message",
    (event) => {
      if (event.source !== window) return;
      const data = event.data;
      if (!isPlainObject(data)) return;
      const tag = data.__latchkey;
      if (tag !== "req" && tag !== "abort" && tag !== "cma") return;
      event.stopImmediatePropagation(); // our traffic is not the page's business
      const id = data.id;
      if (typeof id !== "string" || !ID_RE.test(id)) return;
      if (tag === "abort") {
        onAbort(id);
      } else if (tag === "cma") {
        // isConditionalMediationAvailable(): Latchkey can serve this frame (on, site not excluded).
        send({ type: "site-status" }).then(
          (r) => answer(id, { ok: { available: !!(r && r.ok === true) } }),
          () => answer(id, { ok: { available: false } }),
        );
        post({ __latchkey: "ack", id });
      } else if (data.kind === "create" || data.kind === "get") {
        onRequest(id, data.kind, data.options, data.kind === "get" && data.mediation === "conditional");
      }
    },
    true,
  );
  // ---- the permissions policy of our <iframe> children (for the service worker) ----------------
  // Where the browser has no document.featurePolicy (Firefox), the service worker asks the parent
  // frame's relay: does an <iframe> here, showing `origin`, list `feature` in its allow attribute?
  // (An allowlist of '*', 'src', the origin, or none at all — which means 'src' — allows it.)
  const FEATURES = ["publickey-credentials-create", "publickey-credentials-get"];
  const iframeAllows = (frame, origin, feature) => {
    let src;
    try {
      src = new URL(frame.src, document.baseURI).origin;
    } catch {
      return false;
    }
    if (src !== origin) return false;
    for (const directive of (frame.getAttribute("allow") || "").split(";")) {
      const [name, ...list] = directive.trim().split(/\s+/);
      if (name !== feature) continue;
      if (list.length === 0) return true;
      return list.some((v) => v === "*" || v === "'src'" || v.replace(/^'|'$/g, "") === origin);
    }
    return false;
  };
  api.runtime.onMessage.addListener((message, sender, sendResponse) => {
    if (!isPlainObject(message) || message.type !== "frame-policy" || sender.id !== api.runtime.id) return false;
    if (sender.tab) return false; // from the service worker only
    const { origin, feature } = message;
    if (typeof origin !== "string" || !FEATURES.includes(feature)) return false;
    const frames = [...document.querySelectorAll("iframe, frame")];
    sendResponse({ ok: frames.some((f) => iframeAllows(f, origin, feature)) });
    return false;
  });

  // ---- the autofill menu (conditional mediation) -----------------------------------------------
  // Shown under the focused <input>/<textarea> whose autocomplete tokens include "webauthn" while
  // a conditional get is pending in this frame. A closed shadow root on an element of our own:
  // the page can neither read the accounts nor style the menu. Only trusted input (a person's
  // click, ArrowUp/ArrowDown/Enter/Escape) drives it; choosing an entry is the user presence.
  const autofill = (() => {
    let requestId = null;
    let anchor = null; // the input the menu belongs to
    let host = null;
    let root = null;
    let items = []; // [{el, credentialId|null}]
    let active = -1;
    let listSeq = 0;

    const wantsAutofill = (el) =>
      (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) &&
      (el.getAttribute("autocomplete") || "").toLowerCase().split(/\s+/).includes("webauthn");

    const STYLE = `
      :host { all: initial; }
      .menu { font: 14px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24;
        background: #fff; border: 1px solid #c9ced6; border-radius: 8px; box-shadow: 0 6px 24px rgba(0,0,0,.18);
        max-width: 360px; overflow: hidden; }
      .head { display: flex; align-items: center; gap: 6px; padding: 6px 10px; font-size: 12px; color: #57606a;
        border-bottom: 1px solid #e5e8ec; }
      .logo { width: 14px; height: 14px; border-radius: 3px; background: #3b5bdb; color: #fff; font-size: 10px;
        font-weight: 700; display: inline-flex; align-items: center; justify-content: center; }
      [role=listbox] { margin: 0; padding: 4px; list-style: none; max-height: 260px; overflow-y: auto; }
      [role=option] { display: flex; flex-direction: column; padding: 7px 10px; border-radius: 6px; cursor: pointer; }
      [role=option] .name { font-weight: 600; }
      [role=option] .sub { font-size: 12px; color: #57606a; }
      [role=option][aria-selected=true] { background: #3b5bdb; color: #fff; }
      [role=option][aria-selected=true] .sub { color: #e7ecff; }
      @media (prefers-color-scheme: dark) {
        .menu { background: #23272e; color: #e6e8eb; border-color: #3d434c; box-shadow: 0 6px 24px rgba(0,0,0,.5); }
        .head { color: #a3acb9; border-color: #343a42; }
        [role=option] .sub { color: #a3acb9; }
        [role=option][aria-selected=true] { background: #5c7cfa; color: #fff; }
      }`;

    const place = () => {
      if (!host || !anchor) return;
      const r = anchor.getBoundingClientRect();
      host.style.setProperty("top", `${Math.round(r.bottom + 4)}px`, "important");
      host.style.setProperty("left", `${Math.round(Math.max(4, r.left))}px`, "important");
      host.style.setProperty("min-width", `${Math.round(Math.min(360, Math.max(240, r.width)))}px`, "important");
    };

    const close = () => {
      if (host) host.remove();
      host = null;
      root = null;
      items = [];
      active = -1;
      anchor = null;
      listSeq++;
    };

    const highlight = (i) => {
      active = i;
      items.forEach((it, k) => it.el.setAttribute("aria-selected", k === i ? "true" : "false"));
      if (i >= 0) items[i].el.scrollIntoView({ block: "nearest" });
    };

    const choose = (i) => {
      const it = items[i];
      const id = requestId;
      if (!it || id === null) return;
      close();
      const m = it.credentialId === null
        ? { type: "autofill-choose", requestId: id, unlock: true }
        : { type: "autofill-choose", requestId: id, credentialId: it.credentialId };
      send(m).catch(() => {});
    };

    const option = (name, sub, credentialId) => {
      const el = document.createElement("li");
      el.setAttribute("role", "option");
      el.setAttribute("aria-selected", "false");
      const n = document.createElement("span");
      n.className = "name";
      n.textContent = name; // text only: names come from the vault, never markup
      el.append(n);
      if (sub) {
        const d = document.createElement("span");
        d.className = "sub";
        d.textContent = sub;
        el.append(d);
      }
      const index = items.length;
      // mousedown would move the focus away from the field; the choice is made on the click.
      el.addEventListener("mousedown", (e) => e.preventDefault());
      el.addEventListener("click", (e) => {
        if (!e.isTrusted) return;
        e.preventDefault();
        e.stopPropagation();
        choose(index);
      });
      el.addEventListener("mousemove", (e) => e.isTrusted && highlight(index));
      items.push({ el, credentialId });
      return el;
    };

    const show = (input, entries) => {
      close();
      anchor = input;
      host = document.createElement("latchkey-autofill");
      for (const [k, v] of [["position", "fixed"], ["z-index", "2147483647"], ["display", "block"], ["margin", "0"],
        ["padding", "0"], ["border", "0"], ["width", "auto"], ["height", "auto"], ["visibility", "visible"],
        ["opacity", "1"], ["transform", "none"], ["filter", "none"], ["pointer-events", "auto"]]) {
        host.style.setProperty(k, v, "important");
      }
      root = host.attachShadow({ mode: "closed" });
      const style = document.createElement("style");
      style.textContent = STYLE;
      const menu = document.createElement("div");
      menu.className = "menu";
      const head = document.createElement("div");
      head.className = "head";
      const logo = document.createElement("span");
      logo.className = "logo";
      logo.textContent = "L";
      logo.setAttribute("aria-hidden", "true");
      const title = document.createElement("span");
      title.textContent = "Passkeys from Latchkey";
      title.id = "lk-title";
      head.append(logo, title);
      const list = document.createElement("ul");
      list.setAttribute("role", "listbox");
      list.setAttribute("aria-labelledby", "lk-title");
      for (const e of entries) list.append(option(e.name, e.sub, e.credentialId));
      menu.append(head, list);
      root.append(style, menu);
      (document.body || document.documentElement).append(host);
      place();
    };

    const open = (input) => {
      const id = requestId;
      if (id === null || !wantsAutofill(input)) return;
      const seq = ++listSeq;
      send({ type: "autofill-list", requestId: id }).then(
        (r) => {
          if (seq !== listSeq || requestId !== id || document.activeElement !== input) return;
          const v = r && isPlainObject(r.ok) ? r.ok : null;
          if (!v) return;
          let entries = [];
          if (v.state === "unlocked" && Array.isArray(v.accounts)) {
            entries = v.accounts
              .filter((a) => isPlainObject(a) && typeof a.credentialId === "string")
              .map((a) => {
                const userName = typeof a.userName === "string" ? a.userName : "";
                const display = typeof a.userDisplayName === "string" ? a.userDisplayName : "";
                return { name: display || userName || "(no name)", sub: display && userName !== display ? userName : "", credentialId: a.credentialId };
              });
          } else if (v.state === "locked") {
            entries = [{ name: "Unlock Latchkey", sub: "to use your passkeys on this site", credentialId: null }];
          } else if (v.state === "none") {
            entries = [{ name: "Set up Latchkey", sub: "to use passkeys on this site", credentialId: null }];
          }
          if (entries.length > 0) show(input, entries);
        },
        () => {},
      );
    };

    document.addEventListener(
      "focusin",
      (e) => {
        if (!e.isTrusted || requestId === null) return;
        const t = e.target;
        if (t === anchor && host) return;
        close();
        if (wantsAutofill(t)) open(t);
      },
      true,
    );
    document.addEventListener(
      "focusout",
      (e) => {
        if (e.target === anchor) setTimeout(() => document.activeElement !== anchor && close(), 0);
      },
      true,
    );
    // Clicking into a field that already has the focus reopens the menu.
    document.addEventListener(
      "mousedown",
      (e) => {
        if (!e.isTrusted || requestId === null || host) return;
        const t = e.target;
        if (t === document.activeElement && wantsAutofill(t)) open(t);
      },
      true,
    );
    window.addEventListener(
      "keydown",
      (e) => {
        if (!e.isTrusted || requestId === null) return;
        if (!host) {
          if (e.key === "ArrowDown" && e.target === document.activeElement && wantsAutofill(e.target)) {
            e.preventDefault();
            open(e.target);
          }
          return;
        }
        if (e.target !== anchor) return;
        const n = items.length;
        let handled = true;
        if (e.key === "ArrowDown") highlight(active < 0 ? 0 : (active + 1) % n);
        else if (e.key === "ArrowUp") highlight(active <= 0 ? n - 1 : active - 1);
        else if (e.key === "Enter" && active >= 0) choose(active);
        else if (e.key === "Escape") close();
        else handled = false;
        if (handled) {
          // Keys meant for the menu never reach the page (no form submit on Enter).
          e.preventDefault();
          e.stopImmediatePropagation();
        }
      },
      true,
    );
    window.addEventListener("scroll", place, true);
    window.addEventListener("resize", place, true);

    return {
      start(id) {
        requestId = id;
        const f = document.activeElement;
        if (f && wantsAutofill(f)) open(f);
      },
      stop(id) {
        if (requestId !== id) return;
        requestId = null;
        close();
      },
    };
  })();
})();
