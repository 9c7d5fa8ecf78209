// The helper app (native host) at the prompt and in the vault's management: user verification for
// one request, unlock with the OS-held key, the OS authenticator as a fallback, and turning the OS
// unlock method on and off (docs/design.md, "Native host protocol" → "In the extension").
//
// The rule for user verification: a request is verified ONLY by the PIN entered in its prompt, by
// the host's `{verified: true}` answer to a verify-user sent for that request, or by an unlock with
// the OS-held key done from that request's prompt (the host verified the user to release the key).
// Nothing else sets UV. A helper-app call never holds the vault queue: the person may take minutes.
//
// Never log keys; the key string from the host is dropped as soon as the core has it.

import { answerOk, answerVaultError } from "../shared/messages.js";
import { Failure, asFailure, mutate, unlockWithOsKey, unwrap, vaultState, withVault } from "./vault.js";
import { HostError, callHost, hostCan, hostMethodName, osKeyIdOf } from "./host.js";
import { finishRequest, handlePromptDetails, promptFor } from "./requests.js";

const MAX_REASON_CHARS = 256;
// A host key id: [A-Za-z0-9_-]{1,64}.
const KEY_ID_PREFIX = "latchkey-";

const inactive = () => answerVaultError("NotAllowedError", "This request is no longer active.");

/** Plain words for a failed helper-app call (the PIN always remains). */
export function hostErrorText(e, method = hostMethodName()) {
  if (!(e instanceof HostError)) return "The helper app failed. Enter your PIN instead.";
  switch (e.code) {
    case "denied":
      return `${method} did not verify you (declined or failed). Try again, or enter your PIN.`;
    case "cancelled":
      return `${method} was cancelled. Try again, or enter your PIN.`;
    case "not-installed":
      return "The Latchkey helper app is not installed. Enter your PIN instead.";
    case "disconnected":
      return "The Latchkey helper app stopped before it answered. Try again, or enter your PIN.";
    case "timeout":
      return "The Latchkey helper app did not answer in time. Try again, or enter your PIN.";
    case "unavailable":
      return `${method} is not available right now. Enter your PIN instead.`;
    case "busy":
      return "The Latchkey helper app is busy with other requests. Try again in a moment, or enter your PIN.";
    case "key-not-found":
      return `The key for unlocking with ${method} is gone from this computer. Unlock with your PIN, then turn "Unlock with ${method}" off and on again.`;
    default:
      return `The Latchkey helper app failed (${e.code}). Enter your PIN instead.`;
  }
}

const hostFailure = (e) => answerVaultError("HostError", hostErrorText(e));

/** The AbortSignal that cancels this request's helper-app calls when the request ends. */
function signalOf(request) {
  if (!request.hostAbort) request.hostAbort = new AbortController();
  return request.hostAbort.signal;
}

/** The text the OS prompt shows: what the person is verifying for (the rpId the core checked). */
export function reasonFor(kind, rpId) {
  const site = String(rpId).replace(/[\u0000-\u001f\u007f-\u009f]/g, "");
  const text = kind === "create" ? `Save a passkey for ${site} in Latchkey` : `Sign in to ${site} with Latchkey`;
  return [...text].slice(0, MAX_REASON_CHARS).join("");
}

/** `prompt-host-verify`: the helper app verifies the user for this prompt's request. */
export async function handlePromptHostVerify(msg, sender) {
  const prompt = promptFor(msg.promptId, sender);
  if (!prompt) return inactive();
  const request = prompt.request;
  if (prompt.details.stage !== "consent" || !request.inspected) return answerVaultError("NotAllowedError", "Unlock Latchkey first.");
  if (!prompt.details.hostVerify || !hostCan("userVerification")) {
    return answerVaultError("HostError", "Verification with the helper app is not available. Enter your PIN.");
  }
  if (request.hostBusy) return answerVaultError("HostError", "Already waiting for the helper app.");
  request.hostBusy = true;
  let result;
  try {
    result = await callHost("verify-user", { reason: reasonFor(request.kind, request.inspected.rpId) }, { signal: signalOf(request) });
  } catch (e) {
    if (request.finished) return inactive();
    return hostFailure(e);
  } finally {
    request.hostBusy = false;
  }
  if (request.finished) return inactive();
  // Only the host's own `verified: true` for the verify-user sent for THIS request counts.
  if (!result || result.verified !== true) return answerVaultError("HostError", "The helper app did not verify you. Enter your PIN.");
  request.pinVerified = true; // "the user was verified for this request" (PIN or helper app)
  return handlePromptDetails(msg, sender);
}

/** Releases the OS-held key and unlocks with it (inside the vault queue only for the core's part). */
async function releaseAndUnlock(signal, onUnlocked) {
  const keyId = await withVault((current) => osKeyIdOf(unwrap(current.status()).unlockMethods), { activity: false });
  if (keyId === null) throw new Failure("HostError", "Unlocking with the helper app is not set up. Use your PIN.");
  const released = await callHost("os-key-release", { keyId }, { signal });
  try {
    if (!released || released.keyId !== keyId || typeof released.key !== "string") {
      throw new HostError("protocol", "The helper app sent an answer Latchkey does not understand.");
    }
    await withVault(async (current) => {
      try {
        if (vaultState(current) !== "unlocked") await unlockWithOsKey(current, keyId, released.key);
      } catch (e) {
        const f = asFailure(e);
        if (f.name === "WrongPin") throw new Failure("HostError", "The helper app's key does not open this vault. Unlock with your PIN.");
        throw e;
      }
      onUnlocked();
    });
  } finally {
    if (released) released.key = ""; // drop the reference at once
  }
}

const asHostAnswer = (e) => {
  if (e instanceof HostError) return hostFailure(e);
  const f = asFailure(e);
  return answerVaultError(f.name, f.message, f.retryAfterMs);
};

/** `prompt-os-unlock`: unlock with the OS-held key from the prompt (counts as UV for its request). */
export async function handlePromptOsUnlock(msg, sender) {
  const prompt = promptFor(msg.promptId, sender);
  if (!prompt) return inactive();
  const request = prompt.request;
  if (prompt.details.stage !== "unlock" || !prompt.details.osUnlock) {
    return answerVaultError("HostError", "Unlocking with the helper app is not offered here. Use your PIN.");
  }
  if (request.hostBusy) return answerVaultError("HostError", "Already waiting for the helper app.");
  request.hostBusy = true;
  try {
    await releaseAndUnlock(signalOf(request), () => {
      // The host verified the user to release the key, for this request's prompt.
      if (!request.finished) request.pinVerified = true;
    });
  } catch (e) {
    if (request.finished) return inactive();
    return asHostAnswer(e);
  } finally {
    request.hostBusy = false;
  }
  if (request.finished) return inactive();
  return handlePromptDetails(msg, sender);
}

/** A RegistrationResponseJSON / AuthenticationResponseJSON with what the page's shim needs to build a PublicKeyCredential. */
const isCredentialJson = (kind, c) =>
  c !== null &&
  typeof c === "object" &&
  typeof c.id === "string" &&
  typeof c.rawId === "string" &&
  c.type === "public-key" &&
  c.response !== null &&
  typeof c.response === "object" &&
  typeof c.response.clientDataJSON === "string" &&
  typeof c.response.authenticatorData === "string" &&
  (kind === "create" ? typeof c.response.attestationObject === "string" : typeof c.response.signature === "string");

/**
 * `prompt-platform`: the OS authenticator (Windows: webauthn.dll — Windows Hello or a security key)
 * takes the request. The origin is the browser's (the request's sender), never the page's.
 */
export async function handlePromptPlatform(msg, sender) {
  const prompt = promptFor(msg.promptId, sender);
  if (!prompt) return inactive();
  const request = prompt.request;
  if (prompt.details.stage !== "consent" || !prompt.details.platformFallback || request.topOrigin) {
    return answerVaultError("HostError", "The system's passkeys are not available here.");
  }
  if (request.hostBusy) return answerVaultError("HostError", "Already waiting for the helper app.");
  request.hostBusy = true;
  let result;
  try {
    result = await callHost(
      request.kind === "create" ? "platform-create" : "platform-get",
      { origin: request.origin, options: JSON.parse(request.options) },
      { signal: signalOf(request) },
    );
  } catch (e) {
    if (request.finished) return inactive();
    if (e instanceof HostError && e.code === "web-authn") {
      return answerVaultError("HostError", `The system could not complete it (${e.hostName || "error"}). Try again, or use Latchkey.`);
    }
    return hostFailure(e);
  } finally {
    request.hostBusy = false;
  }
  if (request.finished) return inactive();
  if (!result || !isCredentialJson(request.kind, result.credential)) {
    return answerVaultError("HostError", "The helper app sent an answer Latchkey does not understand.");
  }
  finishRequest(request, answerOk(result.credential));
  return { ok: true };
}

// ---- vault management (popup, options page) ------------------------------------------------------

/** `vault-unlock-os`: unlock with the OS-held key (popup/options). Resolves when unlocked. */
export async function unlockOs() {
  if (!hostCan("osKey")) throw new Failure("HostError", "The helper app cannot unlock Latchkey here. Use your PIN.");
  try {
    await releaseAndUnlock(undefined, () => {});
  } catch (e) {
    if (e instanceof HostError) throw new Failure("HostError", hostErrorText(e));
    throw e;
  }
}

const randomKeyId = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return KEY_ID_PREFIX + btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

/** `os-unlock-set`: adds (vault unlocked) or removes the OS unlock method. */
export async function setOsUnlock(enabled) {
  if (!enabled) {
    await withVault(async (current) => {
      for (;;) {
        const keyId = osKeyIdOf(unwrap(current.status()).unlockMethods);
        if (keyId === null) return;
        await mutate(current, (c) => c.removeOsUnlock(keyId));
      }
    });
    return;
  }
  if (!hostCan("osKey")) throw new Failure("HostError", "The helper app cannot keep a key for Latchkey here.");
  const state = await withVault((current) => vaultState(current));
  if (state !== "unlocked") throw new Failure("Locked", "Unlock Latchkey first.");
  const keyId = randomKeyId();
  let created;
  try {
    created = await callHost("os-key-create", { keyId });
  } catch (e) {
    throw new Failure("HostError", hostErrorText(e));
  }
  try {
    if (!created || created.keyId !== keyId || typeof created.key !== "string") {
      throw new Failure("HostError", "The helper app sent an answer Latchkey does not understand.");
    }
    await withVault((current) => {
      if (osKeyIdOf(unwrap(current.status()).unlockMethods) !== null) return true; // turned on meanwhile
      return mutate(current, (c) => c.addOsUnlock(keyId, created.key));
    });
  } finally {
    if (created) created.key = "";
  }
}
