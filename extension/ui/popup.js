// The toolbar popup: the saved passkeys (site, account, created) and the storage warning.
import { api, sendMessage } from "../shared/browser.js";
import { listPasskeysMessage } from "../shared/messages.js";

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

$("version").textContent = `Version ${api.runtime.getManifest().version}`;

/** @param {import("../shared/messages.js").PasskeySummary[]} list */
function render(list) {
  if (list.length === 0) {
    $("status").textContent = "No passkeys saved yet.";
    return;
  }
  const rows = $("rows");
  for (const p of list) {
    const tr = document.createElement("tr");
    const site = document.createElement("td");
    site.textContent = p.rpId;
    const account = document.createElement("td");
    account.className = "account";
    account.textContent = p.userDisplayName || p.userName || "(no name)";
    if (p.userDisplayName && p.userName && p.userName !== p.userDisplayName) {
      const sub = document.createElement("span");
      sub.className = "sub";
      sub.textContent = p.userName;
      account.append(sub);
    }
    const created = document.createElement("td");
    created.className = "created";
    const time = document.createElement("time");
    time.dateTime = new Date(p.created).toISOString();
    time.textContent = dateFormat.format(new Date(p.created));
    created.append(time);
    tr.append(site, account, created);
    rows.append(tr);
  }
  $("table").hidden = false;
  $("status").textContent = `${list.length} passkey${list.length === 1 ? "" : "s"}.`;
}

try {
  const answer = await sendMessage(listPasskeysMessage());
  if (answer && Array.isArray(answer.ok)) render(answer.ok);
  else $("status").textContent = `Could not list passkeys: ${(answer && answer.error && answer.error.message) || "no answer"}`;
} catch (e) {
  $("status").textContent = `Could not list passkeys: ${e && e.message}`;
}
