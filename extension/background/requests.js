// Pages' WebAuthn requests (`webauthn` messages from the relay) and the prompt window.
//
// The core checks each request (inspect*), the person decides in the prompt (normal flavor) or the
// test flavor approves by itself, then the core creates or signs and its commit is stored.
// A locked vault (or none yet) opens the prompt at its "unlock" ("setup") stage first; a PIN entered
// there, or at the consent stage, is user verification for that one request (docs/design.md,
// "The prompt"). Every request ends with an answer: a credential, an error, or `{fallback: true}`.

import { api } from "../shared/browser.js";
import {
  ERROR_NAMES,
  answerError,
  answerFallback,
  answerOk,
  answerVaultError,
  framePolicyMessage,
} from "../shared/messages.js";
import { TEST_FLAVOR } from "../../flavor.js";
import {
  Failure,
  asFailure,
  callCore,
  cleanupLater,
  broadcastChanged,
  commitAndPrecompute,
  createVault,
  currentSettings,
  ensureSettings,
  metadataChanged,
  precomputeSoon,
  retryAfterMs,
  serves,
  setBusyCheck,
  unlockWithPin,
  unwrap,
  vaultState,
  verifyPin,
  withVault,
} from "./vault.js";
import { completeProxied, proxyAttached } from "./proxy.js";
import { hostOffers, hostStatus } from "./host.js";

export const EXTENSION_ORIGIN = new URL(api.runtime.getURL("")).origin;
const PROMPT_PATH = "extension/ui/prompt.html";
/** The test flavor's PIN (created on first use, used to unlock; never a real user's PIN). */
const TEST_PIN = "latchkey-test-pin";

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

// At most this many modal requests pending per tab (docs/design.md "Hostile input"); more end in
// NotAllowedError at once, as browsers refuse a request while another is pending.
const MAX_PENDING_PER_TAB = 16;

// PIN errors the prompt shows next to its field (the request goes on); any other error from a
// prompt-pin ends the request with it.
const PIN_ERRORS = ["WrongPin", "RateLimited", "WeakPin", "HeaderDamaged", "UnknownError"];

/**
 * @typedef {{
 *   key: string, requestId: string, kind: "create"|"get", tabId: number|undefined,
 *   origin: string, topOrigin: string|null, ctx: string, options: string,
 *   finished: boolean, timer: any, prompt: Prompt | null, respond: (answer: object) => void,
 *   inspected: any, pinVerified: boolean,
 *   conditional: boolean, chosen: string|null, started: boolean,
 * }} PendingRequest
 * @typedef {{
 *   id: string, request: PendingRequest, windowId: number|null,
 *   details: import("../shared/messages.js").PromptDetails,
 *   decided: boolean, resolve: (d: {decision: string, credentialId?: string}) => void,
 * }} Prompt
 */

/** @type {Map<string, PendingRequest>} by `${tabId}/${frameId}/${requestId}` */
const requests = new Map();
/** @type {Map<string, Prompt>} by promptId */
const prompts = new Map();

// A person looking at a prompt is activity: auto-lock waits until it closes.
setBusyCheck(() => prompts.size > 0);

// The interval is started by the first pending request and stops itself at a tick with none pending
// (a tick without an API call keeps no worker alive): a burst of quick requests does not start and
// stop a timer each.
let keepaliveTimer = null;
function updateKeepalive() {
  if (requests.size > 0 && keepaliveTimer === null) {
    keepaliveTimer = setInterval(() => {
      if (requests.size > 0) {
        api.runtime.getPlatformInfo().catch(() => {});
      } else {
        clearInterval(keepaliveTimer);
        keepaliveTimer = null;
      }
    }, KEEPALIVE_MS);
  }
}

/** The page sees WebAuthn error names only; a locked or missing vault is "not allowed". */
export function pageError(failure) {
  const name = ERROR_NAMES.includes(failure.name)
    ? failure.name
    : ["Locked", "NoVault", "WrongPin", "RateLimited"].includes(failure.name)
      ? "NotAllowedError"
      : "UnknownError";
  return answerError(name, failure.message);
}

/** Ends a request once: answers the relay, closes its prompt, forgets it. */
export function finishRequest(request, answer) {
  if (request.finished) return;
  request.finished = true;
  if (request.hostAbort) request.hostAbort.abort(); // a helper-app call for it is cancelled on the host
  clearTimeout(request.timer);
  requests.delete(request.key);
  request.owner?.delete(request);
  if (request.prompt) closePrompt(request.prompt, { decision: "cancel" });
  request.respond(answer);
}

function timeoutOf(options) {
  const t = typeof options.timeout === "number" && Number.isFinite(options.timeout) ? options.timeout : DEFAULT_TIMEOUT_MS;
  return Math.min(MAX_TIMEOUT_MS, Math.max(MIN_TIMEOUT_MS, t));
}

const originOf = (url) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};

export const senderOrigin = (sender) => sender.origin ?? (sender.url ? originOf(sender.url) : null);

// ---- what the prompt shows ----------------------------------------------------------------------

/**
 * The prompt's details for the vault's current state: "setup", "unlock", or "consent" (after the
 * core inspected the request; its errors end the request). Inside `withVault`.
 * @returns {Promise<import("../shared/messages.js").PromptDetails>}
 */
async function detailsNow(current, request) {
  // Before the vault is open only the origin is known for sure (the rpId is unchecked page data).
  const base = {
    kind: request.kind,
    origin: request.origin,
    // The top-level site around a cross-origin frame (null otherwise): the person sees who embeds it.
    topOrigin: request.topOrigin ?? null,
    rpId: null,
    rpName: null,
    userName: null,
    userDisplayName: null,
    excluded: false,
    replaces: false,
    userVerification: null,
    needsPin: false,
    retryAfterMs: 0,
    candidates: [],
    hostVerify: null,
    osUnlock: null,
    platformFallback: null,
  };
  try {
    request.inspected = unwrap(
      request.kind === "create" ? current.inspectCreate(request.ctx, request.options) : current.inspectGet(request.ctx, request.options),
    );
  } catch (e) {
    if (!(e instanceof Failure) || (e.name !== "Locked" && e.name !== "NoVault")) throw e;
    const state = vaultState(current);
    if (state === "none") return { ...base, stage: "setup" };
    if (state === "locked") {
      const { osUnlock } = hostOffers("unlock", request, false, unwrap(current.status()).unlockMethods);
      return { ...base, stage: "unlock", retryAfterMs: await retryAfterMs(current), osUnlock };
    }
    throw e;
  }
  const i = request.inspected;
  const uv = i.userVerification;
  const excluded = request.kind === "create" && i.excluded === true;
  let candidates = request.kind === "get" && Array.isArray(i.candidates) ? i.candidates : [];
  // A passkey chosen in the autofill menu: the prompt (unlock / PIN) is about that one only.
  if (request.chosen) candidates = candidates.filter((c) => c.credentialId === request.chosen);
  const wantsPin = uv === "required" || (uv === "preferred" && currentSettings().uvPolicy === "preferred");
  const needsPin = wantsPin && !request.pinVerified && !excluded && (request.kind === "create" || candidates.length > 0);
  return {
    ...base,
    ...hostOffers("consent", request, needsPin && !excluded, null),
    stage: "consent",
    rpId: i.rpId,
    rpName: i.rpName ?? null,
    userName: i.userName ?? null,
    userDisplayName: i.userDisplayName ?? null,
    excluded,
    replaces: request.kind === "create" && i.replaces === true,
    userVerification: typeof uv === "string" ? uv : null,
    // An excluded credential ends in InvalidStateError after consent alone; no PIN needed.
    needsPin,
    // The PIN rate limit is read from storage only when the prompt shows the PIN field.
    retryAfterMs: needsPin ? await retryAfterMs(current) : 0,
    candidates: [...candidates]
      .sort((a, b) => (b.created ?? 0) - (a.created ?? 0))
      .map((c) => ({
        credentialId: c.credentialId,
        userName: c.userName ?? "",
        userDisplayName: c.userDisplayName ?? "",
        label: c.label ?? null,
        created: c.created ?? 0,
        lastUsed: c.lastUsed ?? null,
      })),
  };
}

// ---- prompts (normal flavor) --------------------------------------------------------------------

function closePrompt(prompt, outcome) {
  if (!prompts.has(prompt.id)) return;
  prompts.delete(prompt.id);
  prompt.request.prompt = null;
  const windowId = prompt.windowId;
  prompt.request.closedPromptWindow = windowId;
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
    const win = await api.windows.create({ type: "popup", url, width: 420, height: 560, focused: true });
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

export function onWindowRemoved(windowId) {
  for (const prompt of prompts.values()) {
    if (prompt.windowId === windowId) closePrompt(prompt, { decision: "cancel" });
  }
}

// A frame that navigates (or reloads) ends its pending requests, and a top-level navigation ends
// every request of the tab (its subframes are gone too): the prompt closes and no late answer is
// left waiting for a page that no longer exists. webNavigation.onCommitted listener, added by
// sw.js with the first request (only this life's requests can end).
export function onNavigationCommitted(d) {
  for (const request of [...requests.values()]) {
    if (request.tabId !== d.tabId) continue;
    if (d.frameId === 0 || request.key.startsWith(`${d.tabId}/${d.frameId}/`)) {
      finishRequest(request, answerError("NotAllowedError", "The page navigated away."));
    }
  }
}

/**
 * The relay port these requests came on closed: their frame is gone (navigated, its <iframe>
 * removed, or put in the back/forward cache). They end like a navigation's: the prompt closes,
 * nothing is saved.
 */
export function endRequests(owner) {
  for (const request of [...owner]) finishRequest(request, answerError("NotAllowedError", "The frame went away."));
}

export function onTabRemoved(tabId) {
  for (const request of [...requests.values()]) {
    if (request.tabId === tabId) finishRequest(request, answerError("NotAllowedError", "The page was closed."));
  }
}

/** The prompt a prompt page may speak for: its own URL names it, and it lives in its window. */
export function promptFor(promptId, sender) {
  const prompt = prompts.get(promptId);
  if (!prompt || !sender.url) return null;
  const url = new URL(sender.url);
  if (url.origin !== EXTENSION_ORIGIN || url.pathname !== `/${PROMPT_PATH}` || url.searchParams.get("id") !== promptId) {
    return null;
  }
  if (prompt.windowId !== null && sender.tab && sender.tab.windowId !== prompt.windowId) return null;
  return prompt;
}

const inactive = () => answerVaultError("NotAllowedError", "This request is no longer active.");

/** `prompt-details`: the details for the vault's current state (it may have changed meanwhile). */
export async function handlePromptDetails(msg, sender) {
  const prompt = promptFor(msg.promptId, sender);
  if (!prompt) return inactive();
  const request = prompt.request;
  await hostStatus({ probe: true }); // the helper app's offers (no wait when it is known or missing)
  try {
    // Opening the prompt is no activity of the person's (the page caused it).
    const details = await withVault((current) => detailsNow(current, request), { activity: false });
    if (request.finished) return inactive();
    prompt.details = details;
    return { ok: details };
  } catch (e) {
    const f = asFailure(e);
    finishRequest(request, pageError(f));
    return answerVaultError(f.name, f.message);
  }
}

/**
 * `prompt-pin`: creates the vault, unlocks it, or verifies the PIN — whichever the vault's state
 * calls for — and answers the next stage's details. A `create` that no longer fits the state (or a
 * PIN for a vault that does not exist yet) just answers the current stage.
 */
export async function handlePromptPin(msg, sender) {
  const prompt = promptFor(msg.promptId, sender);
  if (!prompt) return inactive();
  const request = prompt.request;
  let outcome;
  try {
    outcome = await withVault(async (current) => {
      const state = vaultState(current);
      const create = msg.create === true;
      let verified = false;
      if (state === "none" && create) {
        await createVault(current, msg.pin);
        verified = true;
      } else if (state === "locked" && !create) {
        await unlockWithPin(current, msg.pin);
        verified = true;
      } else if (state === "unlocked" && !create) {
        await verifyPin(current, msg.pin);
        verified = true;
      }
      if (verified && !request.finished) request.pinVerified = true;
      try {
        return { details: await detailsNow(current, request) };
      } catch (e) {
        return { requestFailure: asFailure(e) };
      }
    });
  } catch (e) {
    const f = asFailure(e);
    if (PIN_ERRORS.includes(f.name)) return answerVaultError(f.name, f.message, f.retryAfterMs);
    finishRequest(request, pageError(f));
    return answerVaultError(f.name, f.message);
  }
  if (outcome.requestFailure) {
    finishRequest(request, pageError(outcome.requestFailure));
    return answerVaultError(outcome.requestFailure.name, outcome.requestFailure.message);
  }
  if (request.finished) return inactive();
  prompt.details = outcome.details;
  return { ok: outcome.details };
}

/**
 * `prompt-decision`. "save"/"signin" count only at the consent stage and, when the site requires
 * user verification, only after the PIN was entered for this request: otherwise the answer is an
 * error and the prompt stays open.
 */
export function handlePromptDecision(msg, sender) {
  const prompt = promptFor(msg.promptId, sender);
  if (!prompt) return { ok: true };
  if (msg.decision === "save" || msg.decision === "signin") {
    const request = prompt.request;
    const expected = request.kind === "create" ? "save" : "signin";
    if (msg.decision !== expected) {
      closePrompt(prompt, { decision: "cancel" });
    } else if (prompt.details.stage !== "consent" || !request.inspected) {
      return answerVaultError("NotAllowedError", "Unlock Latchkey first.");
    } else if (request.inspected.userVerification === "required" && !request.pinVerified && !prompt.details.excluded) {
      return answerVaultError("NotAllowedError", "Enter your PIN first.");
    } else if (msg.decision === "save" && prompt.details.replaces && !prompt.details.excluded && msg.confirmReplace !== true) {
      return answerVaultError("NotAllowedError", "Confirm that the existing passkey may be replaced.");
    } else {
      closePrompt(prompt, { decision: msg.decision, credentialId: msg.credentialId });
    }
  } else {
    closePrompt(prompt, { decision: msg.decision });
  }
  return { ok: true };
}

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

/** The test flavor's vault: created with the test PIN on first use, unlocked with it when locked. */
async function ensureTestVault(current) {
  const state = vaultState(current);
  if (state === "none") await createVault(current, TEST_PIN);
  else if (state === "locked") await unlockWithPin(current, TEST_PIN, { limit: false });
}

/**
 * What the person (or the test flavor) allows: `{consent}` (create), `{selection}` (get),
 * `{fallback: true}`; throws Failure on cancel.
 */
async function decide(request, details) {
  if (TEST_FLAVOR) {
    // Consent is auto-approved and the built-in test verifier verifies the user.
    if (request.kind === "create") return { consent: { userPresent: true, userVerified: true } };
    const chosen = testFlavorCandidate(Array.isArray(request.inspected.candidates) ? request.inspected.candidates : []);
    return { selection: { credentialId: chosen ? chosen.credentialId : null, userPresent: true, userVerified: true } };
  }
  const { decision, credentialId } = await ask(request, details);
  if (decision === "other-device") return { fallback: true };
  const expected = request.kind === "create" ? "save" : "signin";
  if (decision !== expected) throw new Failure("NotAllowedError", "The user cancelled the request.");
  // A PIN entered in this request's prompt is its user verification; nothing else is.
  const userVerified = request.pinVerified;
  if (request.kind === "create") return { consent: { userPresent: true, userVerified } };
  const candidates = Array.isArray(request.inspected.candidates) ? request.inspected.candidates : [];
  const chosen = candidates.find((c) => c.credentialId === credentialId) ?? (candidates.length === 1 ? candidates[0] : null);
  if (!chosen) throw new Failure("NotAllowedError", "No passkey was chosen.");
  return { selection: { credentialId: chosen.credentialId, userPresent: true, userVerified } };
}

// ---- webauthn requests --------------------------------------------------------------------------

/**
 * Handles one `webauthn` message.
 * @param {import("../shared/messages.js").WebAuthnMessage} msg
 * @param {chrome.runtime.MessageSender} sender
 * @param {(answer: object) => void} respond
 * @param {Set<PendingRequest> | null} owner the relay port's requests (ended when it closes)
 */
export async function handleWebAuthn(msg, sender, respond, owner = null) {
  // The caller's origin, from the browser — never from the message.
  const origin = senderOrigin(sender);
  if (!origin || !sender.tab) {
    respond(answerError("NotAllowedError", "The request did not come from a web page."));
    return;
  }
  await ensureSettings();
  const frameId = sender.frameId ?? 0;
  // The top-level origin: the tab's URL as the browser reports it.
  const topOrigin = frameId === 0 ? origin : sender.tab.url ? originOf(sender.tab.url) : null;
  if (topOrigin === null) {
    respond(answerFallback());
    return;
  }
  // Switched off, or this site is excluded: the browser's own WebAuthn answers.
  if (!serves(origin, topOrigin)) {
    respond(answerFallback());
    return;
  }
  const crossOrigin = topOrigin !== origin;
  const conditional = msg.mediation === "conditional";
  // Proxy mode (Chromium): modal requests of top-level-like frames go through the browser, which
  // hands them to Latchkey's proxy listener (handleProxyRequest). Cross-origin frames stay here:
  // the proxy does not tell their top origin.
  if (!conditional && !crossOrigin && proxyAttached()) {
    respond(answerFallback());
    return;
  }
  if (crossOrigin) {
    const refusal = await crossOriginRefusal(msg, sender, origin);
    if (refusal) {
      respond(answerError("NotAllowedError", refusal));
      return;
    }
  }
  const key = `${sender.tab.id}/${frameId}/${msg.requestId}`;
  if (requests.has(key)) {
    respond(answerError("NotAllowedError", "A request with this id is already pending."));
    return;
  }
  if (!conditional) {
    let pendingInTab = 0;
    for (const r of requests.values()) if (r.tabId === sender.tab.id && !r.conditional) pendingInTab++;
    if (pendingInTab >= MAX_PENDING_PER_TAB) {
      respond(answerError("NotAllowedError", "Too many requests are pending on this page."));
      return;
    }
  }
  /** @type {PendingRequest} */
  const request = {
    key,
    requestId: msg.requestId,
    kind: msg.kind,
    tabId: sender.tab.id,
    windowId: sender.tab.windowId,
    closedPromptWindow: null,
    origin,
    // crossOrigin/topOrigin in clientDataJSON (the core sets them when topOrigin differs).
    topOrigin: crossOrigin ? topOrigin : null,
    ctx: JSON.stringify({ origin, topOrigin: crossOrigin ? topOrigin : null }),
    options: JSON.stringify(msg.options),
    conditional,
    chosen: null,
    started: false,
    finished: false,
    timer: null,
    prompt: null,
    respond,
    inspected: null,
    pinVerified: false,
    owner,
  };
  requests.set(key, request);
  owner?.add(request);
  updateKeepalive();
  // A conditional request waits for the person as long as the page keeps it (spec: no timeout);
  // only its abort signal (or the page going away) ends it.
  if (!conditional) {
    request.timer = setTimeout(
      () => finishRequest(request, answerError("NotAllowedError", "The operation either timed out or was not allowed.")),
      timeoutOf(msg.options),
    );
    await runModal(request);
  }
}

/**
 * Why a cross-origin frame may not make this request (a message), or null. The permissions policy
 * `publickey-credentials-create`/`-get`: Chromium's own answer (document.featurePolicy, read by the
 * relay in its isolated world), else each ancestor's <iframe allow> as that ancestor's relay sees it.
 * A create also needs transient user activation in the frame (WebAuthn L3 §5.1.3 step 2).
 */
async function crossOriginRefusal(msg, sender, origin) {
  const feature = msg.kind === "create" ? "publickey-credentials-create" : "publickey-credentials-get";
  const facts = msg.frame ?? { policyAllows: null, userActivation: false };
  let allowed = facts.policyAllows;
  if (allowed === null) allowed = await ancestorsAllow(sender, origin, feature);
  if (!allowed) return `The '${feature}' feature is not enabled in this document (permissions policy).`;
  if (msg.kind === "create" && msg.mediation === undefined && !facts.userActivation) {
    return "A cross-origin iframe needs a user activation (a click) to create a passkey.";
  }
  return null;
}

/** Asks every ancestor frame's relay whether its <iframe> for the child allows `feature`. */
async function ancestorsAllow(sender, origin, feature) {
  if (!api.webNavigation?.getFrame) return false;
  try {
    const tabId = sender.tab.id;
    let frameId = sender.frameId ?? 0;
    let childOrigin = origin;
    const topOrigin = originOf(sender.tab.url ?? "");
    for (let depth = 0; depth < 20 && frameId !== 0; depth++) {
      const frame = await api.webNavigation.getFrame({ tabId, frameId });
      if (!frame || typeof frame.parentFrameId !== "number" || frame.parentFrameId < 0) return false;
      const parentId = frame.parentFrameId;
      const parent = await api.webNavigation.getFrame({ tabId, frameId: parentId });
      const parentOrigin = parent && parent.url ? originOf(parent.url) : null;
      if (parentOrigin === null) return false;
      // The default allowlist is 'self': a frame same-origin with the top needs no attribute,
      // as long as every frame above it allows (the top document allows itself).
      if (childOrigin !== topOrigin || parentOrigin !== topOrigin) {
        const answer = await api.tabs.sendMessage(tabId, framePolicyMessage(childOrigin, feature), { frameId: parentId });
        if (!answer || answer.ok !== true) return false;
      }
      frameId = parentId;
      childOrigin = parentOrigin;
    }
    return true;
  } catch {
    return false;
  }
}

/** The modal path: the prompt (normal flavor) or the test flavor's approval, then create/get. */
async function runModal(request) {
  try {
    // A page's request alone is no activity (it must not keep the vault open); the person's is.
    // The test flavor's create has no prompt and nothing to choose, and the core's create checks
    // all that inspectCreate would: it skips this first vault turn (one wasm parse, not two).
    const details =
      TEST_FLAVOR && request.kind === "create"
        ? null
        : await withVault(
            async (current) => {
              if (TEST_FLAVOR) await ensureTestVault(current);
              return detailsNow(current, request);
            },
            { activity: false },
          );
    const outcome = await decide(request, details);
    if (request.finished) return;
    if (outcome.fallback) return await fallBack(request);
    await complete(request, outcome);
  } catch (e) {
    finishRequest(request, pageError(asFailure(e)));
  }
}

/**
 * "Use another device or security key": the browser's own WebAuthn takes the request. Browsers
 * refuse a request from a page without focus ("the page does not have focus"), so the prompt
 * window goes first and the page's window and tab get the focus back before the shim hands over.
 */
async function fallBack(request) {
  const windowId = request.closedPromptWindow;
  try {
    if (typeof windowId === "number") {
      await new Promise((r) => setTimeout(r, PROMPT_CLOSE_DELAY_MS));
      await api.windows.remove(windowId).catch(() => {});
    }
    if (typeof request.windowId === "number") await api.windows.update(request.windowId, { focused: true }).catch(() => {});
    if (typeof request.tabId === "number") await api.tabs.update(request.tabId, { active: true }).catch(() => {});
  } finally {
    finishRequest(request, answerFallback());
  }
}

/** Creates or signs with the core and answers the page. */
async function complete(request, outcome) {
  await withVault(async (current) => {
    if (request.finished) return; // aborted or timed out while waiting for its turn: no writes
    if (TEST_FLAVOR) await ensureTestVault(current);
    if (request.kind === "create") {
      const r = callCore(current, (c) => c.create(request.ctx, request.options, JSON.stringify(outcome.consent)));
      await commitAndPrecompute(r.commit);
      finishRequest(request, answerOk(r.response));
      cleanupLater(r.commit);
    } else {
      const r = callCore(current, (c) => c.get(request.ctx, request.options, JSON.stringify(outcome.selection)));
      // lastUsed is metadata: the core keeps it pending; one flush stores many gets' (vault.js).
      finishRequest(request, answerOk(r.response));
      metadataChanged();
    }
    broadcastChanged();
    precomputeSoon();
  });
}

/**
 * A modal request Chromium's webAuthenticationProxy handed over (proxy.js). The origin is
 * Chromium's; there is no tab: the answer goes back with complete*Request, always exactly once.
 * "Use another device" cannot hand a proxied request back to Chromium: it ends in NotAllowedError.
 */
export async function handleProxyRequest(kind, requestId, origin, sameOriginWithAncestors, options) {
  const key = `proxy/${requestId}`;
  const respond = (answer) =>
    completeProxied(
      kind,
      requestId,
      answer.fallback
        ? answerError("NotAllowedError", "Latchkey is the browser's passkey proxy: turn proxy mode off to use another device.")
        : answer,
    );
  await ensureSettings();
  if (!sameOriginWithAncestors) {
    respond(answerError("NotAllowedError", "Latchkey's proxy mode does not serve this cross-origin frame."));
    return;
  }
  if (!serves(origin, null)) {
    respond(answerError("NotAllowedError", "Latchkey is not used on this site, and proxy mode has no other authenticator."));
    return;
  }
  if (requests.has(key)) return;
  /** @type {PendingRequest} */
  const request = {
    key,
    requestId,
    kind,
    tabId: undefined,
    windowId: undefined,
    closedPromptWindow: null,
    origin,
    topOrigin: null,
    ctx: JSON.stringify({ origin, topOrigin: null }),
    options: JSON.stringify(options),
    conditional: false,
    chosen: null,
    started: false,
    finished: false,
    timer: null,
    prompt: null,
    respond,
    inspected: null,
    pinVerified: false,
  };
  requests.set(key, request);
  updateKeepalive();
  request.timer = setTimeout(
    () => finishRequest(request, answerError("NotAllowedError", "The operation either timed out or was not allowed.")),
    timeoutOf(options),
  );
  await runModal(request);
}

/** Chromium cancelled a proxied request (the page aborted it): end it; its prompt closes. */
export function handleProxyCanceled(requestId) {
  const request = requests.get(`proxy/${requestId}`);
  if (request) finishRequest(request, answerError("AbortError", "The operation was aborted."));
}

const conditionalOf = (msg, sender) => {
  const request = requests.get(`${sender.tab?.id}/${sender.frameId ?? 0}/${msg.requestId}`);
  return request && request.conditional && !request.finished ? request : null;
};

/**
 * `autofill-list`: the autofill menu's entries for a pending conditional request — user names and
 * display names of the passkeys the core finds for the request's rpId (checked against the
 * caller's origin), or the vault's state when it cannot list them. Nothing secret.
 */
export async function handleAutofillList(msg, sender) {
  const request = conditionalOf(msg, sender);
  if (!request) return answerVaultError("NotAllowedError", "This request is no longer active.");
  if (request.started) return { ok: { state: "busy", accounts: [] } };
  try {
    const details = await withVault((current) => detailsNow(current, request), { activity: false });
    if (details.stage !== "consent") return { ok: { state: details.stage === "setup" ? "none" : "locked", accounts: [] } };
    return {
      ok: {
        state: "unlocked",
        accounts: details.candidates.map((c) => ({
          credentialId: c.credentialId,
          userName: c.userName,
          userDisplayName: c.userDisplayName,
        })),
      },
    };
  } catch (e) {
    // The request itself is invalid (e.g. an rpId this origin may not use): it ends with that error.
    const f = asFailure(e);
    finishRequest(request, pageError(f));
    return answerVaultError(f.name, f.message);
  }
}

/**
 * `autofill-choose`: the person picked a passkey in the autofill menu (a trusted click or Enter on
 * Latchkey's own menu: user presence) or asked to unlock. A locked vault, or a site that wants
 * verification the PIN has not given yet, continues in the prompt window; otherwise the core
 * signs at once.
 */
export async function handleAutofillChoose(msg, sender) {
  const request = conditionalOf(msg, sender);
  if (!request) return answerVaultError("NotAllowedError", "This request is no longer active.");
  if (request.started) return { ok: true };
  request.started = true;
  if (msg.credentialId !== undefined) request.chosen = msg.credentialId;
  (async () => {
    try {
      const details = await withVault((current) => {
        if (TEST_FLAVOR) return ensureTestVault(current).then(() => detailsNow(current, request));
        return detailsNow(current, request);
      }, { activity: false });
      const direct =
        details.stage === "consent" && request.chosen !== null && details.candidates.length === 1 && (TEST_FLAVOR || !details.needsPin);
      if (direct) {
        const userVerified = TEST_FLAVOR ? true : request.pinVerified;
        await complete(request, { selection: { credentialId: request.chosen, userPresent: true, userVerified } });
        return;
      }
      const outcome = await decide(request, details);
      if (request.finished) return;
      if (outcome.fallback) return await fallBack(request);
      await complete(request, outcome);
    } catch (e) {
      const f = asFailure(e);
      if (!request.finished && f.name === "NotAllowedError" && request.conditional) {
        // Cancelled in the prompt: the autofill request stays pending (the menu can be used again).
        request.started = false;
        request.chosen = null;
        return;
      }
      finishRequest(request, pageError(f));
    }
  })();
  return { ok: true };
}

/** `site-status`: may Latchkey serve this frame (isConditionalMediationAvailable)? */
export async function handleSiteStatus(sender) {
  const origin = senderOrigin(sender);
  if (!origin || !sender.tab) return { ok: false };
  await ensureSettings();
  const frameId = sender.frameId ?? 0;
  const topOrigin = frameId === 0 ? origin : sender.tab.url ? originOf(sender.tab.url) : null;
  return { ok: topOrigin !== null && serves(origin, topOrigin) };
}

export function handleAbort(msg, sender) {
  const request = requests.get(`${sender.tab?.id}/${sender.frameId ?? 0}/${msg.requestId}`);
  if (request) finishRequest(request, answerError("AbortError", "The operation was aborted."));
}
