// The one typed union of extension messages (docs/design.md, "Extension messages" and "Extension
// messages for the vault"), with a constructor and a validator for each type (type "a-b" → aBMessage). The service worker validates every message it gets
// with `parseMessage` and ignores or rejects anything that does not fit.
//
// relay.js is a classic content script and cannot import this module; it builds its messages
// (`webauthn`, `abort`, `autofill-list`, `autofill-choose`, `site-status`, `channel-open`) by hand in exactly the shapes
// below, and the service worker checks them here; it checks `frame-policy` (sw → relay) itself.

/** @typedef {"create" | "get"} Kind */

/**
 * @typedef {"TypeError" | "NotAllowedError" | "SecurityError" | "NotSupportedError" |
 *   "InvalidStateError" | "AbortError" | "UnknownError" | "ConstraintError"} ErrorName
 */

/** @typedef {{name: ErrorName, message: string}} WebAuthnError */

/**
 * relay → sw: a page's navigator.credentials request. `options` is the L3 JSON form
 * (PublicKeyCredentialCreationOptionsJSON / PublicKeyCredentialRequestOptionsJSON).
 * @typedef {{type: "webauthn", kind: Kind, requestId: string, options: Record<string, unknown>,
 *   mediation?: "conditional", frame?: FrameFacts}} WebAuthnMessage
 */
/** relay → sw: the page aborted request `requestId` (no answer). @typedef {{type: "abort", requestId: string}} AbortMessage */
/**
 * `webauthn.mediation: "conditional"` (get only): an autofill request, answered once the person picked
 * a passkey in the menu. `webauthn.frame` (subframes): what the relay read from the browser in its
 * isolated world — Chromium's featurePolicy answer for this kind (null where the browser has none)
 * and `navigator.userActivation.isActive`.
 * @typedef {{policyAllows: boolean|null, userActivation: boolean}} FrameFacts
 */
/** relay → sw: the accounts for the autofill menu of conditional request `requestId`. @typedef {{type: "autofill-list", requestId: string}} AutofillListMessage */
/** relay → sw: the person chose in the autofill menu (`credentialId`) or asked to unlock (`unlock: true`). @typedef {{type: "autofill-choose", requestId: string, credentialId?: string, unlock?: true}} AutofillChooseMessage */
/** relay → sw: may Latchkey serve this frame (isConditionalMediationAvailable)? → {ok: boolean}. @typedef {{type: "site-status"}} SiteStatusMessage */
/**
 * relay → sw, on its runtime port only: a one-time token for a fast port (Chromium; docs/design.md
 * "The fast channel") → {ok: {token: string}} or {ok: null} (no fast channel here).
 * @typedef {{type: "channel-open"}} ChannelOpenMessage
 */
/**
 * sw → a parent frame's relay (tabs.sendMessage to that frame): does an <iframe> here whose src has
 * `origin` allow `feature` (its `allow` attribute)? → {ok: boolean}. Used where the browser has no
 * document.featurePolicy (Firefox).
 * @typedef {{type: "frame-policy", origin: string, feature: "publickey-credentials-create"|"publickey-credentials-get"}} FramePolicyMessage
 */
/** prompt page → sw: what to show. @typedef {{type: "prompt-details", promptId: string}} PromptDetailsMessage */
/**
 * prompt page → sw: what the user chose (no answer beyond an acknowledgement).
 * @typedef {"save" | "signin" | "other-device" | "cancel"} Decision
 * @typedef {{type: "prompt-decision", promptId: string, decision: Decision, credentialId?: string, confirmReplace?: true}} PromptDecisionMessage
 */
/**
 * prompt page → sw: a PIN for the prompt's request: `create: true` sets up a new vault with it,
 * otherwise it unlocks the vault or verifies the user. Answer: `{ok: PromptDetails}` (the next stage)
 * or `{error: VaultError}` (WrongPin, RateLimited, WeakPin, …: the prompt stays open).
 * @typedef {{type: "prompt-pin", promptId: string, pin: string, create?: true}} PromptPinMessage
 */
/**
 * prompt page → sw (docs/design.md, "Native host protocol" → "In the extension"):
 * `prompt-host-verify` — verify the user of the prompt's request with the helper app (consent stage,
 * `details.hostVerify`); `prompt-os-unlock` — unlock with the OS-held key (unlock stage,
 * `details.osUnlock`). Answer as prompt-pin: `{ok: PromptDetails}` or `{error: VaultError}`
 * (`HostError`: the prompt stays open, the PIN still works).
 * `prompt-platform` — hand the request to the OS (Windows Hello or a security key,
 * `details.platformFallback`); answer `{ok: true}` (the page gets the credential) or `{error}`.
 * @typedef {{type: "prompt-host-verify", promptId: string}} PromptHostVerifyMessage
 * @typedef {{type: "prompt-os-unlock", promptId: string}} PromptOsUnlockMessage
 * @typedef {{type: "prompt-platform", promptId: string}} PromptPlatformMessage
 */

// Vault management, extension pages → sw (docs/design.md, "Extension messages for the vault").
// Every answer is `{ok: value}` or `{error: VaultError}`.
/** → VaultStatus. @typedef {{type: "vault-status"}} VaultStatusMessage */
/** → VaultStatus. @typedef {{type: "vault-create", pin: string}} VaultCreateMessage */
/** → VaultStatus. @typedef {{type: "vault-unlock", pin: string}} VaultUnlockMessage */
/** → VaultStatus. @typedef {{type: "vault-lock"}} VaultLockMessage */
/** → VaultStatus: unlock with the OS-held key through the helper app. @typedef {{type: "vault-unlock-os"}} VaultUnlockOsMessage */
/** → VaultStatus: add (`enabled: true`, vault unlocked) or remove the OS unlock method. @typedef {{type: "os-unlock-set", enabled: boolean}} OsUnlockSetMessage */
/** → VaultStatus. @typedef {{type: "vault-change-pin", oldPin: string, newPin: string}} VaultChangePinMessage */
/** → PasskeySummary[]. @typedef {{type: "list-passkeys"}} ListPasskeysMessage */
/** → true. `label` "" clears it. @typedef {{type: "passkey-rename", credentialId: string, label: string}} PasskeyRenameMessage */
/** → true (soft delete). @typedef {{type: "passkey-delete", credentialId: string}} PasskeyDeleteMessage */
/** → true. @typedef {{type: "passkey-restore", credentialId: string}} PasskeyRestoreMessage */
/** → true (only a deleted one). @typedef {{type: "passkey-purge", credentialId: string}} PasskeyPurgeMessage */
/**
 * → Settings. At least one field; the other keeps its value.
 * @typedef {{type: "settings-set", autoLockMinutes?: AutoLockMinutes, uvPolicy?: UvPolicy, enabled?: boolean, excludedSites?: string[], proxyMode?: boolean}} SettingsSetMessage
 */
/** → true (opens the options page). @typedef {{type: "open-manager"}} OpenManagerMessage */
/** sw → extension pages (broadcast, no answer): refresh. @typedef {{type: "vault-changed"}} VaultChangedMessage */

/**
 * @typedef {WebAuthnMessage | AbortMessage | AutofillListMessage | AutofillChooseMessage | SiteStatusMessage | ChannelOpenMessage |
 *   FramePolicyMessage | PromptDetailsMessage | PromptDecisionMessage | PromptPinMessage |
 *   PromptHostVerifyMessage | PromptOsUnlockMessage | PromptPlatformMessage | VaultUnlockOsMessage | OsUnlockSetMessage |
 *   VaultStatusMessage | VaultCreateMessage | VaultUnlockMessage | VaultLockMessage | VaultChangePinMessage |
 *   ListPasskeysMessage | PasskeyRenameMessage | PasskeyDeleteMessage | PasskeyRestoreMessage |
 *   PasskeyPurgeMessage | SettingsSetMessage | OpenManagerMessage | VaultChangedMessage} Message
 */

/**
 * Answer to `webauthn`: the credential's RegistrationResponseJSON / AuthenticationResponseJSON,
 * an error for the page, or "let the browser handle it" (the shim then calls the original API).
 * @typedef {{ok: Record<string, unknown>} | {error: WebAuthnError} | {fallback: true}} WebAuthnAnswer
 */

/**
 * What the prompt page shows (answer to `prompt-details` and `prompt-pin`). At the "setup" and
 * "unlock" stages only `kind`, `origin` and `retryAfterMs` carry information (the request is
 * checked once the vault is open); the other members are null/false/empty.
 * `needsPin`: show a PIN field at the consent stage (docs/design.md, "The prompt").
 * `retryAfterMs`: wrong-PIN wait before the next attempt (0 = none).
 * `hostVerify` (consent, with needsPin): the helper app can verify the user — the method's words
 * ("Windows Hello", "system authentication", "test verifier"); `osUnlock` (unlock stage): the vault
 * has an OS unlock method and the helper app can release its key — the method's words;
 * `platformFallback` (consent): the OS authenticator can take the request ("Windows Hello or
 * security key"). Each is null when not offered.
 * @typedef {"setup" | "unlock" | "consent"} PromptStage
 * @typedef {{
 *   stage: PromptStage, kind: Kind, origin: string, rpId: string|null, rpName: string|null,
 *   userName: string|null, userDisplayName: string|null,
 *   excluded: boolean, replaces: boolean,
 *   userVerification: "required"|"preferred"|"discouraged"|null, needsPin: boolean, retryAfterMs: number,
 *   hostVerify: string|null, osUnlock: string|null, platformFallback: string|null,
 *   candidates: Array<{credentialId: string, userName: string, userDisplayName: string, label: string|null, created: number, lastUsed: number|null}>
 * }} PromptDetails
 */

/**
 * @typedef {{credentialId: string, rpId: string, rpName: string|null, userName: string, userDisplayName: string,
 *   label: string|null, created: number, lastUsed: number|null, deletedAt: number|null}} PasskeySummary
 */

/** @typedef {0 | 1 | 5 | 15 | 60 | 240} AutoLockMinutes */
/** @typedef {"required" | "preferred"} UvPolicy */
/** @typedef {{autoLockMinutes: AutoLockMinutes, uvPolicy: UvPolicy}} Settings */
/**
 * @typedef {{
 *   state: "none"|"locked"|"unlocked", headerState: "ok"|"recovered"|"damaged"|"missing",
 *   count: number, deleted: number, damaged: Array<{key: string, reason: string, rpId?: string, userName?: string}>,
 *   settings: Settings, retryAfterMs: number, flavor: "normal"|"test",
 *   unlockMethods?: string[], host: import("../background/host.js").HostStatus & {method: string}
 * }} VaultStatus
 */

/**
 * Errors for extension pages: the WebAuthn names plus the vault's. `retryAfterMs` comes with
 * RateLimited (and WrongPin once the next attempt has to wait).
 * @typedef {{name: string, message: string, retryAfterMs?: number}} VaultError
 */

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

export const VAULT_ERROR_NAMES = Object.freeze([
  "NoVault",
  "VaultExists",
  "Locked",
  "WrongPin",
  "WeakPin",
  "HeaderDamaged",
  "NotFound",
  "RateLimited",
  "HostError", // the helper app refused or failed (message says what; the PIN still works)
]);
export const AUTO_LOCK_MINUTES = Object.freeze([0, 1, 5, 15, 60, 240]);
export const UV_POLICIES = Object.freeze(["required", "preferred"]);
export const MAX_EXCLUDED_SITES = 1000;
/** An origin as the browser prints it: scheme://host[:port], nothing else. */
const ORIGIN_RE = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]{1,253}$/;
export const isOrigin = (v) => typeof v === "string" && v.length <= 300 && ORIGIN_RE.test(v);
export const MAX_PIN_LENGTH = 1024;
export const MAX_LABEL_LENGTH = 100; // characters (code points), as the core counts them

const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
// A credential id in base64url (WebAuthn allows up to 1023 bytes).
const CREDENTIAL_ID_RE = /^[A-Za-z0-9_-]{1,1364}$/;

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isId = (v) => typeof v === "string" && ID_RE.test(v);
const isCredentialId = (v) => typeof v === "string" && CREDENTIAL_ID_RE.test(v);
const isPin = (v) => typeof v === "string" && v.length <= MAX_PIN_LENGTH;
const isLabel = (v) => typeof v === "string" && v.length <= 4 * MAX_LABEL_LENGTH && [...v].length <= MAX_LABEL_LENGTH;
const hasOnly = (obj, keys) => Object.keys(obj).every((k) => keys.includes(k));
const hasExactly = (obj, keys) => hasOnly(obj, keys) && keys.every((k) => k in obj);

// ---- constructors ---------------------------------------------------------------------------

/** @returns {WebAuthnMessage} */
export const webauthnMessage = (kind, requestId, options) => ({ type: "webauthn", kind, requestId, options });
/** @returns {AbortMessage} */
export const abortMessage = (requestId) => ({ type: "abort", requestId });
/** @returns {PromptDetailsMessage} */
export const promptDetailsMessage = (promptId) => ({ type: "prompt-details", promptId });
/** @returns {PromptDecisionMessage} */
export const promptDecisionMessage = (promptId, decision, credentialId, confirmReplace) => {
  const m = /** @type {PromptDecisionMessage} */ ({ type: "prompt-decision", promptId, decision });
  if (credentialId !== undefined && credentialId !== null) m.credentialId = credentialId;
  if (confirmReplace === true) m.confirmReplace = true;
  return m;
};
/** @returns {PromptPinMessage} */
export const promptPinMessage = (promptId, pin, create) =>
  create === true ? { type: "prompt-pin", promptId, pin, create: true } : { type: "prompt-pin", promptId, pin };
/** @returns {PromptHostVerifyMessage} */
export const promptHostVerifyMessage = (promptId) => ({ type: "prompt-host-verify", promptId });
/** @returns {PromptOsUnlockMessage} */
export const promptOsUnlockMessage = (promptId) => ({ type: "prompt-os-unlock", promptId });
/** @returns {PromptPlatformMessage} */
export const promptPlatformMessage = (promptId) => ({ type: "prompt-platform", promptId });
/** @returns {VaultUnlockOsMessage} */
export const vaultUnlockOsMessage = () => ({ type: "vault-unlock-os" });
/** @returns {OsUnlockSetMessage} */
export const osUnlockSetMessage = (enabled) => ({ type: "os-unlock-set", enabled });
/** @returns {VaultStatusMessage} */
export const vaultStatusMessage = () => ({ type: "vault-status" });
/** @returns {VaultCreateMessage} */
export const vaultCreateMessage = (pin) => ({ type: "vault-create", pin });
/** @returns {VaultUnlockMessage} */
export const vaultUnlockMessage = (pin) => ({ type: "vault-unlock", pin });
/** @returns {VaultLockMessage} */
export const vaultLockMessage = () => ({ type: "vault-lock" });
/** @returns {VaultChangePinMessage} */
export const vaultChangePinMessage = (oldPin, newPin) => ({ type: "vault-change-pin", oldPin, newPin });
/** @returns {ListPasskeysMessage} */
export const listPasskeysMessage = () => ({ type: "list-passkeys" });
/** @returns {PasskeyRenameMessage} */
export const passkeyRenameMessage = (credentialId, label) => ({ type: "passkey-rename", credentialId, label });
/** @returns {PasskeyDeleteMessage} */
export const passkeyDeleteMessage = (credentialId) => ({ type: "passkey-delete", credentialId });
/** @returns {PasskeyRestoreMessage} */
export const passkeyRestoreMessage = (credentialId) => ({ type: "passkey-restore", credentialId });
/** @returns {PasskeyPurgeMessage} */
export const passkeyPurgeMessage = (credentialId) => ({ type: "passkey-purge", credentialId });
/**
 * @param {{autoLockMinutes?: AutoLockMinutes, uvPolicy?: UvPolicy}} settings  (other members are ignored)
 * @returns {SettingsSetMessage}
 */
export const settingsSetMessage = (settings) => {
  const m = /** @type {SettingsSetMessage} */ ({ type: "settings-set" });
  if (settings.autoLockMinutes !== undefined) m.autoLockMinutes = settings.autoLockMinutes;
  if (settings.uvPolicy !== undefined) m.uvPolicy = settings.uvPolicy;
  if (settings.enabled !== undefined) m.enabled = settings.enabled;
  if (settings.excludedSites !== undefined) m.excludedSites = settings.excludedSites;
  if (settings.proxyMode !== undefined) m.proxyMode = settings.proxyMode;
  return m;
};
/** @returns {OpenManagerMessage} */
export const openManagerMessage = () => ({ type: "open-manager" });
export const autofillListMessage = (requestId) => ({ type: "autofill-list", requestId });
export const autofillChooseMessage = (requestId, credentialId) =>
  credentialId === null ? { type: "autofill-choose", requestId, unlock: true } : { type: "autofill-choose", requestId, credentialId };
export const siteStatusMessage = () => ({ type: "site-status" });
/** @returns {ChannelOpenMessage} */
export const channelOpenMessage = () => ({ type: "channel-open" });
export const framePolicyMessage = (origin, feature) => ({ type: "frame-policy", origin, feature });
/** @returns {VaultChangedMessage} */
export const vaultChangedMessage = () => ({ type: "vault-changed" });

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

/**
 * An error answer for an extension page (WebAuthn and vault names; anything else → UnknownError).
 * @returns {{error: VaultError}}
 */
export const answerVaultError = (name, message, retryAfterMs) => {
  const error = {
    name: ERROR_NAMES.includes(name) || VAULT_ERROR_NAMES.includes(name) ? name : "UnknownError",
    message: typeof message === "string" ? message : String(message),
  };
  if (typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
    error.retryAfterMs = Math.ceil(retryAfterMs);
  }
  return { error };
};

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
      return hasOnly(m, ["type", "kind", "requestId", "options", "mediation", "frame"]) &&
        KINDS.includes(m.kind) &&
        isId(m.requestId) &&
        isPlainObject(m.options) &&
        (m.mediation === undefined || (m.mediation === "conditional" && m.kind === "get")) &&
        (m.frame === undefined ||
          (isPlainObject(m.frame) &&
            hasExactly(m.frame, ["policyAllows", "userActivation"]) &&
            (m.frame.policyAllows === null || typeof m.frame.policyAllows === "boolean") &&
            typeof m.frame.userActivation === "boolean"))
        ? /** @type {WebAuthnMessage} */ (m)
        : null;
    case "abort":
      return hasOnly(m, ["type", "requestId"]) && isId(m.requestId) ? /** @type {AbortMessage} */ (m) : null;
    case "autofill-list":
      return hasExactly(m, ["type", "requestId"]) && isId(m.requestId) ? /** @type {AutofillListMessage} */ (m) : null;
    case "autofill-choose":
      return hasOnly(m, ["type", "requestId", "credentialId", "unlock"]) &&
        isId(m.requestId) &&
        (m.unlock === true ? m.credentialId === undefined : isCredentialId(m.credentialId))
        ? /** @type {AutofillChooseMessage} */ (m)
        : null;
    case "site-status":
      return hasOnly(m, ["type"]) ? /** @type {SiteStatusMessage} */ (m) : null;
    case "channel-open":
      return hasOnly(m, ["type"]) ? /** @type {ChannelOpenMessage} */ (m) : null;
    case "prompt-details":
      return hasOnly(m, ["type", "promptId"]) && isId(m.promptId) ? /** @type {PromptDetailsMessage} */ (m) : null;
    case "prompt-decision":
      return hasOnly(m, ["type", "promptId", "decision", "credentialId", "confirmReplace"]) &&
        isId(m.promptId) &&
        (m.confirmReplace === undefined || m.confirmReplace === true) &&
        DECISIONS.includes(m.decision) &&
        (m.credentialId === undefined || isCredentialId(m.credentialId))
        ? /** @type {PromptDecisionMessage} */ (m)
        : null;
    case "prompt-pin":
      return hasOnly(m, ["type", "promptId", "pin", "create"]) &&
        isId(m.promptId) &&
        isPin(m.pin) &&
        (m.create === undefined || m.create === true)
        ? /** @type {PromptPinMessage} */ (m)
        : null;
    case "prompt-host-verify":
    case "prompt-os-unlock":
    case "prompt-platform":
      return hasExactly(m, ["type", "promptId"]) && isId(m.promptId) ? /** @type {Message} */ (m) : null;
    case "os-unlock-set":
      return hasExactly(m, ["type", "enabled"]) && typeof m.enabled === "boolean" ? /** @type {OsUnlockSetMessage} */ (m) : null;
    case "vault-unlock-os":
    case "vault-status":
    case "vault-lock":
    case "list-passkeys":
    case "open-manager":
    case "vault-changed":
      return hasOnly(m, ["type"]) ? /** @type {Message} */ (m) : null;
    case "vault-create":
    case "vault-unlock":
      return hasExactly(m, ["type", "pin"]) && isPin(m.pin) ? /** @type {Message} */ (m) : null;
    case "vault-change-pin":
      return hasExactly(m, ["type", "oldPin", "newPin"]) && isPin(m.oldPin) && isPin(m.newPin)
        ? /** @type {VaultChangePinMessage} */ (m)
        : null;
    case "passkey-rename":
      return hasExactly(m, ["type", "credentialId", "label"]) && isCredentialId(m.credentialId) && isLabel(m.label)
        ? /** @type {PasskeyRenameMessage} */ (m)
        : null;
    case "passkey-delete":
    case "passkey-restore":
    case "passkey-purge":
      return hasExactly(m, ["type", "credentialId"]) && isCredentialId(m.credentialId) ? /** @type {Message} */ (m) : null;
    case "settings-set":
      return hasOnly(m, ["type", "autoLockMinutes", "uvPolicy", "enabled", "excludedSites", "proxyMode"]) &&
        ("autoLockMinutes" in m || "uvPolicy" in m || "enabled" in m || "excludedSites" in m || "proxyMode" in m) &&
        (m.enabled === undefined || typeof m.enabled === "boolean") &&
        (m.proxyMode === undefined || typeof m.proxyMode === "boolean") &&
        (m.excludedSites === undefined ||
          (Array.isArray(m.excludedSites) && m.excludedSites.length <= MAX_EXCLUDED_SITES && m.excludedSites.every(isOrigin))) &&
        (m.autoLockMinutes === undefined || AUTO_LOCK_MINUTES.includes(m.autoLockMinutes)) &&
        (m.uvPolicy === undefined || UV_POLICIES.includes(m.uvPolicy))
        ? /** @type {SettingsSetMessage} */ (m)
        : null;
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
