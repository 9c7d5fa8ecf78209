// The consent prompt (normal flavor): shows who asks for what and sends the person's decision.
// Opened by the service worker as extension/ui/prompt.html?id=<promptId>; closing the window
// counts as Cancel. No inline scripts (extension CSP).
import { sendMessage } from "../shared/browser.js";
import { promptDecisionMessage, promptDetailsMessage } from "../shared/messages.js";

// Buttons accept input only after this delay, so a keypress meant for the page (Enter, Space)
// cannot confirm a prompt that popped up under the person's fingers.
const INPUT_GUARD_MS = 300;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const promptId = new URLSearchParams(location.search).get("id") ?? "";
let sent = false;

function showEnded(text) {
  $("title").textContent = "Latchkey";
  $("status").textContent = text;
  $("status").hidden = false;
  $("form").hidden = true;
  $("ended").hidden = false;
  $("close").focus();
}

async function decide(decision, credentialId) {
  if (sent) return;
  sent = true;
  for (const b of document.querySelectorAll("button")) b.disabled = true;
  try {
    await sendMessage(promptDecisionMessage(promptId, decision, credentialId));
  } catch {
    // the service worker is gone; closing the window is all that is left to do
  }
  // The service worker closes this window; close it ourselves if it has not.
  setTimeout(() => window.close(), 1000);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** @param {import("../shared/messages.js").PromptDetails} d */
function render(d) {
  const isCreate = d.kind === "create";
  $("rp-id").textContent = d.rpName && d.rpName !== d.rpId ? `${d.rpName} (${d.rpId})` : d.rpId;
  $("origin").textContent = `asked by ${d.origin}`;

  const primary = /** @type {HTMLButtonElement} */ ($("primary"));
  const notes = [];
  let canConfirm = true;

  if (isCreate) {
    $("title").textContent = d.excluded ? "This passkey already exists" : "Save a passkey?";
    primary.textContent = d.excluded ? "OK" : "Save passkey";
    $("account").hidden = false;
    $("user-display-name").textContent = d.userDisplayName || d.userName || "(no name)";
    $("user-name").textContent = d.userDisplayName && d.userName && d.userName !== d.userDisplayName ? d.userName : "";
    if (d.excluded) notes.push("Latchkey already has a passkey for this account on this site. Nothing new will be saved.");
    else if (d.replaces) notes.push("Latchkey already has a passkey for this account; saving replaces it.");
  } else {
    $("title").textContent = "Sign in with a passkey?";
    primary.textContent = "Sign in";
    const candidates = d.candidates;
    if (candidates.length === 0) {
      canConfirm = false;
      notes.push("Latchkey has no passkey for this site.");
    } else if (candidates.length === 1) {
      const c = candidates[0];
      $("account").hidden = false;
      $("user-display-name").textContent = c.userDisplayName || c.userName || "(no name)";
      $("user-name").textContent = c.userDisplayName && c.userName !== c.userDisplayName ? c.userName : "";
    } else {
      $("choices").hidden = false;
      const list = $("choice-list");
      candidates.forEach((c, i) => {
        const row = document.createElement("div");
        row.className = "choice";
        const input = document.createElement("input");
        input.type = "radio";
        input.name = "account";
        input.id = `choice-${i}`;
        input.value = c.credentialId;
        input.checked = i === 0;
        const label = document.createElement("label");
        label.htmlFor = input.id;
        label.textContent = c.userDisplayName || c.userName || "(no name)";
        const sub = document.createElement("span");
        sub.className = "sub";
        const name = c.userDisplayName && c.userName !== c.userDisplayName ? `${c.userName} · ` : "";
        sub.textContent = `${name}created ${dateFormat.format(new Date(c.created))}`;
        label.append(sub);
        row.append(input, label);
        list.append(row);
      });
    }
  }
  if (d.uvUnavailable && canConfirm && !(isCreate && d.excluded)) {
    canConfirm = false;
    notes.push(
      "This site requires user verification (a PIN or biometrics). Latchkey cannot verify you yet: " +
        "use another device or security key instead.",
    );
  }
  primary.hidden = !canConfirm;
  if (notes.length > 0) {
    $("note").textContent = notes.join(" ");
    $("note").hidden = false;
  }
  $("status").hidden = true;
  $("form").hidden = false;
  document.title = `Latchkey — ${d.rpId}`;

  const form = /** @type {HTMLFormElement} */ ($("form"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!canConfirm || primary.disabled) return;
    if (isCreate) {
      decide("save");
    } else {
      const checked = /** @type {HTMLInputElement|null} */ (form.querySelector('input[name="account"]:checked'));
      decide("signin", checked ? checked.value : d.candidates[0].credentialId);
    }
  });
  $("other").addEventListener("click", () => decide("other-device"));
  $("cancel").addEventListener("click", () => decide("cancel"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") decide("cancel");
  });

  setTimeout(() => {
    if (sent) return;
    for (const b of form.querySelectorAll("button")) /** @type {HTMLButtonElement} */ (b).disabled = false;
    (canConfirm ? primary : $("other")).focus();
  }, INPUT_GUARD_MS);
}

$("close").addEventListener("click", () => window.close());

try {
  const answer = await sendMessage(promptDetailsMessage(promptId));
  if (answer && answer.ok) render(answer.ok);
  else showEnded("This request has ended.");
} catch {
  showEnded("Latchkey is not available.");
}
