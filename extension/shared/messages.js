// The one typed union of extension messages (docs/design.md, "Extension messages"), with a
// constructor and a validator for each type. The service worker validates every message it gets
// with `parseMessage` and ignores or rejects anything that does not fit.
//
// relay.js is a classic content script and cannot import this module; it builds its two messages
// (`webauthn`, `abort`) by hand in exactly the shapes below, and the service worker checks them here.

/** @typedef {"create" | "get"} Kind */

/**
 * @typedef {"TypeError" | "NotAllowedError" | "SecurityError" | "NotSupportedError" |
 *   "InvalidStateError" | "AbortError" | "UnknownError" | "ConstraintError"} ErrorName
 */

/** @typedef {{name: ErrorName, message: string}} WebAuthnError */

/**
 * relay → sw: a page's navigator.credentials request. `options` is the L3 JSON form
 * (PublicKeyCredentialCreationOptionsJSON / PublicKeyCredentialRequestOptionsJSON).
 * @typedef {{type: "webauthn", kind: Kind, requestId: string, options: Record<string, unknown>}} WebAuthnMessage
 */
/** relay → sw: the page aborted request `requestId` (no answer). @typedef {{type: "abort", requestId: string}} AbortMessage */
/** prompt page → sw: what to show. @typedef {{type: "prompt-details", promptId: string}} PromptDetailsMessage */
/**
 * prompt page → sw: what the user chose (no answer beyond an acknowledgement).
 * @typedef {"save" | "signin" | "other-device" | "cancel"} Decision
 * @typedef {{type: "prompt-decision", promptId: string, decision: Decision, credentialId?: string}} PromptDecisionMessage
 */
/** popup → sw. @typedef {{type: "list-passkeys"}} ListPasskeysMessage */

/**
 * @typedef {WebAuthnMessage | AbortMessage | PromptDetailsMessage | PromptDecisionMessage | ListPasskeysMessage} Message
 */

/**
 * Answer to `webauthn`: the credential's RegistrationResponseJSON / AuthenticationResponseJSON,
 * an error for the page, or "let the browser handle it" (the shim then calls the original API).
 * @typedef {{ok: Record<string, unknown>} | {error: WebAuthnError} | {fallback: true}} WebAuthnAnswer
 */

/**
 * What the prompt page shows (answer to `prompt-details`).
 * @typedef {{
 *   kind: Kind, origin: string, rpId: string, rpName: string|null,
 *   userName: string|null, userDisplayName: string|null,
 *   excluded: boolean, replaces: boolean,
 *   uvUnavailable: boolean,
 *   candidates: Array<{credentialId: string, userName: string, userDisplayName: string, created: number, lastUsed: number|null}>
 * }} PromptDetails
 */

/** @typedef {{credentialId: string, rpId: string, userName: string, userDisplayName: string, created: number, lastUsed: number|null}} PasskeySummary */

export const KINDS = Object.freeze(["create", "get"]);
export const DECISIONS = Object.freeze(["save", "signin", "other-device", "cancel"]);
export const ERROR_NAMES = Object.freeze([
  "TypeError",
  "NotAllowedError",
  "SecurityError",
  "NotSupportedError",
  "InvalidStateError",
  "AbortError",
  "UnknownError",
  "ConstraintError",
]);

const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isId = (v) => typeof v === "string" && ID_RE.test(v);
const hasOnly = (obj, keys) => Object.keys(obj).every((k) => keys.includes(k));

// ---- constructors ---------------------------------------------------------------------------

/** @returns {WebAuthnMessage} */
export const webauthnMessage = (kind, requestId, options) => ({ type: "webauthn", kind, requestId, options });
/** @returns {AbortMessage} */
export const abortMessage = (requestId) => ({ type: "abort", requestId });
/** @returns {PromptDetailsMessage} */
export const promptDetailsMessage = (promptId) => ({ type: "prompt-details", promptId });
/** @returns {PromptDecisionMessage} */
export const promptDecisionMessage = (promptId, decision, credentialId) =>
  credentialId === undefined || credentialId === null
    ? { type: "prompt-decision", promptId, decision }
    : { type: "prompt-decision", promptId, decision, credentialId };
/** @returns {ListPasskeysMessage} */
export const listPasskeysMessage = () => ({ type: "list-passkeys" });

/** @returns {WebAuthnAnswer} */
export const answerOk = (credentialJson) => ({ ok: credentialJson });
/** @returns {WebAuthnAnswer} */
export const answerFallback = () => ({ fallback: true });
/**
 * @param {string} name  one of ERROR_NAMES (anything else becomes UnknownError)
 * @param {string} message
 * @returns {{error: WebAuthnError}}
 */
export const answerError = (name, message) => ({
  error: {
    name: /** @type {ErrorName} */ (ERROR_NAMES.includes(name) ? name : "UnknownError"),
    message: typeof message === "string" ? message : String(message),
  },
});

// ---- validators -----------------------------------------------------------------------------

/**
 * Checks a message's shape. Returns the message (typed) or null when it fits none of the types.
 * @param {unknown} m
 * @returns {Message | null}
 */
export function parseMessage(m) {
  if (!isPlainObject(m) || typeof m.type !== "string") return null;
  switch (m.type) {
    case "webauthn":
      return hasOnly(m, ["type", "kind", "requestId", "options"]) &&
        KINDS.includes(m.kind) &&
        isId(m.requestId) &&
        isPlainObject(m.options)
        ? /** @type {WebAuthnMessage} */ (m)
        : null;
    case "abort":
      return hasOnly(m, ["type", "requestId"]) && isId(m.requestId) ? /** @type {AbortMessage} */ (m) : null;
    case "prompt-details":
      return hasOnly(m, ["type", "promptId"]) && isId(m.promptId) ? /** @type {PromptDetailsMessage} */ (m) : null;
    case "prompt-decision":
      return hasOnly(m, ["type", "promptId", "decision", "credentialId"]) &&
        isId(m.promptId) &&
        DECISIONS.includes(m.decision) &&
        (m.credentialId === undefined || isId(m.credentialId))
        ? /** @type {PromptDecisionMessage} */ (m)
        : null;
    case "list-passkeys":
      return hasOnly(m, ["type"]) ? /** @type {ListPasskeysMessage} */ (m) : null;
    default:
      return null;
  }
}

/**
 * Checks a `webauthn` answer's shape (used by tests and the popup; the relay repeats this check).
 * @param {unknown} a
 * @returns {a is WebAuthnAnswer}
 */
export function isWebAuthnAnswer(a) {
  if (!isPlainObject(a)) return false;
  if (a.fallback === true) return hasOnly(a, ["fallback"]);
  if ("ok" in a) return hasOnly(a, ["ok"]) && isPlainObject(a.ok);
  if ("error" in a) {
    return (
      hasOnly(a, ["error"]) &&
      isPlainObject(a.error) &&
      ERROR_NAMES.includes(a.error.name) &&
      typeof a.error.message === "string"
    );
  }
  return false;
}
