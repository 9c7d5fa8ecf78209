// The toolbar popup: lock state, unlock with the PIN, "Lock now", and a compact searchable list
// of the saved passkeys grouped by site. Everything goes through the service worker (messages in
// docs/design.md); the page refreshes when it broadcasts {type: "vault-changed"}.
import {
  $,
  accountName,
  ask,
  countdown,
  el,
  errorText,
  hostText,
  msg,
  onVaultChanged,
  openManager,
  plural,
  setFieldError,
  version,
} from "./ui.js";
import { api } from "../shared/browser.js";

const pin = /** @type {HTMLInputElement} */ ($("pin"));
const unlockButton = /** @type {HTMLButtonElement} */ ($("unlock"));
const lockButton = /** @type {HTMLButtonElement} */ ($("lock"));
const search = /** @type {HTMLInputElement} */ ($("search"));

/** @type {any[]} the live (not deleted) passkeys */
let passkeys = [];
let shownState = "";
let stopCountdown = () => {};
let waiting = false;

$("version").textContent = version() ? `Version ${version()}` : "";

function showOnly(view) {
  for (const id of ["view-none", "view-locked", "view-unlocked"]) $(id).hidden = id !== view;
}

function setState(status) {
  const state = $("state");
  state.hidden = false;
  state.className = `state ${status.state}`;
  state.textContent = status.state === "unlocked" ? "Unlocked" : status.state === "locked" ? "Locked" : "Not set up";
  lockButton.hidden = status.state !== "unlocked";
  $("flavor").hidden = status.flavor !== "test";
}

function startWait(ms) {
  stopCountdown();
  waiting = true;
  stopCountdown = countdown(ms, $("pin-timer"), [unlockButton], () => {
    waiting = false;
  });
}

async function refresh() {
  const answer = await ask(msg.vaultStatus());
  if (answer.error) {
    showOnly("");
    $("status").hidden = false;
    $("status").textContent = `Could not reach Latchkey: ${errorText(answer.error)}`;
    return;
  }
  const status = answer.ok;
  const changed = status.state !== shownState;
  shownState = status.state;
  setState(status);
  $("status").hidden = true;
  showHost(status);

  if (status.state === "none") {
    showOnly("view-none");
    $("manage").hidden = true;
    if (changed) $("setup").focus();
    return;
  }
  $("manage").hidden = false;
  if (status.state === "locked") {
    showOnly("view-locked");
    if (changed) {
      pin.value = "";
      setFieldError(pin, $("pin-error"), "");
      pin.focus();
    }
    if (status.headerState === "damaged") $("pin-error").textContent = "Latchkey's vault could not be read. Open Manage passkeys for details.";
    if (status.retryAfterMs > 0 && !waiting) startWait(status.retryAfterMs);
    return;
  }

  stopCountdown();
  showOnly("view-unlocked");
  const problems = (Array.isArray(status.damaged) ? status.damaged.length : 0) > 0 || status.headerState === "damaged";
  $("damaged").hidden = !problems;
  $("damaged").textContent = problems ? "Some saved data could not be read. Open Manage passkeys for details." : "";
  const list = await ask(msg.listPasskeys());
  if (list.error) {
    passkeys = [];
    $("list").replaceChildren();
    $("list-status").textContent = `Could not list passkeys: ${errorText(list.error)}`;
    return;
  }
  passkeys = (Array.isArray(list.ok) ? list.ok : []).filter((p) => !p.deletedAt);
  renderList();
  if (changed) search.focus();
}

const matches = (p, q) =>
  [p.rpId, p.rpName, p.userName, p.userDisplayName, p.label].some((v) => typeof v === "string" && v.toLowerCase().includes(q));

function renderList() {
  const q = search.value.trim().toLowerCase();
  const shown = q ? passkeys.filter((p) => matches(p, q)) : passkeys;
  /** @type {Map<string, any[]>} */
  const bySite = new Map();
  for (const p of [...shown].sort((a, b) => a.rpId.localeCompare(b.rpId) || accountName(a).localeCompare(accountName(b)))) {
    if (!bySite.has(p.rpId)) bySite.set(p.rpId, []);
    bySite.get(p.rpId).push(p);
  }
  const groups = [];
  for (const [rpId, items] of bySite) {
    groups.push(
      el(
        "section",
        { className: "group" },
        el(
          "h2",
          {},
          el("span", { className: "site", text: rpId }),
          el(
            "span",
            { className: "count" },
            el("span", { className: "visually-hidden", text: ", " }),
            String(items.length),
            el("span", { className: "visually-hidden", text: items.length === 1 ? " passkey" : " passkeys" }),
          ),
        ),
        el(
          "ul",
          {},
          items.map((p) => {
            const sub = [p.userDisplayName && p.userName && p.userName !== p.userDisplayName ? p.userName : "", p.label || ""].filter(Boolean).join(" · ");
            return el("li", {}, el("span", { className: "name", text: accountName(p) }), sub ? el("span", { className: "sub", text: sub }) : null);
          }),
        ),
      ),
    );
  }
  $("list").replaceChildren(...groups);
  if (passkeys.length === 0) $("list-status").textContent = "No passkeys saved yet. Sites offer to create one when you sign up or in their security settings.";
  else if (shown.length === 0) $("list-status").textContent = `No passkeys match “${search.value.trim()}”.`;
  else if (q) $("list-status").textContent = `${plural(shown.length, "passkey")} of ${passkeys.length} shown.`;
  else $("list-status").textContent = "";
  search.parentElement.hidden = passkeys.length === 0;
}

/** The helper app's line, and "Unlock with <method>" when the vault has an OS unlock method. */
function showHost(status) {
  $("host").textContent = hostText(status.host);
  const osOn = Array.isArray(status.unlockMethods) && status.unlockMethods.some((m) => String(m).startsWith("os:"));
  const can = status.host && status.host.found && status.host.capabilities && status.host.capabilities.osKey === "available";
  const button = $("os-unlock");
  button.hidden = !(status.state === "locked" && osOn && can);
  button.textContent = `Unlock with ${status.host ? status.host.method : "the helper app"}`;
}

$("os-unlock").addEventListener("click", async () => {
  const button = /** @type {HTMLButtonElement} */ ($("os-unlock"));
  button.disabled = true;
  $("os-unlock-error").textContent = "";
  const answer = await ask(msg.vaultUnlockOs());
  button.disabled = false;
  if (answer.error) {
    $("os-unlock-error").textContent = errorText(answer.error);
    return;
  }
  await refresh();
});

$("view-locked").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (unlockButton.disabled || waiting) return;
  if (pin.value === "") {
    setFieldError(pin, $("pin-error"), "Enter your PIN.");
    pin.focus();
    return;
  }
  unlockButton.disabled = true;
  unlockButton.setAttribute("aria-busy", "true");
  setFieldError(pin, $("pin-error"), "");
  const answer = await ask(msg.vaultUnlock(pin.value));
  unlockButton.removeAttribute("aria-busy");
  unlockButton.disabled = false;
  if (answer.error) {
    setFieldError(pin, $("pin-error"), errorText(answer.error));
    pin.value = "";
    pin.focus();
    if (answer.error.retryAfterMs > 0) startWait(answer.error.retryAfterMs);
    return;
  }
  pin.value = "";
  await refresh();
});

lockButton.addEventListener("click", async () => {
  lockButton.disabled = true;
  const answer = await ask(msg.vaultLock());
  lockButton.disabled = false;
  if (answer.error) {
    $("list-status").textContent = `Could not lock: ${errorText(answer.error)}`;
    return;
  }
  await refresh();
});

$("setup").addEventListener("click", async () => {
  await openManager();
  window.close();
});
$("manage").addEventListener("click", async () => {
  await openManager();
  window.close();
});
search.addEventListener("input", renderList);

let refreshTimer = 0;
onVaultChanged(() => {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 50);
});

await refresh();

// ---- this site: "Never use Latchkey on this site" ------------------------------------------------

/** The active tab's origin (http/https only), or null. */
async function activeOrigin() {
  try {
    const [tab] = await api.tabs.query({ active: true, currentWindow: true });
    const u = tab && tab.url ? new URL(tab.url) : null;
    return u && (u.protocol === "https:" || u.protocol === "http:") ? u.origin : null;
  } catch {
    return null;
  }
}

async function renderSite() {
  const origin = await activeOrigin();
  const box = $("site-box");
  if (!origin) {
    box.hidden = true;
    return;
  }
  const answer = await ask(msg.vaultStatus());
  const s = answer.ok && answer.ok.settings ? answer.ok.settings : null;
  if (!s) return;
  box.hidden = false;
  const check = /** @type {HTMLInputElement} */ ($("exclude-here"));
  check.checked = Array.isArray(s.excludedSites) && s.excludedSites.includes(origin);
  $("exclude-here-hint").textContent =
    s.enabled === false
      ? "Latchkey is switched off for all sites (Manage passkeys → Websites)."
      : `${new URL(origin).host}: the browser's own passkey support is used instead.`;
  check.onchange = async () => {
    const now = await ask(msg.vaultStatus());
    const sites = (now.ok && now.ok.settings && now.ok.settings.excludedSites) || [];
    const next = check.checked ? [...new Set([...sites, origin])] : sites.filter((x) => x !== origin);
    await ask(msg.settingsSet({ excludedSites: next }));
  };
}
renderSite();
