// The native host ("helper app", native-host/, docs/design.md "Native host protocol" and its
// subsection "In the extension"): one lazily opened, long-lived runtime.connectNative port.
//
// * Opened on first need; the first frame is `hello {protocolVersion: 1}`; every later call waits
//   for that handshake. Request ids are u32 (1, 2, … wrapping), answers are routed by id.
// * Each call has a timeout by type (hello a few seconds; anything that waits for a person
//   minutes); a timed-out or aborted call is cancelled on the host with `cancel {requestId}`.
// * When the port goes away (host exited, killed, not installed) every pending call rejects with a
//   HostError("disconnected" | "not-installed") and the next call connects again after a short
//   backoff. Without a host everything else keeps working (PIN only): `hostStatus()` says why.
// * An idle port (no pending call for IDLE_CLOSE_MS) is closed: the host process exits and, in
//   Chromium, the open port no longer keeps the service worker alive.
//
// Never log keys, reasons or options; answers are handed to the caller and not kept here.

import { api } from "../shared/browser.js";

export const HOST_NAME = "app.latchkey.host";
export const PROTOCOL_VERSION = 1;

const HELLO_TIMEOUT_MS = 5_000;
const PERSON_TIMEOUT_MS = 120_000; // verify-user, os-key-*: a person at an OS prompt
const PLATFORM_TIMEOUT_MS = 600_000; // platform-*: the page's own timeout ends it earlier (cancel)
const CANCEL_TIMEOUT_MS = 5_000;
const TIMEOUTS = {
  hello: HELLO_TIMEOUT_MS,
  "verify-user": PERSON_TIMEOUT_MS,
  "os-key-create": PERSON_TIMEOUT_MS,
  "os-key-release": PERSON_TIMEOUT_MS,
  "platform-create": PLATFORM_TIMEOUT_MS,
  "platform-get": PLATFORM_TIMEOUT_MS,
  cancel: CANCEL_TIMEOUT_MS,
};
/** After the port went away, the next connect waits this long (a crashing host is not respawned in a loop). */
const RECONNECT_BACKOFF_MS = 300;
/** A host that was not found is looked for again by status queries at most this often. */
const NOT_FOUND_RECHECK_MS = 30_000;
const IDLE_CLOSE_MS = 120_000;
const MAX_ID = 0xffff_ffff;
const AVAILABILITY = ["available", "unavailable", "unsupported"];
const OSES = ["windows", "linux", "macos", "other"];

/**
 * A failed host call. `code`: one of the host's error codes (`denied`, `cancelled`, `unavailable`,
 * `unsupported`, `key-not-found`, `key-exists`, `busy`, `web-authn`, `bad-request`, `internal`, …)
 * or the extension's own: `not-installed`, `disconnected`, `timeout`, `protocol`.
 * `name`: the DOMException name the host gave with `web-authn`.
 */
export class HostError extends Error {
  constructor(code, message, name) {
    super(message);
    this.code = code;
    if (typeof name === "string") this.hostName = name;
  }
}

/**
 * @typedef {{found: boolean|null, hostVersion: string|null, os: string|null,
 *   capabilities: {userVerification: string, osKey: string, platformAuthenticator: string}|null,
 *   testBuild: boolean, error: string|null, connected: boolean}} HostStatus
 */
/** @type {HostStatus} */
let status = { found: null, hostVersion: null, os: null, capabilities: null, testBuild: false, error: null, connected: false };
let checkedAt = 0;

let port = null;
/** @type {Promise<HostStatus>|null} the handshake of the current port */
let handshake = null;
let nextId = 1;
let reconnectAt = 0;
let idleTimer = null;
/** @type {Map<number, {type: string, resolve: (v: any) => void, reject: (e: any) => void, timer: any}>} */
const pending = new Map();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function takeId() {
  const id = nextId;
  nextId = nextId >= MAX_ID ? 1 : nextId + 1;
  return id;
}

/** Browsers' words for "there is no such host" (Chromium; Firefox). */
const NOT_FOUND_RE = /not found|no such native application|native messaging host .*(missing|not registered)/i;

function friendly(text) {
  if (NOT_FOUND_RE.test(text)) return "The helper app is not installed.";
  return text;
}

function rejectAll(error) {
  for (const [id, p] of pending) {
    clearTimeout(p.timer);
    pending.delete(id);
    p.reject(error);
  }
  armIdle();
}

function armIdle() {
  clearTimeout(idleTimer);
  idleTimer = null;
  if (port && pending.size === 0) idleTimer = setTimeout(closeIdle, IDLE_CLOSE_MS);
}

function closeIdle() {
  idleTimer = null;
  if (!port || pending.size > 0) return;
  const p = port;
  port = null;
  handshake = null;
  status = { ...status, connected: false };
  try {
    p.disconnect(); // our own disconnect fires no onDisconnect here
  } catch {
    // already gone
  }
}

function onDisconnect(p) {
  if (p !== port) return;
  // Chromium reports why in runtime.lastError during this callback; Firefox on port.error.
  const why = (api.runtime.lastError && api.runtime.lastError.message) || (p.error && p.error.message) || "The helper app exited.";
  port = null;
  handshake = null;
  reconnectAt = Date.now() + RECONNECT_BACKOFF_MS;
  const notInstalled = NOT_FOUND_RE.test(why);
  if (notInstalled || status.found !== true) {
    status = { found: false, hostVersion: null, os: null, capabilities: null, testBuild: false, error: friendly(why), connected: false };
  } else {
    status = { ...status, connected: false, error: `The helper app stopped: ${why}` };
  }
  rejectAll(
    notInstalled
      ? new HostError("not-installed", "The Latchkey helper app is not installed.")
      : new HostError("disconnected", "The Latchkey helper app stopped before it answered."),
  );
}

function onMessage(p, frame) {
  if (p !== port || !isPlainObject(frame)) return;
  if (typeof frame.id !== "number") {
    // An answer to a frame the host could not read (id null): it exits next; onDisconnect follows.
    console.warn("Latchkey: the helper app refused a frame:", isPlainObject(frame.error) ? frame.error.code : "?");
    return;
  }
  const call = pending.get(frame.id);
  if (!call) return; // cancelled or timed out already
  pending.delete(frame.id);
  clearTimeout(call.timer);
  armIdle();
  if (isPlainObject(frame.error)) {
    const e = frame.error;
    call.reject(new HostError(typeof e.code === "string" ? e.code : "internal", typeof e.message === "string" ? e.message : "The helper app failed.", e.name));
  } else if (isPlainObject(frame.result)) {
    call.resolve(frame.result);
  } else {
    call.reject(new HostError("protocol", "The helper app sent an answer Latchkey does not understand."));
  }
}

/** Sends one request on the open port; resolves to its result. */
function send(type, fields, signal) {
  const p = port;
  if (!p) return Promise.reject(new HostError("disconnected", "The Latchkey helper app is not connected."));
  const id = takeId();
  return new Promise((resolve, reject) => {
    const cancelOnHost = () => {
      if (type === "hello" || type === "cancel" || port !== p) return;
      try {
        p.postMessage({ id: takeId(), type: "cancel", requestId: id }); // its own answer is ignored
      } catch {
        // the port went away: nothing is pending on the host
      }
    };
    const timer = setTimeout(() => {
      if (!pending.delete(id)) return;
      cancelOnHost();
      armIdle();
      reject(new HostError("timeout", "The helper app did not answer in time."));
      if (type === "hello") closeIdle(); // a host that does not answer hello is of no use
    }, TIMEOUTS[type] ?? PERSON_TIMEOUT_MS);
    pending.set(id, { type, resolve, reject, timer });
    clearTimeout(idleTimer);
    if (signal) {
      const onAbort = () => {
        if (!pending.delete(id)) return;
        clearTimeout(timer);
        cancelOnHost();
        armIdle();
        reject(new HostError("cancelled", "The request was cancelled."));
      };
      if (signal.aborted) {
        queueMicrotask(onAbort);
      } else signal.addEventListener("abort", onAbort, { once: true });
    }
    try {
      p.postMessage({ id, type, ...fields });
    } catch (e) {
      pending.delete(id);
      clearTimeout(timer);
      reject(new HostError("disconnected", "The Latchkey helper app is not connected."));
    }
  });
}

function parseHello(r) {
  const caps = isPlainObject(r.capabilities) ? r.capabilities : null;
  const ok =
    r.protocolVersion === PROTOCOL_VERSION &&
    typeof r.hostVersion === "string" &&
    r.hostVersion.length <= 64 &&
    OSES.includes(r.os) &&
    caps &&
    AVAILABILITY.includes(caps.userVerification) &&
    AVAILABILITY.includes(caps.osKey) &&
    AVAILABILITY.includes(caps.platformAuthenticator) &&
    typeof r.testBuild === "boolean";
  if (!ok) throw new HostError("protocol", "The helper app's handshake is not one Latchkey understands.");
  return {
    found: true,
    hostVersion: r.hostVersion,
    os: r.os,
    capabilities: { userVerification: caps.userVerification, osKey: caps.osKey, platformAuthenticator: caps.platformAuthenticator },
    testBuild: r.testBuild,
    error: null,
    connected: true,
  };
}

/** The open, handshaken port (connecting when needed). */
function connect() {
  if (handshake) return handshake;
  handshake = (async () => {
    const wait = reconnectAt - Date.now();
    if (wait > 0) await sleep(wait);
    checkedAt = Date.now();
    let p;
    try {
      p = api.runtime.connectNative(HOST_NAME);
    } catch (e) {
      const text = (e && e.message) || String(e);
      status = { found: false, hostVersion: null, os: null, capabilities: null, testBuild: false, error: friendly(text), connected: false };
      throw new HostError("not-installed", "The Latchkey helper app is not available.");
    }
    port = p;
    p.onMessage.addListener((m) => onMessage(p, m));
    p.onDisconnect.addListener(() => onDisconnect(p));
    try {
      status = parseHello(await send("hello", { protocolVersion: PROTOCOL_VERSION }));
    } catch (e) {
      if (e instanceof HostError && e.code !== "disconnected" && e.code !== "not-installed") {
        // No usable handshake (no answer in time, another version, a bad answer): not usable.
        if (port === p) closeIdle();
        status = { found: false, hostVersion: null, os: null, capabilities: null, testBuild: false, error: e.message, connected: false };
      }
      throw e;
    }
    armIdle();
    return status;
  })();
  const mine = handshake;
  mine.catch(() => {
    if (handshake === mine) handshake = null;
  });
  return mine;
}

/**
 * Calls the host: `type` with `fields`; resolves to the result object or rejects with a HostError.
 * `signal` (AbortSignal) cancels it on the host.
 */
export async function callHost(type, fields = {}, { signal } = {}) {
  if (signal && signal.aborted) throw new HostError("cancelled", "The request was cancelled.");
  await connect();
  return send(type, fields, signal);
}

/**
 * What is known about the host. `probe: true` connects when it was never tried (or a missing host
 * was last looked for more than NOT_FOUND_RECHECK_MS ago); a status query never waits longer than
 * the hello timeout.
 * @returns {Promise<HostStatus>}
 */
export async function hostStatus({ probe = false } = {}) {
  const stale = status.found === null || (status.found === false && Date.now() - checkedAt > NOT_FOUND_RECHECK_MS);
  if (probe && !port && stale) {
    try {
      await connect();
    } catch {
      // recorded in status
    }
  }
  return { ...status, capabilities: status.capabilities ? { ...status.capabilities } : null };
}

/** `true` when the host said `capability` is "available" (after a handshake). */
export const hostCan = (capability) => status.found === true && !!status.capabilities && status.capabilities[capability] === "available";

/** The words for how the host verifies the user, from hello's os and testBuild. */
export function hostMethodName(s = status) {
  if (s.testBuild) return "test verifier";
  if (s.os === "windows") return "Windows Hello";
  return "system authentication";
}

/** The vault's OS unlock key id (`os:<keyId>` in the core's unlockMethods), or null. */
export function osKeyIdOf(unlockMethods) {
  const m = Array.isArray(unlockMethods) ? unlockMethods.find((u) => typeof u === "string" && u.startsWith("os:")) : undefined;
  return m ? m.slice(3) : null;
}

/**
 * What the prompt offers besides the PIN (cached host status; the prompt probes it when it opens):
 * `hostVerify` at the consent stage when a PIN is needed and the host can verify the user;
 * `osUnlock` at the unlock stage when the vault has an OS unlock method and the host can release
 * its key; `platformFallback` at the consent stage when the OS authenticator is available and the
 * request is not from a cross-origin frame (the host's clientDataJSON has no topOrigin).
 * @returns {{hostVerify: string|null, osUnlock: string|null, platformFallback: string|null}}
 */
export function hostOffers(stage, request, needsPin, unlockMethods) {
  const method = hostMethodName();
  return {
    hostVerify: stage === "consent" && needsPin && hostCan("userVerification") ? method : null,
    osUnlock: stage === "unlock" && osKeyIdOf(unlockMethods) !== null && hostCan("osKey") ? method : null,
    platformFallback:
      stage === "consent" && !request.topOrigin && hostCan("platformAuthenticator")
        ? status.os === "windows"
          ? "Windows Hello or security key"
          : "this device or a security key"
        : null,
  };
}
