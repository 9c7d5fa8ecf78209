// Latchkey service worker (Chromium) / module background script (Firefox).
//
// Receives the relay's `webauthn` requests, asks the wasm authenticator (Rust core) to check them,
// asks the user (prompt window) or, in the test flavor, approves by itself, then lets the core
// create or sign and stores what it wrote before the page gets its answer. Contracts:
// docs/design.md. The origin always comes from the browser's `sender`, never from the message.
//
// Listeners are registered synchronously at the top level (a woken worker must find them at once);
// the wasm module and the stored passkeys are loaded lazily, once, behind `authenticator()`.
//
// Never log options, records, responses or storage contents: they hold user data and keys.

import { api } from "../shared/browser.js";
import { answerError, answerFallback, answerOk, parseMessage } from "../shared/messages.js";
import { TEST_FLAVOR } from "../../flavor.js";
import init, { Latchkey } from "../../pkg/latchkey_wasm.js";

const EXTENSION_ORIGIN = new URL(api.runtime.getURL("")).origin;
const PROMPT_PATH = "extension/ui/prompt.html";
const CRED_PREFIX = "cred:";

// Request timeouts, as browsers clamp them (milliseconds).
const DEFAULT_TIMEOUT_MS = 300_000;
const MIN_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 600_000;
// An idle Chromium service worker stops after 30 s; an extension API call resets that timer, so
// calling one while a prompt waits for a person keeps the pending request alive.
const KEEPALIVE_MS = 20_000;
// The prompt window closes a moment after the person's click, not during it (UI automation that
// clicks a button otherwise sees its page vanish mid-click). The page gets its answer at once.
const PROMPT_CLOSE_DELAY_MS = 250;

/** A failure that becomes `{error: {name, message}}` for the page. */
class Failure extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

// ---- the authenticator (wasm) and its storage ----------------------------------------------------

/** @type {Promise<Latchkey> | null} */
let authenticatorPromise = null;

async function readRecords() {
  const all = await api.storage.local.get(null);
  return Object.keys(all)
    .filter((key) => key.startsWith(CRED_PREFIX))
    .map((key) => all[key]);
}

async function openAuthenticator() {
  await init({ module_or_path: api.runtime.getURL("pkg/latchkey_wasm_bg.wasm") });
  const lk = new Latchkey(JSON.stringify(await readRecords()));
  if (typeof lk.loadErrors === "function") {
    const errors = JSON.parse(lk.loadErrors());
    if (errors.length > 0) {
      // Keys only: the messages could quote record contents.
      console.warn(`Latchkey: ${errors.length} stored passkey record(s) could not be loaded:`, errors.map((e) => e.key));
    }
  }
  return lk;
}

/** The wasm authenticator, loaded once (and again after a failed load or a failed write). */
function authenticator() {
  if (!authenticatorPromise) {
    authenticatorPromise = openAuthenticator().catch((e) => {
      authenticatorPromise = null;
      console.error("Latchkey: the authenticator could not be loaded:", e && e.message);
      throw new Failure("UnknownError", "Latchkey's authenticator could not be loaded.");
    });
  }
  return authenticatorPromise;
}

/** Unwraps a wasm envelope: `{ok}` → value, `{error}` → throws Failure. */
function unwrap(envelopeJson) {
  const envelope = JSON.parse(envelopeJson);
  if (envelope && "ok" in envelope) return envelope.ok;
  const e = envelope && envelope.error;
  throw new Failure(e && typeof e.name === "string" ? e.name : "UnknownError", (e && e.message) || "The operation failed.");
}

/** Runs `fn` after every earlier `exclusive` call has finished (core state + storage stay in step). */
let exclusiveChain = Promise.resolve();
function exclusive(fn) {
  const run = exclusiveChain.then(fn, fn);
  exclusiveChain = run.catch(() => {});
  return run;
}

/**
 * Applies the core's storage journal to storage.local. On failure the in-memory authenticator is
 * rebuilt from storage (so it matches what is really stored) and the caller answers UnknownError.
 * @param {Array<{key: string, value: unknown}>} writes
 */
async function applyWrites(writes) {
  const set = {};
  const remove = [];
  for (const w of writes) {
    if (!w || typeof w.key !== "string" || !w.key.startsWith(CRED_PREFIX)) {
      throw new Failure("UnknownError", "The authenticator produced an invalid storage write.");
    }
    if (w.value === null) remove.push(w.key);
    else set[w.key] = w.value;
    expectOwnWrite(w.key, w.value);
  }
  try {
    if (Object.keys(set).length > 0) await api.storage.local.set(set);
    if (remove.length > 0) await api.storage.local.remove(remove);
  } catch (e) {
    console.error("Latchkey: storage write failed:", e && e.message);
    ownWrites.clear();
    authenticatorPromise = null;
    await authenticator().catch(() => {});
    throw new Failure("UnknownError", "Latchkey could not save to the browser's storage.");
  }
}

// Storage changes that did not come from applyWrites (another extension context, a test resetting
// storage, a future import) make the in-memory authenticator stale: it is reopened from storage on
// its next use. Our own writes are recognised by key and value and ignored.
/** @type {Map<string, string[]>} key → JSON of values written by applyWrites, not yet seen in onChanged */
const ownWrites = new Map();
function expectOwnWrite(key, value) {
  const list = ownWrites.get(key) ?? [];
  list.push(JSON.stringify(value ?? null));
  ownWrites.set(key, list);
}
function isOwnWrite(key, newValue) {
  const list = ownWrites.get(key);
  const i = list ? list.indexOf(JSON.stringify(newValue ?? null)) : -1;
  if (i < 0) return false;
  list.splice(i, 1);
  if (list.length === 0) ownWrites.delete(key);
  return true;
}
api.storage.onChanged.addListener((changes, areaName) => {
  if (areaName !== "local") return;
  let stale = false;
  for (const [key, change] of Object.entries(changes)) {
    if (key.startsWith(CRED_PREFIX) && !isOwnWrite(key, change.newValue)) stale = true;
  }
  if (stale) {
    ownWrites.clear();
    authenticatorPromise = null;
  }
});

/**
 * Calls a mutating core method (create/get) and stores its writes, all under the exclusive lock.
 * @param {(lk: Latchkey) => string} call
 */
function mutate(call) {
  return exclusive(async () => {
    const lk = await authenticator();
    const result = unwrap(call(lk));
    await applyWrites(Array.isArray(result.writes) ? result.writes : []);
    return result.response;
  });
}

// ---- pending requests ---------------------------------------------------------------------------

/**
 * @typedef {{
 *   key: string, requestId: string, kind: "create"|"get", tabId: number|undefined,
 *   aborted: boolean, finished: boolean, timer: any,
 *   prompt: Prompt | null, respond: (answer: object) => void,
 * }} PendingRequest
 * @typedef {{
 *   id: string, request: PendingRequest, windowId: number|null, details: object,
 *   decided: boolean, resolve: (d: {decision: string, credentialId?: string}) => void,
 * }} Prompt
 */

/** @type {Map<string, PendingRequest>} by `${tabId}/${frameId}/${requestId}` */
const requests = new Map();
/** @type {Map<string, Prompt>} by promptId */
const prompts = new Map();

let keepaliveTimer = null;
function updateKeepalive() {
  if (requests.size > 0 && keepaliveTimer === null) {
    keepaliveTimer = setInterval(() => api.runtime.getPlatformInfo().catch(() => {}), KEEPALIVE_MS);
  } else if (requests.size === 0 && keepaliveTimer !== null) {
    clearInterval(keepaliveTimer);
    keepaliveTimer = null;
  }
}

/** Ends a request once: answers the relay, closes its prompt, forgets it. */
function finishRequest(request, answer) {
  if (request.finished) return;
  request.finished = true;
  clearTimeout(request.timer);
  requests.delete(request.key);
  updateKeepalive();
  if (request.prompt) closePrompt(request.prompt, { decision: "cancel" });
  request.respond(answer);
}

function timeoutOf(options) {
  const t = typeof options.timeout === "number" && Number.isFinite(options.timeout) ? options.timeout : DEFAULT_TIMEOUT_MS;
  return Math.min(MAX_TIMEOUT_MS, Math.max(MIN_TIMEOUT_MS, t));
}

// ---- prompts (normal flavor) ----------------------------------------------------------------------

function closePrompt(prompt, outcome) {
  if (!prompts.has(prompt.id)) return;
  prompts.delete(prompt.id);
  prompt.request.prompt = null;
  const windowId = prompt.windowId;
  if (windowId !== null) setTimeout(() => api.windows.remove(windowId).catch(() => {}), PROMPT_CLOSE_DELAY_MS);
  if (!prompt.decided) {
    prompt.decided = true;
    prompt.resolve(outcome);
  }
}

/**
 * Opens the prompt window and waits for the person's decision (closing the window = cancel).
 * @returns {Promise<{decision: string, credentialId?: string}>}
 */
async function ask(request, details) {
  if (request.finished) return { decision: "cancel" }; // aborted or timed out before its prompt opened
  const id = crypto.randomUUID();
  /** @type {Prompt} */
  const prompt = { id, request, windowId: null, details, decided: false, resolve: () => {} };
  const decided = new Promise((resolve) => {
    prompt.resolve = resolve;
  });
  prompts.set(id, prompt);
  request.prompt = prompt;
  try {
    const url = api.runtime.getURL(`${PROMPT_PATH}?id=${encodeURIComponent(id)}`);
    const win = await api.windows.create({ type: "popup", url, width: 420, height: 520, focused: true });
    prompt.windowId = win && typeof win.id === "number" ? win.id : null;
    if (!prompts.has(id) && prompt.windowId !== null) {
      api.windows.remove(prompt.windowId).catch(() => {}); // finished while the window opened
    }
  } catch (e) {
    console.error("Latchkey: could not open the prompt:", e && e.message);
    closePrompt(prompt, { decision: "other-device" }); // no way to ask: let the browser handle it
  }
  return decided;
}

api.windows?.onRemoved.addListener((windowId) => {
  for (const prompt of prompts.values()) {
    if (prompt.windowId === windowId) closePrompt(prompt, { decision: "cancel" });
  }
});

api.tabs?.onRemoved.addListener((tabId) => {
  for (const request of [...requests.values()]) {
    if (request.tabId === tabId) finishRequest(request, answerError("NotAllowedError", "The page was closed."));
  }
});

// ---- consent ------------------------------------------------------------------------------------

/**
 * The test flavor's choice among several matching passkeys: the only one, or else the most
 * recently created one (ties: the first listed).
 */
function testFlavorCandidate(candidates) {
  if (candidates.length === 0) return null;
  if (candidates.length === 1) return candidates[0];
  return candidates.reduce((best, c) => ((c.created ?? 0) > (best.created ?? 0) ? c : best));
}

/** Consent for create: `{consent}` or `{fallback: true}`; throws Failure on cancel. */
async function consentForCreate(request, origin, inspected) {
  // The test flavor: consent is auto-approved and the built-in test verifier verifies the user.
  if (TEST_FLAVOR) return { consent: { userPresent: true, userVerified: true } };
  const { decision } = await ask(request, {
    kind: "create",
    origin,
    rpId: inspected.rpId,
    rpName: inspected.rpName ?? null,
    userName: inspected.userName ?? null,
    userDisplayName: inspected.userDisplayName ?? null,
    excluded: inspected.excluded === true,
    replaces: inspected.replaces === true,
    // No user verifier exists in this flavor yet: "required" can only end in NotAllowedError.
    uvUnavailable: inspected.userVerification === "required",
    candidates: [],
  });
  if (decision === "other-device") return { fallback: true };
  if (decision !== "save") throw new Failure("NotAllowedError", "The user cancelled the request.");
  // userVerified stays false: this flavor has no verifier (the core refuses "required" honestly).
  return { consent: { userPresent: true, userVerified: false } };
}

/** Selection for get: `{selection}` or `{fallback: true}`; throws Failure on cancel. */
async function selectionForGet(request, origin, inspected) {
  const candidates = Array.isArray(inspected.candidates) ? inspected.candidates : [];
  if (TEST_FLAVOR) {
    const chosen = testFlavorCandidate(candidates);
    return { selection: { credentialId: chosen ? chosen.credentialId : null, userPresent: true, userVerified: true } };
  }
  const sorted = [...candidates].sort((a, b) => (b.created ?? 0) - (a.created ?? 0));
  const { decision, credentialId } = await ask(request, {
    kind: "get",
    origin,
    rpId: inspected.rpId,
    rpName: null,
    userName: null,
    userDisplayName: null,
    excluded: false,
    replaces: false,
    uvUnavailable: inspected.userVerification === "required",
    candidates: sorted.map((c) => ({
      credentialId: c.credentialId,
      userName: c.userName ?? "",
      userDisplayName: c.userDisplayName ?? "",
      created: c.created ?? 0,
      lastUsed: c.lastUsed ?? null,
    })),
  });
  if (decision === "other-device") return { fallback: true };
  if (decision !== "signin") throw new Failure("NotAllowedError", "The user cancelled the request.");
  const chosen = candidates.find((c) => c.credentialId === credentialId) ?? (sorted.length === 1 ? sorted[0] : null);
  if (!chosen) throw new Failure("NotAllowedError", "No passkey was chosen.");
  return { selection: { credentialId: chosen.credentialId, userPresent: true, userVerified: false } };
}

// ---- webauthn requests --------------------------------------------------------------------------

const originOf = (url) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};

/**
 * Handles one `webauthn` message.
 * @param {import("../shared/messages.js").WebAuthnMessage} msg
 * @param {chrome.runtime.MessageSender} sender
 * @param {(answer: object) => void} respond
 */
async function handleWebAuthn(msg, sender, respond) {
  // The caller's origin, from the browser — never from the message.
  const origin = sender.origin ?? (sender.url ? originOf(sender.url) : null);
  if (!origin || !sender.tab) {
    respond(answerError("NotAllowedError", "The request did not come from a web page."));
    return;
  }
  const frameId = sender.frameId ?? 0;
  if (frameId !== 0) {
    // Cross-origin iframes are a later issue (permissions policy, crossOrigin/topOrigin in
    // clientDataJSON): until then the browser handles them. Same-origin frames are handled here.
    const topOrigin = sender.tab.url ? originOf(sender.tab.url) : null;
    if (topOrigin === null || topOrigin !== origin) {
      respond(answerFallback());
      return;
    }
  }
  // topOrigin is null: every request that reaches the core is same-origin with its ancestors.
  const ctx = JSON.stringify({ origin, topOrigin: null });
  const options = JSON.stringify(msg.options);

  const key = `${sender.tab.id}/${frameId}/${msg.requestId}`;
  if (requests.has(key)) {
    respond(answerError("NotAllowedError", "A request with this id is already pending."));
    return;
  }
  /** @type {PendingRequest} */
  const request = {
    key,
    requestId: msg.requestId,
    kind: msg.kind,
    tabId: sender.tab.id,
    aborted: false,
    finished: false,
    timer: null,
    prompt: null,
    respond,
  };
  requests.set(key, request);
  updateKeepalive();
  request.timer = setTimeout(
    () => finishRequest(request, answerError("NotAllowedError", "The operation either timed out or was not allowed.")),
    timeoutOf(msg.options),
  );

  try {
    const lk = await authenticator();
    let response;
    if (msg.kind === "create") {
      const inspected = unwrap(lk.inspectCreate(ctx, options));
      const outcome = await consentForCreate(request, origin, inspected);
      if (request.finished) return;
      if (outcome.fallback) return finishRequest(request, answerFallback());
      const consent = JSON.stringify(outcome.consent);
      response = await mutate((current) => (request.finished ? abortedEnvelope() : current.create(ctx, options, consent)));
    } else {
      const inspected = unwrap(lk.inspectGet(ctx, options));
      const outcome = await selectionForGet(request, origin, inspected);
      if (request.finished) return;
      if (outcome.fallback) return finishRequest(request, answerFallback());
      const selection = JSON.stringify(outcome.selection);
      response = await mutate((current) => (request.finished ? abortedEnvelope() : current.get(ctx, options, selection)));
    }
    finishRequest(request, answerOk(response));
  } catch (e) {
    if (e instanceof Failure) {
      finishRequest(request, answerError(e.name, e.message));
    } else {
      console.error("Latchkey: request failed:", e && e.name, e && e.message);
      finishRequest(request, answerError("UnknownError", "Latchkey failed unexpectedly."));
    }
  }
}

/** What `mutate` gets instead of a core call when the request ended before its turn (no writes). */
const abortedEnvelope = () =>
  JSON.stringify({ error: { name: "AbortError", message: "The operation was aborted." } });

function handleAbort(msg, sender) {
  const key = `${sender.tab?.id}/${sender.frameId ?? 0}/${msg.requestId}`;
  const request = requests.get(key);
  if (!request) return;
  request.aborted = true;
  finishRequest(request, answerError("AbortError", "The operation was aborted."));
}

// ---- extension pages ----------------------------------------------------------------------------

/** The prompt a prompt page may speak for: its own URL names it, and it lives in its window. */
function promptFor(promptId, sender) {
  const prompt = prompts.get(promptId);
  if (!prompt || !sender.url) return null;
  const url = new URL(sender.url);
  if (url.origin !== EXTENSION_ORIGIN || url.pathname !== `/${PROMPT_PATH}` || url.searchParams.get("id") !== promptId) {
    return null;
  }
  if (prompt.windowId !== null && sender.tab && sender.tab.windowId !== prompt.windowId) return null;
  return prompt;
}

async function listPasskeys() {
  const lk = await authenticator();
  return unwrap(lk.list());
}

const isContentScript = (sender) =>
  !!sender.tab && (sender.origin ?? (sender.url ? originOf(sender.url) : null)) !== EXTENSION_ORIGIN;
const isExtensionPage = (sender) =>
  (sender.origin ?? (sender.url ? originOf(sender.url) : null)) === EXTENSION_ORIGIN;

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== api.runtime.id) return false;
  const msg = parseMessage(message);
  if (!msg) {
    if (message && message.type === "webauthn") {
      sendResponse(answerError("NotAllowedError", "Malformed request."));
    }
    return false;
  }
  switch (msg.type) {
    case "webauthn":
      if (!isContentScript(sender)) return false;
      handleWebAuthn(msg, sender, sendResponse);
      return true;
    case "abort":
      if (isContentScript(sender)) handleAbort(msg, sender);
      return false;
    case "prompt-details": {
      if (!isExtensionPage(sender)) return false;
      const prompt = promptFor(msg.promptId, sender);
      sendResponse(prompt ? { ok: prompt.details } : answerError("NotAllowedError", "This request is no longer active."));
      return false;
    }
    case "prompt-decision": {
      if (!isExtensionPage(sender)) return false;
      const prompt = promptFor(msg.promptId, sender);
      if (prompt) {
        const expected = prompt.details.kind === "create" ? "save" : "signin";
        const decision = msg.decision === "save" || msg.decision === "signin" ? (msg.decision === expected ? msg.decision : "cancel") : msg.decision;
        closePrompt(prompt, { decision, credentialId: msg.credentialId });
      }
      sendResponse({ ok: true });
      return false;
    }
    case "list-passkeys":
      if (!isExtensionPage(sender)) return false;
      listPasskeys().then(
        (list) => sendResponse({ ok: list }),
        (e) => sendResponse(answerError(e instanceof Failure ? e.name : "UnknownError", e && e.message)),
      );
      return true;
    default:
      return false;
  }
});
