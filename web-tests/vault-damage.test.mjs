// Damaged vault data (TEST flavor), in Chromium and Firefox (docs/design.md, "The vault"): raw
// storage.local is changed from an extension page, the background restarted (it reads storage afresh):
//   * one vault:e: entry with a flipped ciphertext character → the other passkeys still sign in (the
//     RP verifies), vault-status.damaged names exactly that key, the options page lists it, new
//     passkeys can still be saved;
//   * vault:header damaged, vault:header:backup intact → unlock works through the backup
//     (headerState "recovered") and the header is restored from it;
//   * header AND backup damaged → headerState "damaged", vault-unlock answers HeaderDamaged, the
//     options page says so; putting the original bytes back recovers everything.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, register, signIn } from './harness/support.mjs';
import { OPTIONS_PATH } from './harness/prompt.mjs';
import {
  TEST_FLAVOR_PIN, parseStored, likeOriginal, flipChar, vaultKeys, okOf, errorOf, waitForVaultStatus,
} from './harness/vault.mjs';

const USERS = ['dmg-anna-e2e', 'dmg-bert-e2e', 'dmg-cleo-e2e'];

for (const B of BROWSERS) {
  describe(`vault damage handling, test flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });
    const ids = new Map(); // username → credentialId
    let damagedId = null;
    let good = null; // vault:header and its backup right after the vault was made

    /** Usernames whose passkeys must still work. */
    const healthy = () => [...ids.entries()].filter(([, id]) => id !== damagedId).map(([u]) => u);

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch();
      await b.goto(`${rp.url}/raw.html`);
      for (const u of USERS) ids.set(u, (await register(b, client, u)).v.credentialId);
      const raw = await b.storageLocal();
      good = { 'vault:header': raw['vault:header'], 'vault:header:backup': raw['vault:header:backup'] };
    }));
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    it('one entry with a flipped ciphertext character: the others sign in, status.damaged names it, the options page lists it', withLogs(ctx, async () => {
      const listBefore = await okOf(b, { type: 'list-passkeys' });
      assert.equal(listBefore.length, 3);
      const raw = await b.storageLocal();
      const entries = vaultKeys(raw).entries;
      assert.equal(entries.length, 3, `three entries: ${entries}`);
      const key = entries[1];
      const entry = parseStored(raw[key]);
      const broken = { ...entry, ct: flipChar(entry.ct) };
      assert.notEqual(broken.ct, entry.ct);
      await b.setStorageLocal({ [key]: likeOriginal(raw[key], broken) });
      // The running worker re-reads storage after an outside change (design: "call load again after
      // any outside storage change") …
      const live = await waitForVaultStatus(b, (x) => x.damaged.length > 0, 'the damaged entry (without a restart)', 5000);
      assert.deepEqual(live.damaged.map((d) => d.key), [key]);
      // … and so does a fresh one.
      await b.restartBackground();

      const st = await b.vaultStatus();
      assert.equal(st.damaged.length, 1, `exactly one damaged entry: ${JSON.stringify(st)}`);
      assert.equal(st.damaged[0].key, key, `status.damaged names the broken key: ${JSON.stringify(st.damaged)}`);
      assert.equal(typeof st.damaged[0].reason, 'string');
      assert.equal(st.count, 2, `the other two still count: ${JSON.stringify(st)}`);
      assert.equal(st.headerState, 'ok');

      const listAfter = await okOf(b, { type: 'list-passkeys' });
      const gone = listBefore.filter((p) => !listAfter.some((q) => q.credentialId === p.credentialId));
      assert.equal(gone.length, 1, `one passkey is unreadable: ${JSON.stringify(listAfter)}`);
      damagedId = gone[0].credentialId;
      for (const u of healthy()) {
        const { v } = await signIn(b, client, u);
        assert.equal(v.credentialId, ids.get(u));
      }

      // The damaged entry is kept (not silently deleted), and the manager shows it.
      assert.deepEqual(parseStored((await b.storageLocal())[key]), broken, 'the damaged entry is left as it was');
      const options = await b.openExtensionPage(OPTIONS_PATH);
      try {
        const text = await options.waitForText(/Saved data that could not be read/);
        const d = st.damaged[0];
        assert.ok(text.includes(d.key) || (d.userName && text.includes(d.userName)),
          `the options page names the damaged entry (${d.key}): ${text}`);
      } finally {
        await options.close();
      }

      // Saving still works next to a damaged entry.
      ids.set('dmg-dora-e2e', (await register(b, client, 'dmg-dora-e2e')).v.credentialId);
      const st2 = await b.vaultStatus();
      assert.equal(st2.count, 3);
      assert.equal(st2.damaged.length, 1);
    }));

    it('a damaged vault:header with an intact backup: unlock works through the backup (headerState "recovered")', withLogs(ctx, async () => {
      assert.equal((await okOf(b, { type: 'vault-lock' })).state, 'locked');
      const raw = await b.storageLocal();
      const header = raw['vault:header'];
      const backup = raw['vault:header:backup'];
      assert.ok(backup, 'a backup of the header exists');
      assert.deepEqual(parseStored(backup), parseStored(header), 'the backup is the confirmed header');
      const text = typeof header === 'string' ? header : JSON.stringify(header);
      await b.setStorageLocal({ 'vault:header': text.slice(0, Math.floor(text.length / 2)) });
      await b.restartBackground();

      const locked = await b.vaultStatus();
      assert.equal(locked.state, 'locked', JSON.stringify(locked));
      console.log(`[damage] ${B.name}: status with a damaged header and an intact backup, before unlocking: headerState ${JSON.stringify(locked.headerState)}`);
      // The manager must not tell the person the vault is lost while the backup still opens it.
      // (Checked here, reported at the end, so the unlock below is tested either way.)
      const problems = [];
      const page = await b.openExtensionPage(OPTIONS_PATH);
      try {
        await page.waitForButton('Unlock');
        const t = await page.text();
        if (/cannot open its vault|could not be used/i.test(t)) {
          problems.push(`the options page says the vault cannot be opened although the backup is intact (status headerState ${JSON.stringify(locked.headerState)}): ${JSON.stringify(t)}`);
        }
      } finally {
        await page.close();
      }
      const st = await okOf(b, { type: 'vault-unlock', pin: TEST_FLAVOR_PIN });
      assert.equal(st.state, 'unlocked', JSON.stringify(st));
      assert.equal(st.headerState, 'recovered', `unlocked through the backup: ${JSON.stringify(st)}`);
      const repaired = await b.openExtensionPage(OPTIONS_PATH);
      try {
        await repaired.waitForText(/repaired/i);
      } finally {
        await repaired.close();
      }
      for (const u of healthy()) await signIn(b, client, u);

      // The unlock's commit restored the header from the backup.
      const after = await b.storageLocal();
      assert.deepEqual(parseStored(after['vault:header']), parseStored(backup), 'vault:header restored from the backup');
      await b.restartBackground();
      assert.equal((await b.vaultStatus()).headerState, 'ok', 'after the restore the header is fine again');
      assert.deepEqual(problems, []);
    }));

    it("header and backup both damaged: vault-unlock answers HeaderDamaged, the options page alerts; the original bytes recover it", withLogs(ctx, async () => {
      assert.equal((await okOf(b, { type: 'vault-lock' })).state, 'locked');
      const orig = good;
      assert.ok(orig['vault:header'] && orig['vault:header:backup'], 'header and backup were saved after the vault was made');
      // Neither is readable any more (a wrong wrapped key could not be told from a wrong PIN).
      const text = typeof orig['vault:header'] === 'string' ? orig['vault:header'] : JSON.stringify(orig['vault:header']);
      await b.setStorageLocal({
        'vault:header': `${text.slice(0, Math.floor(text.length / 3))}\u0000garbage`,
        'vault:header:backup': '{"format":"latchkey-vault","v":1,',
      });
      await b.restartBackground();

      await errorOf(b, { type: 'vault-unlock', pin: TEST_FLAVOR_PIN }, 'HeaderDamaged');
      const st = await b.vaultStatus();
      const problems = [];
      // design.md lists "damaged" and "missing"; the core calls "no readable header and no readable
      // backup" "missing" (core/src/vault/mod.rs HeaderState). Either way: not usable.
      assert.ok(['damaged', 'missing'].includes(st.headerState), `headerState: ${JSON.stringify(st)}`);
      assert.notEqual(st.state, 'unlocked');
      const options = await b.openExtensionPage(OPTIONS_PATH);
      try {
        // The person must be told (an alert), not just see an unlock form that can never work.
        const alerts = async () => (await options.alerts()).join(' | ');
        const deadline = Date.now() + 5000;
        let a = '';
        while (Date.now() < deadline && !/cannot open|damaged|could not be read/i.test(a)) {
          a = await alerts();
          await new Promise((r) => setTimeout(r, 100));
        }
        if (!/cannot open|damaged|could not be read/i.test(a)) {
          problems.push(`the options page shows no alert for an unusable vault header (status headerState ${JSON.stringify(st.headerState)}); text: ${JSON.stringify(await options.text())}`);
        }
      } finally {
        await options.close();
      }

      await b.setStorageLocal(orig);
      await b.restartBackground();
      const ok = await okOf(b, { type: 'vault-unlock', pin: TEST_FLAVOR_PIN });
      assert.equal(ok.state, 'unlocked');
      assert.equal(ok.headerState, 'ok');
      for (const u of healthy()) await signIn(b, client, u);
      assert.deepEqual(problems, []);
    }));
  });
}
