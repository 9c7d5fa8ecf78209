// Vault management messages from Latchkey's own pages (popup, options page): docs/design.md,
// "Extension messages for the vault". The router (sw.js) lets only extension pages reach this.

import { api } from "../shared/browser.js";
import { proxyState } from "./proxy.js";
import { channelState } from "./channel.js";
import { hostMethodName, hostStatus } from "./host.js";
import { setOsUnlock, unlockOs } from "./hostflow.js";
import { TEST_FLAVOR } from "../../flavor.js";
import {
  Failure,
  changePin,
  createVault,
  currentSettings,
  finishVerification,
  lockNow,
  mutate,
  retryAfterMs,
  saveSettings,
  unlockWithPin,
  unwrap,
  vaultState,
  withVault,
} from "./vault.js";

export const MANAGEMENT_TYPES = new Set([
  "vault-status",
  "vault-create",
  "vault-unlock",
  "vault-lock",
  "vault-unlock-os",
  "os-unlock-set",
  "vault-change-pin",
  "list-passkeys",
  "passkey-rename",
  "passkey-delete",
  "passkey-restore",
  "passkey-purge",
  "settings-set",
  "open-manager",
]);

/** @returns {Promise<import("../shared/messages.js").VaultStatus>} */
async function statusOf(current) {
  // The manager shows exact numbers: what the background check has not reached yet is done now.
  await finishVerification(current);
  const s = unwrap(current.status());
  return {
    ...s, // the core's status (state, headerState, count, deleted, damaged, and any extra detail)
    damaged: Array.isArray(s.damaged) ? s.damaged : [],
    settings: currentSettings(),
    retryAfterMs: await retryAfterMs(current),
    flavor: TEST_FLAVOR ? "test" : "normal",
    proxy: proxyState(),
    channel: channelState(),
    // The helper app as last seen (vault-status probes it first; other answers do not wait for it).
    host: { ...(await hostStatus()), method: hostMethodName() },
  };
}

/**
 * Handles one management message (already validated by parseMessage); resolves to its `ok` value
 * or throws a Failure.
 */
export function handleManagement(msg) {
  switch (msg.type) {
    case "vault-status":
      return hostStatus({ probe: true }).then(() => withVault(statusOf, { activity: false }));
    case "vault-unlock-os":
      return unlockOs().then(() => withVault(statusOf));
    case "os-unlock-set":
      return setOsUnlock(msg.enabled).then(() => withVault(statusOf));
    case "vault-create":
      return withVault(async (lk) => {
        await createVault(lk, msg.pin);
        return statusOf(lk);
      });
    case "vault-unlock":
      return withVault(async (lk) => {
        const state = vaultState(lk);
        if (state === "none") throw new Failure("NoVault", "Latchkey has no vault yet.");
        if (state === "locked") await unlockWithPin(lk, msg.pin);
        return statusOf(lk);
      });
    case "vault-lock":
      return withVault(
        async (lk) => {
          await lockNow();
          return statusOf(lk);
        },
        { activity: false },
      );
    case "vault-change-pin":
      return withVault(async (lk) => {
        await changePin(lk, msg.oldPin, msg.newPin);
        return statusOf(lk);
      });
    case "list-passkeys":
      return withVault((lk) => unwrap(lk.list()));
    case "passkey-rename":
      return withVault((lk) => mutate(lk, (c) => c.rename(msg.credentialId, msg.label)));
    case "passkey-delete":
      return withVault((lk) => mutate(lk, (c) => c.remove(msg.credentialId)));
    case "passkey-restore":
      return withVault((lk) => mutate(lk, (c) => c.restore(msg.credentialId)));
    case "passkey-purge":
      return withVault((lk) => mutate(lk, (c) => c.purge(msg.credentialId)));
    case "settings-set": {
      const changes = {};
      if (msg.autoLockMinutes !== undefined) changes.autoLockMinutes = msg.autoLockMinutes;
      if (msg.uvPolicy !== undefined) changes.uvPolicy = msg.uvPolicy;
      if (msg.enabled !== undefined) changes.enabled = msg.enabled;
      if (msg.excludedSites !== undefined) changes.excludedSites = msg.excludedSites;
      if (msg.proxyMode !== undefined) changes.proxyMode = msg.proxyMode;
      return withVault(() => saveSettings(changes));
    }
    case "open-manager":
      return Promise.resolve(api.runtime.openOptionsPage()).then(() => true);
    default:
      return Promise.reject(new Failure("TypeError", "Unknown message."));
  }
}
