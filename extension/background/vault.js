// The encrypted vault as the service worker sees it: one wasm `Latchkey` (the Rust core) kept in
// step with storage.local, the session in storage.session, auto-lock, wrong-PIN rate limiting and
// settings. Contract: docs/design.md ("The vault", "The wasm API").
//
// Every use of the Latchkey runs through `withVault`, one at a time (the `exclusive` chain), so the
// core's memory and storage.local change together. Nothing in here waits for a person.
// The session key is passed straight from the core to storage.session (and back): no variable
// outlives the call that handles it. Never log PINs, keys, records or storage contents.

import { api, sendMessage } from "../shared/browser.js";
import { AUTO_LOCK_MINUTES, MAX_EXCLUDED_SITES, UV_POLICIES, isOrigin, vaultChangedMessage } from "../shared/messages.js";
import init, { Latchkey } from "../../pkg/latchkey_wasm.js";
import { takeEarlyWasm } from "./wasm-start.js";

export const SETTINGS_DEFAULTS = Object.freeze({
  autoLockMinutes: 15,
  uvPolicy: "required",
  enabled: true,
  excludedSites: [],
  proxyMode: false,
});

const SETTINGS_KEY = "settings";
const FAILURES_KEY = "vault:failures";
const HEADER_KEY = "vault:header";
const BACKUP_KEY = "vault:header:backup";
const SESSION_KEYS = ["vaultKey", "lastActivity"];
const ALARM = "latchkey-auto-lock";
// lastActivity is written to storage.session at most this often (it only needs minute precision).
const ACTIVITY_WRITE_MS = 10_000;
// createVault's kdfJson: JSON null = the core's default Argon2id parameters.
const DEFAULT_KDF = "null";

/** A failure that becomes `{error: {name, message, retryAfterMs?}}`. */
export class Failure extends Error {
  /** @param {string} name @param {string} message @param {number} [retryAfterMs] */
  constructor(name, message, retryAfterMs) {
    super(message);
    this.name = name;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/** Any thrown value as a Failure (unexpected ones are logged by name only and become UnknownError). */
export function asFailure(e) {
  if (e instanceof Failure) return e;
  console.error("Latchkey: unexpected failure:", e && e.name, e && e.message);
  return new Failure("UnknownError", "Latchkey failed unexpectedly.");
}

/** Unwraps a wasm envelope: `{ok}` → value, `{error}` → throws Failure. */
export function unwrap(envelopeJson) {
  let envelope;
  try {
    envelope = typeof envelopeJson === "string" ? JSON.parse(envelopeJson) : envelopeJson;
  } catch {
    throw new Failure("UnknownError", "The authenticator gave an unreadable answer.");
  }
  if (envelope && typeof envelope === "object" && "ok" in envelope) return envelope.ok;
  const e = envelope && envelope.error;
  throw new Failure(e && typeof e.name === "string" ? e.name : "UnknownError", (e && e.message) || "The operation failed.");
}

/** Runs `fn` after every earlier `exclusive` call has finished. */
let exclusiveChain = Promise.resolve();
export function exclusive(fn) {
  const run = exclusiveChain.then(fn, fn);
  exclusiveChain = run.catch(() => {});
  return run;
}

// `vault-changed` is sent a moment after the change, once per burst of changes: a runtime.sendMessage
// costs the worker and the browser process about as much as a page's whole request (an open popup
// also starts refreshing), so it must not share a request's moment with the answer on its way back.
// A burst (a page's many gets) makes one broadcast: BROADCAST_DELAY_MS after the last change, and
// never more than BROADCAST_MAX_WAIT_MS after the first. A worker stopped before it fires loses only
// a refresh of a page that is open (its next message wakes the worker and reads the current state).
const BROADCAST_DELAY_MS = 100;
const BROADCAST_MAX_WAIT_MS = 1000;
let broadcastTimer = null;
let broadcastFirst = 0;

/** Tells open popups/options pages to refresh, soon (no answer expected; nobody listening is fine). */
export function broadcastChanged() {
  const now = Date.now();
  if (broadcastTimer === null) broadcastFirst = now;
  else clearTimeout(broadcastTimer);
  const delay = Math.max(0, Math.min(BROADCAST_DELAY_MS, broadcastFirst + BROADCAST_MAX_WAIT_MS - now));
  broadcastTimer = setTimeout(() => {
    broadcastTimer = null;
    sendMessage(vaultChangedMessage()).catch(() => {});
  }, delay);
}

// ---- state --------------------------------------------------------------------------------------

/** @type {Promise<unknown> | null} */
let wasmReady = null;
/** @type {Latchkey | null} */
let lk = null;
/** storage.local changed behind our back (or never read): reload before the next use. */
let stale = true;
/** Mirrors the core's state: true between a successful unlock and the next lock/reload. */
let unlocked = false;
let settings = { ...SETTINGS_DEFAULTS };
let lastActivity = 0;
let lastActivityWrite = 0;
/** While it returns true (a prompt is open: a person is deciding) auto-lock waits. */
let isBusy = () => false;

export const setBusyCheck = (fn) => {
  isBusy = fn;
};
export const currentSettings = () => ({ ...settings, excludedSites: [...settings.excludedSites] });

/** Settings are read from storage once per worker life; serving decisions need them before any vault use. */
let settingsLoaded = null;
export function ensureSettings() {
  settingsLoaded ??= api.storage.local.get(SETTINGS_KEY).then(
    (all) => {
      settings = sanitizeSettings(all[SETTINGS_KEY]);
    },
    () => {},
  );
  return settingsLoaded;
}

/** May Latchkey answer requests from `origin` (the caller) under `topOrigin` (the tab)? */
export function serves(origin, topOrigin) {
  if (!settings.enabled) return false;
  return !settings.excludedSites.includes(origin) && (topOrigin === null || !settings.excludedSites.includes(topOrigin));
}

export function sanitizeSettings(v) {
  const s = v && typeof v === "object" ? v : {};
  return {
    autoLockMinutes: AUTO_LOCK_MINUTES.includes(s.autoLockMinutes) ? s.autoLockMinutes : SETTINGS_DEFAULTS.autoLockMinutes,
    uvPolicy: UV_POLICIES.includes(s.uvPolicy) ? s.uvPolicy : SETTINGS_DEFAULTS.uvPolicy,
    // Off: every request goes to the browser's own WebAuthn.
    enabled: s.enabled !== false,
    // Origins where Latchkey never answers (the browser's own WebAuthn does), sorted, unique.
    excludedSites: Array.isArray(s.excludedSites)
      ? [...new Set(s.excludedSites.filter(isOrigin))].sort().slice(0, MAX_EXCLUDED_SITES)
      : [],
    // Chromium: take modal requests through chrome.webAuthenticationProxy (proxy.js). Off by default.
    proxyMode: s.proxyMode === true,
  };
}

const expired = (last) => settings.autoLockMinutes > 0 && Date.now() - (last || 0) >= settings.autoLockMinutes * 60_000;

// ---- own writes vs. outside changes -------------------------------------------------------------

// Our own writes come back through storage.onChanged; they are recognised by key and value.
// Anything else under vault:/cred: (another context, a test resetting storage) makes the core stale.
/** @type {Map<string, string[]>} key → JSON of values we wrote, not yet seen in onChanged */
const ownWrites = new Map();
const OWN_WRITES_MAX = 2000;
function expectOwnWrite(key, value) {
  if (ownWrites.size > OWN_WRITES_MAX) ownWrites.clear(); // removes of absent keys never report back
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

/** storage.onChanged listener. */
export function onStorageChanged(changes, areaName) {
  if (areaName !== "local") return;
  for (const [key, change] of Object.entries(changes)) {
    if (key === SETTINGS_KEY) {
      settings = sanitizeSettings(change.newValue);
      syncAlarm();
    } else if (key === FAILURES_KEY) {
      // read fresh at every PIN attempt
    } else if ((key.startsWith("vault:") || key.startsWith("cred:")) && !isOwnWrite(key, change.newValue)) {
      stale = true;
    }
  }
  if (stale) ownWrites.clear();
}

// ---- loading ------------------------------------------------------------------------------------

/** The Latchkey, loaded and current; locks it first if it sat idle too long. Inside `exclusive` only. */
async function ready() {
  // A first load (or a reload) reads storage while the wasm module is fetched and compiled.
  const snapshot = stale ? readSnapshot() : null;
  if (!wasmReady) {
    // Firefox: compiled since the background started (wasm-start.js), instantiated here; else (or
    // if that compile failed) the glue fetches, compiles and instantiates it now.
    const load = () => init({ module_or_path: api.runtime.getURL("pkg/latchkey_wasm_bg.wasm") });
    const early = takeEarlyWasm();
    wasmReady = (early ? early.then((module) => init({ module_or_path: module }), load) : load()).catch((e) => {
      wasmReady = null;
      throw e;
    });
  }
  try {
    await wasmReady;
    if (!lk) {
      lk = new Latchkey();
      if (!snapshot) stale = true;
    }
  } catch (e) {
    snapshot?.local.catch(() => {});
    stale = true;
    console.error("Latchkey: the authenticator could not be loaded:", e && e.message);
    throw new Failure("UnknownError", "Latchkey's authenticator could not be loaded.");
  }
  if (snapshot) await reload(snapshot);
  else if (stale) await reload();
  await lockIfIdle();
  return lk;
}

/**
 * Starts reading all of storage.local for a reload, and storage.session's session in parallel (a
 * locked vault is reopened with it; reading both at once saves a storage round trip at a cold
 * start). Changes that arrive after this point mark the core stale again (so the next use reloads
 * once more).
 * @returns {{local: Promise<Record<string, unknown>>, session: Promise<Record<string, unknown>>}}
 */
function readSnapshot() {
  stale = false;
  unlocked = false;
  stopVerification();
  ownWrites.clear();
  const session = api.storage.session.get(SESSION_KEYS);
  session.catch(() => {}); // only a locked vault waits for it (restoreSession)
  return { local: api.storage.local.get(null), session };
}

/** Reads all of storage.local into the core, then reopens the session if there is one. */
async function reload(snapshot = readSnapshot()) {
  try {
    const all = await snapshot.local;
    settings = sanitizeSettings(all[SETTINGS_KEY]);
    const status = unwrap(lk.load(JSON.stringify(all)));
    if (Array.isArray(status.damaged) && status.damaged.length > 0) {
      console.warn(`Latchkey: ${status.damaged.length} stored item(s) could not be read.`); // count only
    }
    if (status.state === "unlocked") unlocked = true;
    else if (status.state === "locked") await restoreSession(snapshot.session);
    else await endSession();
  } catch (e) {
    stale = true;
    throw e instanceof Failure ? e : storageFailure(e);
  }
}

/** Unlocks with storage.session's key (`session`: its read, started with the snapshot's) unless auto-lock has expired (cold start needs no PIN). */
async function restoreSession(session) {
  const s = await session;
  if (typeof s.vaultKey !== "string") return;
  const last = typeof s.lastActivity === "number" ? s.lastActivity : 0;
  if (expired(Math.max(last, lastActivity))) {
    await endSession();
    return;
  }
  let result;
  try {
    result = unwrap(lk.unlockWithSessionKey(s.vaultKey));
  } catch (e) {
    console.warn("Latchkey: the session no longer opens the vault:", e && e.name);
    await endSession();
    return;
  }
  unlocked = true;
  lastActivity = Math.max(last, lastActivity);
  lastActivityWrite = last;
  try {
    await writeCommit(result.commit);
  } catch (e) {
    lockCore();
    stale = true;
    throw storageFailure(e);
  }
  cleanupLater(result.commit);
  syncAlarm();
  startVerification();
  // No precomputeSoon() here: a cold start's request is waiting, and its answer refills the pool.
}

function storageFailure(e) {
  console.error("Latchkey: storage failed:", e && e.message);
  return new Failure("UnknownError", "Latchkey could not use the browser's storage.");
}

// ---- using the vault ----------------------------------------------------------------------------

/**
 * Runs `fn(lk)` with the current Latchkey, after every earlier vault use.
 * `activity: false` for uses that must not postpone auto-lock (status, lock, a page's first look).
 * @template T
 * @param {(lk: Latchkey) => T | Promise<T>} fn
 * @returns {Promise<T>}
 */
export function withVault(fn, { activity = true } = {}) {
  return exclusive(async () => {
    const current = await ready();
    if (activity) touch();
    return fn(current);
  });
}

/** "none", "locked" or "unlocked" (the wasm's `state()`: `status()` would build and parse the whole status). */
export const vaultState = (current) => current.state();

/** Records a use of the unlocked vault (storage.session is written at most every 10 s). */
function touch() {
  if (!unlocked) return;
  const now = Date.now();
  lastActivity = now;
  if (now - lastActivityWrite >= ACTIVITY_WRITE_MS) {
    lastActivityWrite = now;
    api.storage.session.set({ lastActivity: now }).catch(() => {});
  }
}

async function lockIfIdle() {
  if (unlocked && !isBusy() && expired(lastActivity)) await lockNow();
}

function lockCore() {
  unlocked = false;
  stopVerification();
  try {
    if (lk) lk.lock();
  } catch {
    // a broken core holds nothing worth keeping: it is reloaded on the next use
    stale = true;
  }
}

/** Locks: the core drops its keys, storage.session forgets the session key. Inside `exclusive`. */
export async function lockNow() {
  await flushMetadata({ wait: true }).catch(() => {}); // lastUsed is kept if it can be
  lockCore();
  await endSession();
  broadcastChanged();
}

async function startSession(sessionKey) {
  unlocked = true;
  lastActivity = lastActivityWrite = Date.now();
  try {
    await api.storage.session.set({ vaultKey: sessionKey, lastActivity });
  } catch (e) {
    lockCore();
    throw storageFailure(e);
  }
  syncAlarm();
  startVerification();
}

async function endSession() {
  await api.storage.session.remove(SESSION_KEYS).catch(() => {});
  syncAlarm();
}

// ---- commits ------------------------------------------------------------------------------------

const WRITABLE = (key) => typeof key === "string" && (key.startsWith("vault:") || key.startsWith("cred:"));
const keyList = (v) => (Array.isArray(v) ? v : []);

/** One storage.local.set (atomic), then the removes. Throws on an invalid commit or a failed write. */
async function writeCommit(commit) {
  const set = commit && typeof commit.set === "object" && commit.set !== null ? commit.set : {};
  const remove = keyList(commit && commit.remove);
  if (!Object.keys(set).every(WRITABLE) || !remove.every(WRITABLE)) {
    throw new Error("the authenticator produced an invalid storage write");
  }
  if (Object.keys(set).length > 0) {
    for (const [key, value] of Object.entries(set)) expectOwnWrite(key, value);
    await api.storage.local.set(set);
  }
  if (remove.length > 0) {
    for (const key of remove) expectOwnWrite(key, undefined);
    await api.storage.local.remove(remove);
  }
}

/**
 * Stores a commit the core made. On failure the core is reloaded from storage (so it matches what
 * is really stored) and the caller gets UnknownError. Inside `exclusive`.
 */
export async function commitChanges(commit) {
  try {
    await writeCommit(commit);
  } catch (e) {
    const failure = storageFailure(e);
    stale = true;
    await reload().catch(() => {});
    throw failure;
  }
}

/**
 * The commit's clean-up removes, after the caller has answered (losing them is harmless). Issued
 * in turn (storage applies one context's calls in order) but not waited for: the next vault use
 * need not sit behind it.
 */
export function cleanupLater(commit) {
  const keys = keyList(commit && commit.cleanup).filter(WRITABLE);
  if (keys.length === 0) return;
  setTimeout(() => {
    exclusive(() => {
      for (const key of keys) expectOwnWrite(key, undefined);
      api.storage.local.remove(keys).catch((e) => console.warn("Latchkey: clean-up failed:", e && e.message));
    });
  }, 0);
}

// A get's lastUsed is metadata (signCount stays 0): the core keeps it pending and one
// `flushMetadata` commit stores every passkey used since the last flush, at most one write per
// METADATA_FLUSH_MS. A real change (create, rename, delete …) carries the pending metadata in its
// own commit, so no metadata write can land after it. A crash (or worker stop) before the flush
// loses only those lastUsed times.
const METADATA_FLUSH_MS = 500;
let metadataTimer = null;

/** After a get: its lastUsed is stored within METADATA_FLUSH_MS, together with other gets'. */
export function metadataChanged() {
  if (metadataTimer !== null) return;
  metadataTimer = setTimeout(() => {
    metadataTimer = null;
    exclusive(flushMetadata).catch((e) => console.warn("Latchkey: metadata flush failed:", e && e.message));
  }, METADATA_FLUSH_MS);
}

/**
 * Stores the core's pending metadata now (one atomic set; nothing if none is pending). The write
 * is issued in turn (storage applies one context's writes in the order they were issued) and not
 * waited for unless `wait`; its clean-up follows once it is stored; a failed write makes the core
 * reload from storage before its next use. Inside `exclusive`.
 */
async function flushMetadata({ wait = false } = {}) {
  if (!lk || stale || !unlocked || lk.metadataPending() === 0) return;
  const { commit } = callCore(lk, (c) => c.flushMetadata());
  if (!commit || !commit.set || Object.keys(commit.set).length === 0) return;
  const done = writeCommit(commit).then(
    () => cleanupLater(commit),
    (e) => {
      console.error("Latchkey: storage failed:", e && e.message);
      stale = true;
    },
  );
  if (wait) await done;
}

// ---- background verification -------------------------------------------------------------------

// An unlock decrypts no entry (docs/design.md, "The vault"): a page request opens its own site's
// entries, and the rest are verified here after each unlock, a slice at a time, each slice its own
// `exclusive` turn with a macrotask in between, so page requests interleave (waiting at most one
// slice, about 1 ms in Chromium). The first slice waits a second: a worker is usually woken by a
// request, and the requests of that burst go first. A lock or a reload ends the run (the next
// unlock starts a new one). A slice's commit carries what verification found (repairs from kept
// previous versions, tag fixes, expired trash).
const VERIFY_SLICE = 32;
const VERIFY_DELAY_MS = 1000;
let verifyRun = 0;

function stopVerification() {
  verifyRun++;
}

function startVerification() {
  const run = ++verifyRun;
  const slice = () => {
    exclusive(async () => {
      if (run !== verifyRun || !unlocked || stale || !lk) return false;
      const r = callCore(lk, (current) => current.verifyStep(VERIFY_SLICE));
      await commitChanges(r.commit);
      cleanupLater(r.commit);
      if (r.unverified > 0) return true;
      reportDamaged(lk);
      broadcastChanged();
      return false;
    }).then(
      (more) => {
        if (more) setTimeout(slice, 0);
      },
      (e) => console.warn("Latchkey: the vault check stopped:", e && e.name),
    );
  };
  setTimeout(slice, VERIFY_DELAY_MS);
}

function reportDamaged(current) {
  const { damaged } = unwrap(current.status());
  if (Array.isArray(damaged) && damaged.length > 0) {
    console.warn(`Latchkey: ${damaged.length} stored item(s) could not be read.`); // count only
  }
}

/**
 * Finishes the verification at once, so the status the manager shows is exact (count, damaged,
 * recently deleted). Inside `withVault`.
 */
export async function finishVerification(current) {
  if (!unlocked || unwrap(current.status()).unverified === 0) return;
  stopVerification();
  const r = callCore(current, (c) => c.verifyStep(0xffffffff));
  await commitChanges(r.commit);
  cleanupLater(r.commit);
  reportDamaged(current);
}

// ---- PINs ---------------------------------------------------------------------------------------

async function readFailures() {
  const v = (await api.storage.local.get(FAILURES_KEY))[FAILURES_KEY];
  const count = v && Number.isSafeInteger(v.count) && v.count > 0 ? v.count : 0;
  const last = v && Number.isFinite(v.last) ? v.last : 0;
  return { count, last };
}

function delayFor(current, failures) {
  if (failures <= 0) return 0;
  const r = current.unlockDelayMs(failures); // a plain number (an envelope is accepted too)
  const ms = typeof r === "number" ? r : unwrap(r);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** How long until the next PIN attempt is allowed (0 = now). */
export async function retryAfterMs(current) {
  const f = await readFailures();
  return Math.max(0, f.last + delayFor(current, f.count) - Date.now());
}

/** Runs one PIN attempt under the wrong-PIN rate limit (vault:failures). */
async function pinAttempt(current, attempt) {
  const f = await readFailures();
  const wait = f.last + delayFor(current, f.count) - Date.now();
  if (f.count > 0 && wait > 0) {
    throw new Failure("RateLimited", `Too many wrong PINs. Try again in ${Math.ceil(wait / 1000)} s.`, wait);
  }
  let result;
  try {
    result = attempt();
  } catch (e) {
    if (!(e instanceof Failure) || e.name !== "WrongPin") throw e;
    const next = { count: f.count + 1, last: Date.now() };
    await api.storage.local.set({ [FAILURES_KEY]: next }).catch((w) => console.error("Latchkey: storage failed:", w && w.message));
    const delay = delayFor(current, next.count);
    throw new Failure("WrongPin", "Wrong PIN.", delay > 0 ? delay : undefined);
  }
  if (f.count > 0) await api.storage.local.remove(FAILURES_KEY).catch(() => {});
  return result;
}

/**
 * The next create/get's scalar multiplications (its signature nonce, a create's key pair), computed
 * off the request path: after an answer and after an unlock (docs/design.md "Precomputed nonces").
 * A few hundred µs when the core's pool is empty; nothing when it is full or the vault is locked.
 */
export function precomputeSoon() {
  setTimeout(() => lk?.precompute(), 0);
}

/**
 * `commitChanges(commit)`, with the precomputation done while storage writes the commit (a create
 * waits ~0.5 ms for it, idle) instead of after the answer, where it competed with the answer's
 * delivery for the CPU. Inside `withVault`.
 */
export async function commitAndPrecompute(commit) {
  const written = commitChanges(commit); // the write is issued before this returns
  try {
    lk?.precompute();
  } catch {
    // only an optimisation: the next request computes its own
  }
  await written;
}

// ---- vault operations (each inside `withVault`) -------------------------------------------------

export async function createVault(current, pin) {
  const r = unwrap(current.createVault(pin, DEFAULT_KDF));
  await commitChanges(r.commit);
  await startSession(r.sessionKey);
  if ((await readFailures()).count > 0) await api.storage.local.remove(FAILURES_KEY).catch(() => {});
  cleanupLater(r.commit);
  precomputeSoon();
  broadcastChanged();
}

/** `limit: false` only for the test flavor's own unlock with its known PIN (not a guess). */
export async function unlockWithPin(current, pin, { limit = true } = {}) {
  const attempt = () => unwrap(current.unlockWithPin(pin));
  const r = limit ? await pinAttempt(current, attempt) : attempt();
  await commitChanges(r.commit);
  await startSession(r.sessionKey);
  cleanupLater(r.commit);
  precomputeSoon();
  broadcastChanged();
}

/**
 * Unlocks with the OS-held key the native host released for unlock method `os:<keyId>` (no PIN
 * rate limit: the key is 256 random bits, released only after an OS verification). A key that does
 * not open this vault is the core's `WrongPin`.
 */
export async function unlockWithOsKey(current, keyId, key) {
  const r = unwrap(current.unlockWithOsKey(keyId, key));
  await commitChanges(r.commit);
  if (vaultState(current) === "unlocked" && !unlocked) await startSession(r.sessionKey);
  cleanupLater(r.commit);
  precomputeSoon();
  broadcastChanged();
}

/** The PIN re-entered for user verification (vault unlocked). */
export async function verifyPin(current, pin) {
  await pinAttempt(current, () => unwrap(current.verifyPin(pin)));
}

export async function changePin(current, oldPin, newPin) {
  const r = await pinAttempt(current, () => unwrap(current.changePin(oldPin, newPin)));
  await commitChanges(r.commit);
  // The new header is confirmed (stored): it becomes the backup too.
  const header = r.commit && r.commit.set ? r.commit.set[HEADER_KEY] : undefined;
  if (header !== undefined) {
    expectOwnWrite(BACKUP_KEY, header);
    await api.storage.local.set({ [BACKUP_KEY]: header }).catch((e) => {
      console.error("Latchkey: could not update the header backup:", e && e.message);
    });
  }
  cleanupLater(r.commit);
  broadcastChanged();
}

/**
 * Unwraps a core call that may change stored data. The core locks itself when it cannot encrypt a
 * change (its memory may be ahead of storage): then it is reloaded before the next use.
 */
export function callCore(current, call) {
  try {
    return unwrap(call(current));
  } catch (e) {
    if (unlocked && vaultState(current) !== "unlocked") {
      unlocked = false;
      stale = true;
    }
    throw e;
  }
}

/** A core call that returns `{commit}`: stores it; answers true. */
export async function mutate(current, call) {
  const r = callCore(current, call);
  await commitChanges(r.commit);
  cleanupLater(r.commit);
  broadcastChanged();
  return true;
}

export async function saveSettings(changes) {
  const next = sanitizeSettings({ ...settings, ...changes });
  await api.storage.local.set({ [SETTINGS_KEY]: next }).catch((e) => {
    throw storageFailure(e);
  });
  settings = next;
  syncAlarm();
  broadcastChanged();
  return { ...next };
}

/** True when storage.local holds (the start of) a vault; no wasm needed. */
export async function hasVault() {
  const all = await api.storage.local.get([HEADER_KEY, BACKUP_KEY]);
  return HEADER_KEY in all || BACKUP_KEY in all;
}

// ---- auto-lock alarm ----------------------------------------------------------------------------

function syncAlarm() {
  if (!api.alarms) return;
  try {
    const p =
      unlocked && settings.autoLockMinutes > 0
        ? api.alarms.create(ALARM, { periodInMinutes: 1 })
        : api.alarms.clear(ALARM);
    Promise.resolve(p).catch(() => {});
  } catch {
    // alarms are a backstop: every use checks auto-lock too
  }
}

/** alarms.onAlarm listener: locks an idle vault even when nobody uses Latchkey. */
export function onAlarm(alarm) {
  if (!alarm || alarm.name !== ALARM) return;
  exclusive(async () => {
    if (isBusy()) return;
    if (lk && !stale) {
      if (!unlocked) syncAlarm();
      else if (expired(lastActivity)) await lockNow();
      return;
    }
    // Woken by the alarm (or about to reload): decide from storage without loading the wasm.
    const s = await api.storage.session.get(SESSION_KEYS);
    if (typeof s.vaultKey !== "string") {
      syncAlarm();
      return;
    }
    settings = sanitizeSettings((await api.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY]);
    if (expired(Math.max(typeof s.lastActivity === "number" ? s.lastActivity : 0, lastActivity))) await lockNow();
  }).catch((e) => console.warn("Latchkey: auto-lock check failed:", e && e.message));
}
