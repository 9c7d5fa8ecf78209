// Shared helpers for Latchkey's pages (prompt, popup, options): messages to the service worker,
// safe DOM building, dates, friendly error texts, PIN rules and the wrong-PIN countdown.
//
// Everything a website chose (site names, user names, labels) reaches the DOM through textContent
// or attributes only — never innerHTML.
import { api, sendMessage } from "../shared/browser.js";
import {
  listPasskeysMessage,
  openManagerMessage,
  passkeyDeleteMessage,
  passkeyPurgeMessage,
  passkeyRenameMessage,
  passkeyRestoreMessage,
  promptDecisionMessage,
  promptDetailsMessage,
  promptPinMessage,
  promptHostVerifyMessage,
  promptOsUnlockMessage,
  promptPlatformMessage,
  osUnlockSetMessage,
  vaultUnlockOsMessage,
  settingsSetMessage,
  vaultChangePinMessage,
  vaultCreateMessage,
  vaultLockMessage,
  vaultStatusMessage,
  vaultUnlockMessage,
} from "../shared/messages.js";

// ---- messages (docs/design.md, "Extension messages for the vault" and "The prompt") -----------
// The constructors of messages.js (the one typed union), under short names.
export const msg = {
  vaultStatus: vaultStatusMessage,
  vaultCreate: vaultCreateMessage,
  vaultUnlock: vaultUnlockMessage,
  vaultLock: vaultLockMessage,
  vaultChangePin: vaultChangePinMessage,
  listPasskeys: listPasskeysMessage,
  passkeyRename: passkeyRenameMessage,
  passkeyDelete: passkeyDeleteMessage,
  passkeyRestore: passkeyRestoreMessage,
  passkeyPurge: passkeyPurgeMessage,
  /** @type {(s: {autoLockMinutes?: number, uvPolicy?: string}) => object} */
  settingsSet: settingsSetMessage,
  openManager: openManagerMessage,
  promptDetails: promptDetailsMessage,
  promptDecision: promptDecisionMessage,
  promptPin: promptPinMessage,
  promptHostVerify: promptHostVerifyMessage,
  promptOsUnlock: promptOsUnlockMessage,
  promptPlatform: promptPlatformMessage,
  vaultUnlockOs: vaultUnlockOsMessage,
  osUnlockSet: osUnlockSetMessage,
};

/**
 * The helper app (native host) in plain words, from vault-status's `host` member, e.g.
 * "Helper app: not installed — PIN only" or "Helper app 0.1.0 (Linux): user verification available
 * (system authentication), OS unlock available".
 */
export function hostText(host) {
  if (!host || host.found === null) return "Helper app: not checked yet — PIN only";
  if (!host.found) {
    return /not installed/i.test(host.error || "")
      ? "Helper app: not installed — PIN only"
      : `Helper app: not available (${host.error || "no answer"}) — PIN only`;
  }
  const os = { windows: "Windows", linux: "Linux", macos: "macOS", other: "other OS" }[host.os] || host.os;
  const c = host.capabilities || {};
  const word = (v) => (v === "available" ? "available" : v === "unavailable" ? "not available now" : "not supported");
  const parts = [
    `user verification ${word(c.userVerification)}${c.userVerification === "available" ? ` (${host.method})` : ""}`,
    `OS unlock ${word(c.osKey)}`,
  ];
  if (c.platformAuthenticator === "available") parts.push("Windows Hello passkeys and security keys available");
  const test = host.testBuild ? " [test build]" : "";
  const stopped = host.connected === false && host.error ? ` (${host.error})` : "";
  return `Helper app ${host.hostVersion} (${os})${test}: ${parts.join(", ")}${stopped}`;
}

/**
 * Sends a message and always resolves to an envelope: `{ok}` or `{error: {name, message, retryAfterMs?}}`.
 * @returns {Promise<{ok?: any, error?: {name: string, message: string, retryAfterMs?: number}}>}
 */
export async function ask(message) {
  try {
    const answer = await sendMessage(message);
    if (answer && typeof answer === "object" && ("ok" in answer || answer.error)) return answer;
    return { error: { name: "NoAnswer", message: "Latchkey did not answer. Try again in a moment." } };
  } catch (e) {
    return { error: { name: "Unavailable", message: "Latchkey is not available right now. Try again in a moment." } };
  }
}

/** Calls `fn` whenever the service worker broadcasts `{type: "vault-changed"}`. */
export function onVaultChanged(fn) {
  api.runtime.onMessage.addListener((message) => {
    if (message && message.type === "vault-changed") fn();
    return false; // never answers: other pages' requests are not ours
  });
}

/** Opens the options page through the service worker (falls back to the runtime API). */
export async function openManager() {
  const answer = await ask(msg.openManager());
  if (answer.error) {
    try {
      await api.runtime.openOptionsPage();
    } catch {
      // nothing else to try
    }
  }
}

export const version = () => {
  try {
    return api.runtime.getManifest().version;
  } catch {
    return "";
  }
};

// ---- DOM --------------------------------------------------------------------------------------

export const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * Builds an element. `props`: className, text (textContent), attrs {name: value}, on {event: fn},
 * and any other element property (id, type, value, htmlFor, disabled, hidden, …).
 * Children: nodes or strings (strings become text nodes).
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "attrs") for (const [a, v] of Object.entries(value)) node.setAttribute(a, String(v));
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

// ---- text -------------------------------------------------------------------------------------

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** A `<time>` element for a ms timestamp, or the text `none` for null. */
export function timeEl(ms, none = "Never", withTime = true) {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) return el("span", { text: none });
  const d = new Date(ms);
  return el("time", { dateTime: d.toISOString(), text: (withTime ? dateTime : dateOnly).format(d) });
}
export const formatDate = (ms) => dateOnly.format(new Date(ms));

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What a passkey is called in the UI: its label, else the person's name. */
export const accountName = (p) => p.userDisplayName || p.userName || "(no name)";
export const passkeyTitle = (p) => p.label || accountName(p);

/** A plain sentence for an error envelope's `error`. */
export function errorText(error) {
  if (!error) return "Something went wrong.";
  switch (error.name) {
    case "WrongPin":
      return "That PIN is not correct.";
    case "RateLimited":
      return "Too many wrong PINs. Please wait before you try again.";
    case "WeakPin":
      return "Use at least 4 characters.";
    case "Locked":
      return "Latchkey is locked. Unlock it first.";
    case "NoVault":
      return "Latchkey is not set up yet.";
    case "VaultExists":
      return "Latchkey is already set up.";
    case "NotFound":
      return "That passkey no longer exists.";
    default:
      return error.message || "Something went wrong.";
  }
}

// ---- PINs -------------------------------------------------------------------------------------

export const MIN_PIN_LENGTH = 4;

/** Checks a new PIN and its confirmation; returns `{field: "new"|"confirm", text}` or null. */
export function checkNewPin(pin, confirm) {
  if ([...pin].length < MIN_PIN_LENGTH) return { field: "new", text: `Too short: use at least ${MIN_PIN_LENGTH} characters.` };
  if (pin !== confirm) return { field: "confirm", text: "The two PINs do not match." };
  return null;
}

/** Shows (or clears, with "") a message tied to an input via aria-describedby/aria-invalid. */
export function setFieldError(input, errorEl, text) {
  errorEl.textContent = text;
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

const waitText = (ms) => {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `You can try again in ${plural(s, "second")}.`;
  const m = Math.floor(s / 60);
  const r = s % 60;
  return `You can try again in ${m}:${String(r).padStart(2, "0")} minutes.`;
};

/**
 * The wrong-PIN wait: disables `buttons`, shows a ticking text in `timerEl` (role="timer", not
 * announced every second), then enables them again. Returns a function that stops it early.
 * @param {number} ms
 * @param {HTMLElement} timerEl
 * @param {HTMLButtonElement[]} buttons
 * @param {() => void} [onDone]
 */
export function countdown(ms, timerEl, buttons, onDone) {
  const until = Date.now() + ms;
  for (const b of buttons) b.disabled = true;
  let timer = 0;
  const stop = () => {
    clearInterval(timer);
    timerEl.textContent = "";
    for (const b of buttons) b.disabled = false;
  };
  const tick = () => {
    const left = until - Date.now();
    if (left <= 0) {
      stop();
      if (onDone) onDone();
      return;
    }
    timerEl.textContent = waitText(left);
  };
  timer = setInterval(tick, 250);
  tick();
  return stop;
}
