// The prompt window (normal flavor), opened by the service worker as prompt.html?id=<promptId>.
// Stages (docs/design.md, "The prompt"):
//   setup   — no vault yet: New PIN + Confirm PIN → prompt-pin {create: true}
//   unlock  — vault locked: PIN → prompt-pin
//   consent — who asks for what: "Save passkey" / "Sign in" / account choice / "Use another device
//             or security key" / "Cancel"; with details.needsPin also a PIN, sent (prompt-pin)
//             before the decision.
// The helper app (native host), when the service worker offers it in the details: "Verify with
// <method>" next to the PIN (consent: verifies, then confirms like the primary button), "Unlock
// with <method>" (unlock stage), and the OS authenticator button (e.g. "Windows Hello or security
// key"). Their errors show under the PIN field; the request stays open and the PIN still works.
// After prompt-pin answers ok the page shows the details it returned (the next stage). Closing
// the window counts as Cancel. No inline scripts (extension CSP).
import { $, ask, checkNewPin, countdown, el, errorText, formatDate, msg, setFieldError } from "./ui.js";

// Buttons accept input only after this delay, so a keypress meant for the page (Enter, Space)
// cannot confirm a prompt that popped up under the person's fingers.
const INPUT_GUARD_MS = 300;
// prompt-pin errors shown next to the field; any other error means the request has ended.
const PIN_ERRORS = ["WrongPin", "RateLimited", "WeakPin"];

const promptId = new URLSearchParams(location.search).get("id") ?? "";
const form = /** @type {HTMLFormElement} */ ($("form"));
const primary = /** @type {HTMLButtonElement} */ ($("primary"));
const other = /** @type {HTMLButtonElement} */ ($("other"));
const cancel = /** @type {HTMLButtonElement} */ ($("cancel"));
const pin = /** @type {HTMLInputElement} */ ($("pin"));
const newPin = /** @type {HTMLInputElement} */ ($("new-pin"));
const confirmPin = /** @type {HTMLInputElement} */ ($("confirm-pin"));
const replace = /** @type {HTMLInputElement} */ ($("replace"));
const hostVerify = /** @type {HTMLButtonElement} */ ($("host-verify"));
const osUnlock = /** @type {HTMLButtonElement} */ ($("os-unlock"));
const platform = /** @type {HTMLButtonElement} */ ($("platform"));

/** @type {any} the details being shown */
let details = null;
let stage = "consent";
let canConfirm = false;
let sent = false; // a decision went out: nothing more to do here
let busy = false; // a prompt-pin is on its way
let waiting = false; // a wrong-PIN countdown runs
let guardTimer = 0;
let stopCountdown = () => {};

function showEnded(text) {
  stopCountdown();
  $("title").textContent = "Latchkey";
  $("status").textContent = text;
  $("status").hidden = false;
  form.hidden = true;
  $("ended").hidden = false;
  $("close").focus();
}

function setButtonsDisabled(disabled) {
  for (const b of [primary, other, cancel, hostVerify, osUnlock, platform]) b.disabled = disabled;
  if (!disabled && waiting) primary.disabled = true;
}

async function decide(decision, credentialId, confirmReplace) {
  if (sent) return;
  sent = true;
  stopCountdown();
  for (const b of document.querySelectorAll("button")) /** @type {HTMLButtonElement} */ (b).disabled = true;
  const answer = await ask(msg.promptDecision(promptId, decision, credentialId, confirmReplace));
  if (answer.error && answer.error.name !== "Unavailable" && (decision === "save" || decision === "signin")) {
    // Refused (e.g. the PIN is still needed): the request goes on and the window stays open.
    sent = false;
    setButtonsDisabled(false);
    $("note").textContent = errorText(answer.error);
    $("note").hidden = false;
    return;
  }
  // The service worker closes this window; close it ourselves if it has not.
  setTimeout(() => window.close(), 1000);
}

const hostOf = (origin) => {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
};
const siteText = (d) => (d.rpName && d.rpName !== d.rpId ? `${d.rpName} (${d.rpId})` : d.rpId);

/**
 * Shows `d` (any stage). Called again with the details prompt-pin returns; `done` then says what
 * the PIN just did ("setup" or "unlock").
 */
function render(d, done = "") {
  details = d;
  stage = d.stage === "setup" || d.stage === "unlock" ? d.stage : "consent";
  const isCreate = d.kind === "create";
  clearTimeout(guardTimer);

  // Reset everything a previous stage may have shown.
  for (const id of ["intro", "site", "account", "choices", "note", "setup", "pin-box", "replace-box"]) $(id).hidden = true;
  replace.checked = false;
  $("choice-list").replaceChildren();
  $("intro").classList.remove("done");
  for (const input of [pin, newPin, confirmPin]) input.value = "";
  setFieldError(pin, $("pin-error"), "");
  setFieldError(newPin, $("new-pin-error"), "");
  setFieldError(confirmPin, $("confirm-pin-error"), "");
  $("pin-hint").textContent = "";
  for (const b of [hostVerify, osUnlock, platform]) b.hidden = true;
  $("host-box").hidden = true;
  setHostError("");

  if (d.rpId) {
    $("site").hidden = false;
    $("rp-id").textContent = siteText(d);
    $("origin").textContent = d.origin ? `asked by ${d.origin}${d.topOrigin ? ` in a frame on ${d.topOrigin}` : ""}` : "";
  } else if (d.origin) {
    // Before the vault is open only the asking page's origin is known.
    $("site").hidden = false;
    $("rp-id").textContent = hostOf(d.origin);
    $("origin").textContent = "";
  }

  const notes = [];
  canConfirm = true;
  /** @type {HTMLElement} */
  let focusTarget = primary;

  if (stage === "setup") {
    $("title").textContent = "Set up Latchkey";
    $("intro").textContent =
      `To ${isCreate ? "save" : "use"} a passkey, first create a PIN or passphrase for Latchkey. ` +
      "It locks your passkeys with encryption. Nobody can recover it if you forget it.";
    $("intro").hidden = false;
    $("setup").hidden = false;
    primary.textContent = "Create PIN";
    focusTarget = newPin;
  } else if (stage === "unlock") {
    $("title").textContent = "Unlock Latchkey";
    $("intro").textContent = `Latchkey is locked. Enter your PIN to ${isCreate ? "save a passkey" : "sign in"}.`;
    $("intro").hidden = false;
    $("pin-box").hidden = false;
    primary.textContent = "Unlock";
    focusTarget = pin;
    if (d.osUnlock) {
      $("host-box").hidden = false;
      osUnlock.hidden = false;
      osUnlock.textContent = `Unlock with ${d.osUnlock}`;
    }
  } else if (isCreate) {
    if (done) showDone(done);
    $("title").textContent = d.excluded ? "This passkey already exists" : "Save passkey in Latchkey?";
    primary.textContent = d.excluded ? "OK" : "Save passkey in Latchkey";
    $("account").hidden = false;
    $("user-display-name").textContent = d.userDisplayName || d.userName || "(no name)";
    $("user-name").textContent = d.userDisplayName && d.userName && d.userName !== d.userDisplayName ? d.userName : "";
    if (d.excluded) notes.push("Latchkey already has a passkey for this account on this site. Nothing new will be saved.");
    else if (d.replaces) {
      notes.push(
        "Latchkey already has a passkey for this account on this site. Saving a new one replaces it " +
          "(the old one stays in \u201cRecently deleted\u201d for 30 days).",
      );
      $("replace-box").hidden = false;
    }
  } else {
    if (done) showDone(done);
    $("title").textContent = "Sign in with a passkey?";
    primary.textContent = "Sign in";
    const candidates = Array.isArray(d.candidates) ? d.candidates : [];
    if (candidates.length === 0) {
      canConfirm = false;
      notes.push("Latchkey has no passkey for this site.");
    } else if (candidates.length === 1) {
      const c = candidates[0];
      $("account").hidden = false;
      $("user-display-name").textContent = c.userDisplayName || c.userName || "(no name)";
      $("user-name").textContent = [c.userDisplayName && c.userName !== c.userDisplayName ? c.userName : "", c.label || ""]
        .filter(Boolean)
        .join(" · ");
    } else {
      $("choices").hidden = false;
      candidates.forEach((c, i) => {
        const input = el("input", { type: "radio", name: "account", id: `choice-${i}`, value: c.credentialId, checked: i === 0 });
        input.setAttribute("aria-describedby", `choice-${i}-sub`);
        // The accessible name is the account name only; the rest describes it.
        const sub = [c.userDisplayName && c.userName !== c.userDisplayName ? c.userName : "", c.label || "", `created ${formatDate(c.created)}`]
          .filter(Boolean)
          .join(" · ");
        const row = el(
          "div",
          { className: "choice", on: { click: (e) => e.target === row && input.click() } },
          input,
          el(
            "div",
            {},
            el("label", { htmlFor: input.id, text: c.userDisplayName || c.userName || "(no name)" }),
            el("div", { className: "sub", id: `choice-${i}-sub`, text: sub, on: { click: () => input.click() } }),
          ),
        );
        $("choice-list").append(row);
      });
    }
  }

  if (stage === "consent") {
    if (d.needsPin && canConfirm && !(isCreate && d.excluded)) {
      $("pin-box").hidden = false;
      $("pin-hint").textContent = d.hostVerify
        ? `This site asks Latchkey to check that it is you. Enter your PIN, or verify with ${d.hostVerify}.`
        : "This site asks Latchkey to check that it is you. Enter your PIN.";
      focusTarget = pin;
      if (d.hostVerify) {
        $("host-box").hidden = false;
        hostVerify.hidden = false;
        hostVerify.textContent = `Verify with ${d.hostVerify}`;
      }
    } else if (d.uvUnavailable && canConfirm && !(isCreate && d.excluded)) {
      canConfirm = false;
      notes.push(
        "This site requires user verification (a PIN or biometrics), which Latchkey cannot do here: " +
          "use another device or security key instead.",
      );
    }
  }
  if (stage === "consent" && d.platformFallback && !(isCreate && d.excluded)) {
    platform.hidden = false;
    platform.textContent = d.platformFallback;
  }
  primary.hidden = !canConfirm;
  if (!canConfirm) focusTarget = other;
  if (notes.length > 0) {
    $("note").textContent = notes.join(" ");
    $("note").hidden = false;
  }

  $("status").hidden = true;
  form.hidden = false;
  document.title = d.rpId ? `Latchkey — ${d.rpId}` : "Latchkey";

  // Text fields take input at once (typing there confirms nothing); buttons after the guard.
  setButtonsDisabled(true);
  if (focusTarget instanceof HTMLInputElement) focusTarget.focus();
  guardTimer = setTimeout(() => {
    if (sent) return;
    setButtonsDisabled(false);
    // Only if the person has not moved the focus already (e.g. onto an account).
    const moved = document.activeElement && document.activeElement !== document.body && document.activeElement !== focusTarget;
    if (!(focusTarget instanceof HTMLInputElement) && !moved) focusTarget.focus();
  }, INPUT_GUARD_MS);

  if (typeof d.retryAfterMs === "number" && d.retryAfterMs > 0 && !$("pin-box").hidden) startWait(d.retryAfterMs);
}

function showDone(done) {
  $("intro").textContent = done === "setup" ? "Your PIN is set. Latchkey is ready and unlocked." : "Latchkey is unlocked.";
  $("intro").classList.add("done");
  $("intro").hidden = false;
}

function startWait(ms) {
  stopCountdown();
  waiting = true;
  primary.disabled = true;
  stopCountdown = countdown(ms, $("pin-timer"), [], () => {
    waiting = false;
    primary.disabled = sent || busy;
  });
  const stop = stopCountdown;
  stopCountdown = () => {
    stop();
    waiting = false;
  };
}

/** Shows a prompt-pin error next to the field it belongs to; the window stays open. */
function showPinError(error, input, errorEl) {
  if (!PIN_ERRORS.includes(error.name)) {
    // Anything else ended the request (it timed out, the page went away, the site's request failed).
    showEnded(error.name === "Unavailable" ? "Latchkey is not available." : error.message || "This request has ended.");
    return;
  }
  setFieldError(input, errorEl, errorText(error));
  input.value = "";
  input.focus();
  if (typeof error.retryAfterMs === "number" && error.retryAfterMs > 0) startWait(error.retryAfterMs);
}

/** Sends prompt-pin; resolves to the new details or null (error shown). */
async function sendPin(value, create, input, errorEl) {
  busy = true;
  primary.disabled = true;
  primary.setAttribute("aria-busy", "true");
  setFieldError(input, errorEl, "");
  const answer = await ask(msg.promptPin(promptId, value, create));
  busy = false;
  primary.removeAttribute("aria-busy");
  primary.disabled = waiting;
  if (answer.error) {
    showPinError(answer.error, input, errorEl);
    return null;
  }
  return answer.ok;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (sent || busy || waiting || primary.disabled || !details) return;

  if (stage === "setup") {
    const problem = checkNewPin(newPin.value, confirmPin.value);
    setFieldError(newPin, $("new-pin-error"), problem && problem.field === "new" ? problem.text : "");
    setFieldError(confirmPin, $("confirm-pin-error"), problem && problem.field === "confirm" ? problem.text : "");
    if (problem) {
      (problem.field === "new" ? newPin : confirmPin).focus();
      return;
    }
    const next = await sendPin(newPin.value, true, newPin, $("new-pin-error"));
    if (next) render(next, "setup");
    else confirmPin.value = "";
    return;
  }

  if (stage === "unlock") {
    if (pin.value === "") {
      setFieldError(pin, $("pin-error"), "Enter your PIN.");
      pin.focus();
      return;
    }
    const next = await sendPin(pin.value, false, pin, $("pin-error"));
    if (next) render(next, "unlock");
    return;
  }

  // consent
  if (!canConfirm) return;
  const isCreate = details.kind === "create";
  const checked = /** @type {HTMLInputElement|null} */ (form.querySelector('input[name="account"]:checked'));
  const credentialId = isCreate ? undefined : checked ? checked.value : details.candidates[0].credentialId;
  const replacing = isCreate && details.replaces && !details.excluded;
  if (replacing && !replace.checked) {
    $("note").textContent = "Tick \u201cReplace the existing passkey\u201d to save the new one, or cancel.";
    $("note").hidden = false;
    replace.focus();
    return;
  }
  if (!$("pin-box").hidden) {
    if (pin.value === "") {
      setFieldError(pin, $("pin-error"), "Enter your PIN.");
      pin.focus();
      return;
    }
    const next = await sendPin(pin.value, false, pin, $("pin-error"));
    if (!next) return;
    details = next;
  }
  decide(isCreate ? "save" : "signin", credentialId, replacing ? true : undefined);
});

function setHostError(text) {
  $("host-error").textContent = text;
}

/** The consent choices the primary button would send, or null (a note says what is missing). */
function consentChoice() {
  const isCreate = details.kind === "create";
  const checked = /** @type {HTMLInputElement|null} */ (form.querySelector('input[name="account"]:checked'));
  const credentialId = isCreate ? undefined : checked ? checked.value : details.candidates[0]?.credentialId;
  const replacing = isCreate && details.replaces && !details.excluded;
  if (replacing && !replace.checked) {
    $("note").textContent = "Tick \u201cReplace the existing passkey\u201d to save the new one, or cancel.";
    $("note").hidden = false;
    replace.focus();
    return null;
  }
  return { decision: isCreate ? "save" : "signin", credentialId, confirmReplace: replacing ? true : undefined };
}

/** Sends one helper-app message; resolves to its ok value or null (error shown, or the request ended). */
async function askHost(message, button) {
  busy = true;
  // "Cancel" stays usable while the OS prompt waits: cancelling the request cancels it on the host.
  for (const b of [primary, hostVerify, osUnlock, platform]) b.disabled = true;
  button.setAttribute("aria-busy", "true");
  setHostError("");
  const answer = await ask(message);
  busy = false;
  button.removeAttribute("aria-busy");
  if (answer.error) {
    if (answer.error.name === "HostError" || answer.error.name === "WrongPin" || answer.error.name === "RateLimited") {
      setButtonsDisabled(false);
      setHostError(errorText(answer.error));
      button.focus();
    } else {
      showEnded(answer.error.name === "Unavailable" ? "Latchkey is not available." : answer.error.message || "This request has ended.");
    }
    return null;
  }
  return answer.ok;
}

hostVerify.addEventListener("click", async () => {
  if (sent || busy || hostVerify.disabled || !details || stage !== "consent" || !canConfirm) return;
  const choice = consentChoice();
  if (!choice) return;
  const next = await askHost(msg.promptHostVerify(promptId), hostVerify);
  if (!next) return;
  details = next;
  decide(choice.decision, choice.credentialId, choice.confirmReplace);
});

osUnlock.addEventListener("click", async () => {
  if (sent || busy || osUnlock.disabled || !details || stage !== "unlock") return;
  const next = await askHost(msg.promptOsUnlock(promptId), osUnlock);
  if (next) render(next, "unlock");
});

platform.addEventListener("click", async () => {
  if (sent || busy || platform.disabled || !details || stage !== "consent") return;
  const done = await askHost(msg.promptPlatform(promptId), platform);
  if (!done) return;
  sent = true;
  setTimeout(() => window.close(), 1000);
});

other.addEventListener("click", () => decide("other-device"));
cancel.addEventListener("click", () => decide("cancel"));
$("close").addEventListener("click", () => window.close());
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") decide("cancel");
  // A held-down Enter from the PIN field must not go on to confirm the next stage.
  if (event.key === "Enter" && event.repeat) event.preventDefault();
});

const answer = await ask(msg.promptDetails(promptId));
if (answer.ok) render(answer.ok);
else if (answer.error && (answer.error.name === "Unavailable" || answer.error.name === "NoAnswer")) showEnded("Latchkey is not available.");
else showEnded("This request has ended.");
