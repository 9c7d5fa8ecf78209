// The vault at rest and its extension messages (TEST flavor: it creates the vault with the test PIN on
// first use), in Chromium and Firefox (docs/design.md, "The vault", "Extension messages for the vault"):
//   * issue-2 plaintext `cred:` records are imported at vault creation and at unlock, then removed
//     (and the imported passkeys sign in: the RP verifies signatures made with the migrated keys);
//   * raw storage.local holds no plaintext secret (no cred: keys, no user name, rpId, label, PIN,
//     "privateKey", PKCS#8 prefix); every vault:e: value is exactly {v, id, nonce, ct, rp, cred};
//     storage.session holds only vaultKey/lastActivity;
//   * vault-lock / vault-unlock (WrongPin, RateLimited with retryAfterMs), list-passkeys (Locked);
//   * rename, delete (Recently deleted), restore, purge — the RP verifies what should still work.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import {
  SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, register, signIn, assertError, randomB64u,
} from './harness/support.mjs';
import {
  TEST_FLAVOR_PIN, assertNoPlaintextSecrets, parseStored, vaultKeys, okOf, errorOf, legacyPasskey, rpAdoptPasskey,
} from './harness/vault.mjs';

const U1 = 'ursula-storage-e2e';
const U2 = 'victor-storage-e2e';
const LEGACY1 = 'legacy-before-vault-e2e';
const LEGACY2 = 'legacy-at-unlock-e2e';
const LABEL = 'my secret label e2e';

for (const B of BROWSERS) {
  describe(`vault storage and messages, test flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });
    const ids = {};

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch();
      await b.goto(`${rp.url}/raw.html`);
    }));
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    it('imports an issue-2 plaintext record when the first request creates the vault; the record is removed', withLogs(ctx, async () => {
      const st0 = await b.vaultStatus();
      assert.equal(st0.state, 'none', JSON.stringify(st0));
      assert.equal(st0.flavor, 'test');
      const legacy = legacyPasskey({ userName: LEGACY1, userHandle: randomB64u(16) });
      await b.setStorageLocal({ [legacy.key]: legacy.record });
      await rpAdoptPasskey(rp, client, { username: LEGACY1, userHandle: legacy.record.userHandle, ...legacy });
      ids.legacy1 = legacy.credentialId;

      ids.u1 = (await register(b, client, U1)).v.credentialId; // creates the vault (test PIN)
      const st = await b.vaultStatus();
      assert.equal(st.state, 'unlocked');
      assert.equal(st.count, 2, `the legacy record was imported: ${JSON.stringify(st)}`);
      assert.deepEqual(vaultKeys(await b.storageLocal()).cred, [], 'cred: records are removed after the import');
      const { v } = await signIn(b, client, LEGACY1);
      assert.equal(v.credentialId, ids.legacy1, 'the imported passkey signs with its original key');
    }));

    it('imports a plaintext record found at unlock', withLogs(ctx, async () => {
      assert.equal((await okOf(b, { type: 'vault-lock' })).state, 'locked');
      const legacy = legacyPasskey({ userName: LEGACY2, userHandle: randomB64u(16) });
      await b.setStorageLocal({ [legacy.key]: legacy.record });
      await rpAdoptPasskey(rp, client, { username: LEGACY2, userHandle: legacy.record.userHandle, ...legacy });
      ids.legacy2 = legacy.credentialId;
      await b.restartBackground(); // storage changed from outside: the worker reads it afresh
      const st = await okOf(b, { type: 'vault-unlock', pin: TEST_FLAVOR_PIN });
      assert.equal(st.state, 'unlocked');
      assert.equal(st.count, 3, `imported at unlock: ${JSON.stringify(st)}`);
      assert.deepEqual(vaultKeys(await b.storageLocal()).cred, []);
      const { v } = await signIn(b, client, LEGACY2);
      assert.equal(v.credentialId, ids.legacy2);
    }));

    it('stores nothing in plaintext: no user name, rpId, label, PIN, privateKey or PKCS#8 prefix; entries are {v, id, nonce, ct, rp, cred}', withLogs(ctx, async () => {
      ids.u2 = (await register(b, client, U2, { displayName: 'Victor Display E2E' })).v.credentialId;
      assert.equal((await okOf(b, { type: 'passkey-rename', credentialId: ids.u2, label: LABEL })), true);
      const list = await okOf(b, { type: 'list-passkeys' });
      assert.equal(list.find((p) => p.credentialId === ids.u2)?.label, LABEL, 'the label is in the list');

      const local = await b.storageLocal();
      const session = await b.storageSession();
      assertNoPlaintextSecrets(local, session, [U1, U2, LEGACY1, LEGACY2, 'Victor Display E2E', LABEL, 'localhost', rp.url, TEST_FLAVOR_PIN, 'Latchkey Demo RP'], 'test flavor');
      const k = vaultKeys(local);
      assert.equal(k.entries.length, 4, `one vault:e: entry per passkey: ${k.entries}`);
      assert.deepEqual(k.previous, [], 'no vault:p: left after answered changes');
      const header = parseStored(local['vault:header']);
      assert.equal(header.format, 'latchkey-vault');
      assert.equal(header.v, 1);
      assert.equal(typeof header.vaultId, 'string');
      assert.ok(Array.isArray(header.unlock) && header.unlock.length > 0, `unlock methods: ${JSON.stringify(header.unlock)}`);
      assert.deepEqual(parseStored(local['vault:header:backup']), header, 'the backup is the confirmed header');
      assert.equal(typeof session.vaultKey, 'string', 'unlocked: storage.session holds the key');
    }));

    it('vault-lock drops the key; list-passkeys answers Locked; vault-unlock answers WrongPin, then RateLimited (retryAfterMs)', withLogs(ctx, async () => {
      const st = await okOf(b, { type: 'vault-lock' });
      assert.equal(st.state, 'locked');
      assert.ok(!('vaultKey' in (await b.storageSession())), 'locked: no key in storage.session');
      await errorOf(b, { type: 'list-passkeys' }, 'Locked');

      // The first 3 failures cost no wait (docs/design.md, unlockDelayMs).
      for (let i = 1; i <= 3; i++) {
        const e = await errorOf(b, { type: 'vault-unlock', pin: `wrong-${i}` }, 'WrongPin');
        assert.ok(!e.retryAfterMs, `failure ${i}: no wait yet, got retryAfterMs ${e.retryAfterMs}`);
      }
      assert.equal(parseStored((await b.storageLocal())['vault:failures'])?.count, 3, 'vault:failures counts them');
      await errorOf(b, { type: 'vault-unlock', pin: 'wrong-4' }, 'WrongPin');
      // Now even the right PIN must wait.
      const limited = await errorOf(b, { type: 'vault-unlock', pin: TEST_FLAVOR_PIN }, 'RateLimited');
      assert.ok(limited.retryAfterMs > 0 && limited.retryAfterMs <= 1000, `retryAfterMs after 4 failures: ${limited.retryAfterMs}`);
      const st2 = await b.vaultStatus();
      assert.equal(st2.state, 'locked');
      assert.ok(st2.retryAfterMs > 0, `vault-status reports the wait: ${JSON.stringify(st2)}`);
      await new Promise((r) => setTimeout(r, limited.retryAfterMs + 100));
      const ok = await okOf(b, { type: 'vault-unlock', pin: TEST_FLAVOR_PIN });
      assert.equal(ok.state, 'unlocked');
      const f = parseStored((await b.storageLocal())['vault:failures']);
      assert.ok(!f || f.count === 0, `the right PIN resets the failures: ${JSON.stringify(f)}`);
    }));

    it('rename / delete (Recently deleted) / restore / purge; the RP verifies what is left', withLogs(ctx, async () => {
      await errorOf(b, { type: 'passkey-rename', credentialId: randomB64u(16), label: 'x' }, 'NotFound');
      assert.equal(await okOf(b, { type: 'passkey-rename', credentialId: ids.u2, label: '' }), true);
      let p = (await okOf(b, { type: 'list-passkeys' })).find((x) => x.credentialId === ids.u2);
      assert.ok(!p.label, `"" clears the label: ${JSON.stringify(p)}`);

      const before = await b.vaultStatus();
      assert.equal(await okOf(b, { type: 'passkey-delete', credentialId: ids.u1 }), true);
      const del = await b.vaultStatus();
      assert.equal(del.count, before.count - 1);
      assert.equal(del.deleted, (before.deleted ?? 0) + 1);
      p = (await okOf(b, { type: 'list-passkeys' })).find((x) => x.credentialId === ids.u1);
      assert.ok(p?.deletedAt, `a deleted passkey stays in Recently deleted: ${JSON.stringify(p)}`);
      const options = await client.loginOptions({ username: U1 });
      const r = await b.webauthn('get', options, { abortAfterMs: 8000 });
      assertError(r, 'NotAllowedError', 'sign-in with a deleted passkey');

      assert.equal(await okOf(b, { type: 'passkey-restore', credentialId: ids.u1 }), true);
      const { v } = await signIn(b, client, U1);
      assert.equal(v.credentialId, ids.u1, 'a restored passkey signs in again');

      assert.equal(await okOf(b, { type: 'passkey-delete', credentialId: ids.legacy2 }), true);
      assert.equal(await okOf(b, { type: 'passkey-purge', credentialId: ids.legacy2 }), true);
      const list = await okOf(b, { type: 'list-passkeys' });
      assert.ok(!list.some((x) => x.credentialId === ids.legacy2), 'purged: gone from the list');
      const st = await b.vaultStatus();
      assert.equal(st.count, 3);
      assert.equal(st.deleted, 0);
      assert.equal(vaultKeys(await b.storageLocal()).entries.length, 3, 'purged: its entry is gone from storage.local');
      for (const name of [U1, U2, LEGACY1]) await signIn(b, client, name);
    }));
  });
}
