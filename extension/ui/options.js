// The options page ("Manage passkeys", opened in a tab): first-run vault creation, lock state,
// unlock, passkeys grouped by site with search, rename, delete with undo, recently deleted
// (restore, delete forever), damaged entries, settings and Change PIN. Everything goes through the
// service worker (docs/design.md, "Extension messages for the vault"); the page refreshes when it
// broadcasts {type: "vault-changed"}. Website-chosen text reaches the DOM via textContent only.
import {
  $,
  accountName,
  ask,
  checkNewPin,
  countdown,
  el,
  errorText,
  hostText,
  msg,
  onVaultChanged,
  passkeyTitle,
  plural,
  setFieldError,
  timeEl,
  version,
} from "./ui.js";

const UNDO_MS = 10_000;
const PURGE_AFTER_MS = 30 * 24 * 60 * 60 * 1000;

const input = (id) => /** @type {HTMLInputElement} */ ($(id));
const button = (id) => /** @type {HTMLButtonElement} */ ($(id));
const search = input("search");

/** @type {any} the last vault-status */
let status = null;
/** @type {any[]} every passkey list-passkeys returned (live and deleted) */
let all = [];
/** credentialId of the passkey whose label is being edited, or null */
let editing = null;
let refreshPending = false;
let stopUnlockWait = () => {};
let unlockWaiting = false;
let stopChangeWait = () => {};
let changeWaiting = false;

$("version").textContent = version() ? `Latchkey ${version()}` : "Latchkey";

// ---- loading and top-level state ---------------------------------------------------------------

async function refresh() {
  if (editing) {
    refreshPending = true; // finish the rename first; the list is redrawn then
    return;
  }
  const answer = await ask(msg.vaultStatus());
  if (answer.error) {
    $("status").hidden = false;
    $("status").textContent = `Could not reach Latchkey: ${errorText(answer.error)}`;
    return;
  }
  const previous = status ? status.state : "";
  status = answer.ok;
  $("status").hidden = true;
  $("flavor").hidden = status.flavor !== "test";
  renderSites();
  renderState();
  renderBanners();
  renderHost();

  const state = status.state;
  $("setup").hidden = state !== "none";
  $("unlock").hidden = state !== "locked";
  for (const id of ["passkeys", "settings"]) $(id).hidden = state !== "unlocked";
  $("damaged").hidden = true;
  $("deleted").hidden = true;
  if (state !== "unlocked" && toastAction) hideToast(); // an Undo for a locked vault would fail

  if (state === "none") {
    if (previous !== "none") input("new-pin").focus();
    return;
  }
  renderDamaged();
  if (state === "locked") {
    all = [];
    if (previous !== "locked") {
      input("pin").value = "";
      setFieldError(input("pin"), $("pin-error"), "");
      input("pin").focus();
    }
    if (status.retryAfterMs > 0 && !unlockWaiting) startUnlockWait(status.retryAfterMs);
    return;
  }
  stopUnlockWait();
  renderSettings();
  const list = await ask(msg.listPasskeys());
  if (list.error) {
    all = [];
    $("groups").replaceChildren();
    $("list-status").textContent = `Could not list passkeys: ${errorText(list.error)}`;
    return;
  }
  all = Array.isArray(list.ok) ? list.ok : [];
  renderList();
  renderDeleted();
  if (previous && previous !== "unlocked") $("passkeys-title").focus();
}

function renderState() {
  const state = $("state");
  state.hidden = false;
  state.className = `state ${status.state}`;
  state.textContent = { unlocked: "Unlocked", locked: "Locked", none: "Not set up" }[status.state] ?? status.state;
  let detail = "";
  if (status.state === "unlocked" && status.settings) {
    const m = status.settings.autoLockMinutes;
    detail = m === 0 ? "until the browser closes" : `locks after ${lockAfterText(m)} without use`;
  }
  $("state-detail").textContent = detail;
  button("lock").hidden = status.state !== "unlocked";
}

const osUnlockOn = () => Array.isArray(status.unlockMethods) && status.unlockMethods.some((m) => String(m).startsWith("os:"));
const hostCanOsKey = () => !!(status.host && status.host.found && status.host.capabilities && status.host.capabilities.osKey === "available");

/** The helper app's line (footer), its setting, and "Unlock with <method>" at the unlock card. */
function renderHost() {
  $("host-status").textContent = hostText(status.host);
  const method = status.host ? status.host.method : "the helper app";
  const os = button("os-unlock");
  os.hidden = !(status.state === "locked" && osUnlockOn() && hostCanOsKey());
  os.textContent = `Unlock with ${method}`;
  // The setting: shown when the helper app can keep a key (or to turn an existing one off).
  const show = status.state === "unlocked" && (hostCanOsKey() || osUnlockOn());
  $("os-unlock-box").hidden = !show;
  $("os-unlock-hint").hidden = !show;
  $("os-unlock-label").textContent = `Unlock with ${method}`;
  input("os-unlock-enabled").checked = osUnlockOn();
}

input("os-unlock-enabled").addEventListener("change", async () => {
  const box = input("os-unlock-enabled");
  const want = box.checked;
  box.disabled = true;
  $("os-unlock-status").classList.remove("failed");
  $("os-unlock-status").textContent = want ? "Waiting for the helper app…" : "";
  const answer = await ask(msg.osUnlockSet(want));
  box.disabled = false;
  if (answer.error) {
    box.checked = !want;
    $("os-unlock-status").classList.add("failed");
    $("os-unlock-status").textContent = `Not changed: ${errorText(answer.error)}`;
    return;
  }
  $("os-unlock-status").textContent = want ? "On: Latchkey can be unlocked without the PIN." : "Off.";
  status = answer.ok;
  renderHost();
});

button("os-unlock").addEventListener("click", async () => {
  const b = button("os-unlock");
  b.disabled = true;
  $("os-unlock-error").textContent = "";
  const answer = await ask(msg.vaultUnlockOs());
  b.disabled = false;
  if (answer.error) {
    $("os-unlock-error").textContent = errorText(answer.error);
    return;
  }
  await refresh();
});

const lockAfterText = (m) => (m % 60 === 0 ? plural(m / 60, "hour") : plural(m, "minute"));

function renderBanners() {
  const banners = [];
  if (status.headerState === "recovered") {
    banners.push(
      el(
        "div",
        { className: "warning", attrs: { role: "note" } },
        el("strong", { text: "Latchkey repaired its vault. " }),
        "The main copy of the vault's key information was damaged, so Latchkey used its backup copy. Your passkeys are fine.",
      ),
    );
  } else if (status.headerState === "damaged") {
    // The main header is unreadable but the backup copy is: unlocking restores it.
    banners.push(
      el(
        "div",
        { className: "warning", attrs: { role: "note" } },
        el("strong", { text: "Latchkey will repair its vault. " }),
        "The main copy of the vault's key information is damaged. Unlock with your PIN and Latchkey restores it from its backup copy.",
      ),
    );
  } else if (status.headerState === "missing" || status.headerState === "unsupported") {
    const why =
      status.headerState === "unsupported"
        ? "This vault was written by a newer version of Latchkey. Update Latchkey to open it."
        : "The vault's key information is damaged and its backup copy could not be used either. Your passkeys are still stored, but they cannot be unlocked right now.";
    banners.push(
      el(
        "div",
        { className: "error-box", attrs: { role: "alert" } },
        el("strong", { text: "Latchkey cannot open its vault. " }),
        why,
      ),
    );
  }
  $("banners").replaceChildren(...banners);
}

// ---- first run ---------------------------------------------------------------------------------

$("setup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const pin = input("new-pin");
  const confirm = input("confirm-pin");
  const problem = checkNewPin(pin.value, confirm.value);
  setFieldError(pin, $("new-pin-error"), problem && problem.field === "new" ? problem.text : "");
  setFieldError(confirm, $("confirm-pin-error"), problem && problem.field === "confirm" ? problem.text : "");
  if (problem) {
    (problem.field === "new" ? pin : confirm).focus();
    return;
  }
  const create = button("create");
  create.disabled = true;
  create.setAttribute("aria-busy", "true");
  const answer = await ask(msg.vaultCreate(pin.value));
  create.disabled = false;
  create.removeAttribute("aria-busy");
  if (answer.error) {
    setFieldError(pin, $("new-pin-error"), errorText(answer.error));
    pin.focus();
    return;
  }
  pin.value = "";
  confirm.value = "";
  announce("Latchkey is set up and unlocked.");
  await refresh();
});

// ---- lock and unlock ---------------------------------------------------------------------------

function startUnlockWait(ms) {
  stopUnlockWait();
  unlockWaiting = true;
  const stop = countdown(ms, $("pin-timer"), [button("unlock-button")], () => (unlockWaiting = false));
  stopUnlockWait = () => {
    stop();
    unlockWaiting = false;
  };
}

$("unlock-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const pin = input("pin");
  const go = button("unlock-button");
  if (go.disabled || unlockWaiting) return;
  if (pin.value === "") {
    setFieldError(pin, $("pin-error"), "Enter your PIN.");
    pin.focus();
    return;
  }
  go.disabled = true;
  go.setAttribute("aria-busy", "true");
  setFieldError(pin, $("pin-error"), "");
  const answer = await ask(msg.vaultUnlock(pin.value));
  go.disabled = false;
  go.removeAttribute("aria-busy");
  pin.value = "";
  if (answer.error) {
    setFieldError(pin, $("pin-error"), errorText(answer.error));
    pin.focus();
    if (answer.error.retryAfterMs > 0) startUnlockWait(answer.error.retryAfterMs);
    return;
  }
  await refresh();
});

button("lock").addEventListener("click", async () => {
  const answer = await ask(msg.vaultLock());
  editing = null;
  await refresh();
  announce(answer.error ? `Could not lock: ${errorText(answer.error)}` : "Latchkey is locked.");
});

// ---- passkeys ----------------------------------------------------------------------------------

const live = () => all.filter((p) => !p.deletedAt);
const matches = (p, q) =>
  [p.rpId, p.rpName, p.userName, p.userDisplayName, p.label].some((v) => typeof v === "string" && v.toLowerCase().includes(q));
const siteOf = (p) => (p.rpName && p.rpName !== p.rpId ? `${p.rpName} (${p.rpId})` : p.rpId);
// Action buttons are named by their visible text ("Rename", "Delete", …) and described by the
// passkey's title (aria-describedby), so each one still says which passkey it acts on.

/** Redraws `container` with `nodes`, keeping keyboard focus on the element with the same data-focus. */
function replaceKeepingFocus(container, nodes) {
  const active = /** @type {HTMLElement|null} */ (document.activeElement);
  const key = active && container.contains(active) ? active.dataset.focus : undefined;
  container.replaceChildren(...nodes);
  if (key) {
    const again = /** @type {HTMLElement|null} */ (container.querySelector(`[data-focus="${CSS.escape(key)}"]`));
    if (again) again.focus();
    else $("passkeys-title").focus();
  }
}

function renderList() {
  const passkeys = live();
  const q = search.value.trim().toLowerCase();
  const shown = q ? passkeys.filter((p) => matches(p, q)) : passkeys;
  /** @type {Map<string, any[]>} */
  const bySite = new Map();
  const sorted = [...shown].sort((a, b) => a.rpId.localeCompare(b.rpId) || passkeyTitle(a).localeCompare(passkeyTitle(b)));
  for (const p of sorted) {
    if (!bySite.has(p.rpId)) bySite.set(p.rpId, []);
    bySite.get(p.rpId).push(p);
  }
  const groups = [];
  for (const [rpId, items] of bySite) {
    const headingId = `site-${groups.length}`;
    groups.push(
      el(
        "div",
        { className: "group" },
        el(
          "h3",
          { id: headingId },
          el("span", { className: "site", text: rpId }),
          el("span", { className: "count", text: ` ${plural(items.length, "passkey")}` }),
        ),
        el("ul", { className: "passkeys" }, items.map(passkeyItem)),
      ),
    );
  }
  replaceKeepingFocus($("groups"), groups);
  search.closest(".search").hidden = passkeys.length === 0;
  let text = "";
  if (passkeys.length === 0) text = "No passkeys saved yet. When a site offers to create a passkey, Latchkey saves it here.";
  else if (shown.length === 0) text = `No passkeys match “${search.value.trim()}”.`;
  else if (q) text = `Showing ${shown.length} of ${plural(passkeys.length, "passkey")}.`;
  else text = `${plural(passkeys.length, "passkey")} on ${plural(new Set(passkeys.map((p) => p.rpId)).size, "site")}.`;
  $("list-status").textContent = text;
}

function detail(term, value) {
  return el("div", {}, el("dt", { text: term }), el("dd", {}, value));
}

function passkeyItem(p) {
  const id = p.credentialId;
  const titleId = `pk-${id}`;
  const isEditing = editing === id;
  const head = el(
    "div",
    { className: "pk-head" },
    el("h4", { id: titleId, className: "pk-title", text: passkeyTitle(p) }),
    isEditing
      ? null
      : el(
          "div",
          { className: "pk-actions" },
          el("button", {
            type: "button",
            className: "small",
            text: "Rename",
            attrs: { "aria-describedby": titleId, "data-focus": `rename:${id}` },
            on: { click: () => startRename(id) },
          }),
          el("button", {
            type: "button",
            className: "small danger-outline",
            text: "Delete",
            attrs: { "aria-describedby": titleId, "data-focus": `delete:${id}` },
            on: { click: () => deletePasskey(p) },
          }),
        ),
  );
  const none = el("span", { className: "muted", text: "—" });
  return el(
    "li",
    { className: "passkey", attrs: { "aria-labelledby": titleId } },
    head,
    isEditing ? renameForm(p) : null,
    el(
      "dl",
      { className: "pk-details" },
      detail("Site", siteOf(p)),
      detail("User name", p.userName ? p.userName : none.cloneNode(true)),
      detail("Display name", p.userDisplayName ? p.userDisplayName : none.cloneNode(true)),
      detail("Label", p.label ? p.label : el("span", { className: "muted", text: "None" })),
      detail("Created", timeEl(p.created, "Unknown")),
      detail("Last used", timeEl(p.lastUsed, "Never")),
    ),
  );
}

function renameForm(p) {
  const id = p.credentialId;
  const field = el("input", {
    type: "text",
    id: `label-${id}`,
    value: p.label || "",
    maxLength: 100,
    placeholder: accountName(p),
    autocomplete: "off",
    attrs: { "aria-describedby": `label-hint-${id}`, "data-focus": `label:${id}` },
  });
  const form = el(
    "form",
    { className: "rename" },
    el("label", { htmlFor: field.id, text: "Label" }),
    el("div", { className: "inline" }, field, el("button", { type: "submit", className: "primary small", text: "Save" }), el("button", { type: "button", className: "small", text: "Cancel", on: { click: () => endRename(id) } })),
    el("span", { id: `label-hint-${id}`, className: "hint", text: "Enter saves, Escape cancels. Leave it empty to remove the label." }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const label = /** @type {HTMLInputElement} */ (field).value.trim();
    if (label === (p.label || "")) return endRename(id);
    const answer = await ask(msg.passkeyRename(id, label));
    if (answer.error) {
      announce(`Could not rename: ${errorText(answer.error)}`);
      return;
    }
    announce(label ? "Label saved." : "Label removed.");
    p.label = label || null;
    endRename(id);
  });
  field.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      endRename(id);
    }
  });
  return form;
}

function startRename(id) {
  editing = id;
  renderList();
  const field = /** @type {HTMLInputElement|null} */ (document.getElementById(`label-${id}`));
  if (field) {
    field.focus();
    field.select();
  }
}

function endRename(id) {
  editing = null;
  renderList();
  const again = /** @type {HTMLElement|null} */ (document.querySelector(`[data-focus="${CSS.escape(`rename:${id}`)}"]`));
  if (again) again.focus();
  if (refreshPending) {
    refreshPending = false;
    refresh();
  }
}

async function deletePasskey(p) {
  const answer = await ask(msg.passkeyDelete(p.credentialId));
  if (answer.error) {
    announce(`Could not delete: ${errorText(answer.error)}`);
    return;
  }
  p.deletedAt = Date.now();
  renderList();
  renderDeleted();
  showToast("Passkey deleted", () => restorePasskey(p));
}

async function restorePasskey(p) {
  const answer = await ask(msg.passkeyRestore(p.credentialId));
  if (answer.error) {
    announce(`Could not restore: ${errorText(answer.error)}`);
    return;
  }
  p.deletedAt = null;
  hideToast();
  announce("Passkey restored.");
  renderList();
  renderDeleted();
  const again = /** @type {HTMLElement|null} */ (document.querySelector(`[data-focus="${CSS.escape(`rename:${p.credentialId}`)}"]`));
  if (again) again.focus();
  else $("passkeys-title").focus();
}

// ---- recently deleted --------------------------------------------------------------------------

function renderDeleted() {
  const deleted = all.filter((p) => p.deletedAt).sort((a, b) => b.deletedAt - a.deletedAt);
  $("deleted").hidden = deleted.length === 0 || status.state !== "unlocked";
  const rows = deleted.map((p) =>
    el(
      "li",
      { className: "row" },
      el(
        "div",
        { className: "row-text" },
        el("span", { id: `del-${p.credentialId}` }, el("span", { className: "row-title", text: passkeyTitle(p) }), el("span", { className: "muted", text: ` · ${p.rpId}` })),
        el("div", { className: "muted small-text" }, "Deleted ", timeEl(p.deletedAt, "recently", false), " · removed for good after ", timeEl(p.deletedAt + PURGE_AFTER_MS, "30 days", false)),
      ),
      el(
        "div",
        { className: "row-actions" },
        el("button", {
          type: "button",
          className: "small",
          text: "Restore",
          attrs: { "aria-describedby": `del-${p.credentialId}`, "data-focus": `restore:${p.credentialId}` },
          on: { click: () => restorePasskey(p) },
        }),
        el("button", {
          type: "button",
          className: "small danger-outline",
          text: "Delete forever",
          attrs: { "aria-describedby": `del-${p.credentialId}`, "data-focus": `purge:${p.credentialId}` },
          on: { click: () => confirmPurge(p) },
        }),
      ),
    ),
  );
  replaceKeepingFocus($("deleted-list"), rows);
}

function confirmPurge(p) {
  const dialog = /** @type {HTMLDialogElement} */ ($("purge-dialog"));
  $("purge-text").textContent =
    `“${passkeyTitle(p)}” for ${p.rpId} will be deleted for good. You cannot undo this. ` +
    `Make sure you can still sign in to ${p.rpId} some other way.`;
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "purge") {
      const back = /** @type {HTMLElement|null} */ (document.querySelector(`[data-focus="${CSS.escape(`purge:${p.credentialId}`)}"]`));
      if (back) back.focus();
      return;
    }
    const answer = await ask(msg.passkeyPurge(p.credentialId));
    if (answer.error) {
      announce(`Could not delete: ${errorText(answer.error)}`);
      return;
    }
    all = all.filter((x) => x.credentialId !== p.credentialId);
    announce("Passkey deleted forever.");
    renderDeleted();
    $($("deleted").hidden ? "passkeys-title" : "deleted-title").focus();
  };
  dialog.showModal();
}

// ---- damaged entries ---------------------------------------------------------------------------

function renderDamaged() {
  const damaged = Array.isArray(status.damaged) ? status.damaged : [];
  $("damaged").hidden = damaged.length === 0;
  $("damaged-list").replaceChildren(
    ...damaged.map((d) => {
      const name = d.rpId ? (d.userName ? `${d.userName} on ${d.rpId}` : `A passkey for ${d.rpId}`) : `Storage entry ${d.key}`;
      return el(
        "li",
        { className: "row" },
        el(
          "div",
          { className: "row-text" },
          el("span", { className: "row-title", text: name }),
          el("div", { className: "muted small-text", text: d.reason ? `Reason: ${d.reason}` : "" }),
          d.rpId ? el("div", { className: "muted small-text mono", text: d.key }) : null,
        ),
      );
    }),
  );
}

// ---- settings ----------------------------------------------------------------------------------

function renderSettings() {
  const s = status.settings || { autoLockMinutes: 15, uvPolicy: "required" };
  const select = /** @type {HTMLSelectElement} */ ($("auto-lock"));
  if (document.activeElement !== select) select.value = String(s.autoLockMinutes);
  input("uv-required").checked = s.uvPolicy !== "preferred";
  input("uv-preferred").checked = s.uvPolicy === "preferred";
}

async function saveSettings() {
  const settings = {
    autoLockMinutes: Number(/** @type {HTMLSelectElement} */ ($("auto-lock")).value),
    uvPolicy: input("uv-preferred").checked ? "preferred" : "required",
  };
  $("settings-status").textContent = "";
  const answer = await ask(msg.settingsSet(settings));
  if (answer.error) {
    $("settings-status").textContent = `Not saved: ${errorText(answer.error)}`;
    $("settings-status").classList.add("failed");
    return;
  }
  $("settings-status").classList.remove("failed");
  $("settings-status").textContent = "Saved.";
  if (status) {
    status.settings = answer.ok && typeof answer.ok === "object" ? answer.ok : settings;
    renderState();
  }
}
$("auto-lock").addEventListener("change", saveSettings);
input("uv-required").addEventListener("change", saveSettings);
input("uv-preferred").addEventListener("change", saveSettings);

// ---- websites: the global switch and per-site exclusions --------------------------------------

function renderSites() {
  const s = (status && status.settings) || {};
  input("enabled").checked = s.enabled !== false;
  const proxy = (status && status.proxy) || { available: false };
  $("proxy-box").hidden = !proxy.available;
  input("proxy-mode").checked = s.proxyMode === true;
  $("proxy-error").textContent =
    s.proxyMode === true && !proxy.attached && proxy.error ? `Not active: ${proxy.error}` : "";
  const sites = Array.isArray(s.excludedSites) ? s.excludedSites : [];
  $("excluded-empty").hidden = sites.length > 0;
  $("excluded-list").replaceChildren(
    ...sites.map((site) =>
      el(
        "li",
        { className: "row" },
        el("span", { className: "row-title mono", text: site }),
        el("button", {
          type: "button",
          className: "small",
          text: "Remove",
          attrs: { "aria-label": `Remove ${site}` },
          on: { click: () => saveSites({ excludedSites: sites.filter((x) => x !== site) }) },
        }),
      ),
    ),
  );
}

async function saveSites(changes) {
  $("sites-status").textContent = "";
  const answer = await ask(msg.settingsSet(changes));
  if (answer.error) {
    $("sites-status").textContent = `Not saved: ${errorText(answer.error)}`;
    $("sites-status").classList.add("failed");
    return false;
  }
  $("sites-status").classList.remove("failed");
  $("sites-status").textContent = "Saved.";
  if (status) {
    status.settings = answer.ok;
    renderSites();
  }
  return true;
}
input("enabled").addEventListener("change", () => saveSites({ enabled: input("enabled").checked }));
input("proxy-mode").addEventListener("change", () => saveSites({ proxyMode: input("proxy-mode").checked }));
$("exclude-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const field = input("exclude-site");
  let origin = null;
  try {
    const raw = field.value.trim();
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
    if (u.protocol === "http:" || u.protocol === "https:") origin = u.origin;
  } catch {
    origin = null;
  }
  setFieldError(field, $("exclude-site-error"), origin ? "" : "Enter a site address such as https://example.com.");
  if (!origin) return field.focus();
  const sites = (status && status.settings && status.settings.excludedSites) || [];
  if (await saveSites({ excludedSites: [...new Set([...sites, origin])] })) field.value = "";
});

// ---- change PIN --------------------------------------------------------------------------------

$("change-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const current = input("cp-current");
  const next = input("cp-new");
  const confirm = input("cp-confirm");
  const go = button("change");
  if (go.disabled || changeWaiting) return;
  $("change-status").textContent = "";
  setFieldError(current, $("cp-current-error"), current.value === "" ? "Enter your current PIN." : "");
  const problem = checkNewPin(next.value, confirm.value);
  setFieldError(next, $("cp-new-error"), problem && problem.field === "new" ? problem.text : "");
  setFieldError(confirm, $("cp-confirm-error"), problem && problem.field === "confirm" ? problem.text : "");
  if (current.value === "") return current.focus();
  if (problem) return (problem.field === "new" ? next : confirm).focus();

  go.disabled = true;
  go.setAttribute("aria-busy", "true");
  const answer = await ask(msg.vaultChangePin(current.value, next.value));
  go.disabled = false;
  go.removeAttribute("aria-busy");
  if (answer.error) {
    const e = answer.error;
    if (e.name === "WeakPin") {
      setFieldError(next, $("cp-new-error"), errorText(e));
      next.focus();
    } else {
      setFieldError(current, $("cp-current-error"), errorText(e));
      current.value = "";
      current.focus();
      if (e.retryAfterMs > 0) {
        stopChangeWait();
        changeWaiting = true;
        const stop = countdown(e.retryAfterMs, $("cp-timer"), [go], () => (changeWaiting = false));
        stopChangeWait = () => {
          stop();
          changeWaiting = false;
        };
      }
    }
    return;
  }
  current.value = "";
  next.value = "";
  confirm.value = "";
  $("change-status").textContent = "PIN changed. Use the new PIN from now on.";
});

// ---- toast and announcements -------------------------------------------------------------------

let toastTimer = 0;
/** @type {(() => void) | null} */
let toastAction = null;

/**
 * Shows a short message at the bottom of the page (a polite live region). With `action`, it also
 * offers "Undo" for UNDO_MS and moves keyboard focus there.
 */
function showToast(text, action = null) {
  clearTimeout(toastTimer);
  toastAction = action;
  $("toast-body").hidden = false;
  button("undo").hidden = !action;
  $("toast-text").textContent = "";
  // Set the text after the region is visible so screen readers announce it.
  requestAnimationFrame(() => ($("toast-text").textContent = text));
  if (action) button("undo").focus();
  toastTimer = setTimeout(hideToast, action ? UNDO_MS : 5000);
}

function hideToast() {
  clearTimeout(toastTimer);
  const hadFocus = $("toast").contains(document.activeElement);
  $("toast-body").hidden = true;
  $("toast-text").textContent = "";
  toastAction = null;
  if (hadFocus) (status && status.state === "unlocked" ? $("passkeys-title") : input("pin")).focus();
}

button("undo").addEventListener("click", () => toastAction && toastAction());
$("toast").addEventListener("keydown", (event) => {
  if (event.key === "Escape") hideToast();
});

/** Says `text` politely (the toast, without Undo). */
const announce = (text) => showToast(text);

// ---- wiring ------------------------------------------------------------------------------------

search.addEventListener("input", renderList);
search.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && search.value) {
    search.value = "";
    renderList();
  }
});

let refreshTimer = 0;
onVaultChanged(() => {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 50);
});

await refresh();
