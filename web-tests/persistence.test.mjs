// Passkeys outlive the extension's background and the browser itself (TEST flavor).
//
// Background restart:
//   Chromium: CDP ServiceWorker.stopAllWorkers; the next request wakes the worker, which must
//             rebuild its state from storage.local.
//   Firefox:  the background (an event page in Firefox) is terminated the way about:debugging's
//             "Terminate background script" does it (ExtensionParent … terminateBackground(), from
//             the chrome context geckodriver allows with --allow-system-access).
// Browser restart: the same profile is reopened (Chromium: same user-data-dir; Firefox: the same
// `-profile` dir, the temporary add-on re-installed with keepStorageOnUninstall/keepUuidOnUninstall).
// The RP keeps running, so its record of the passkey is the one registered before the restart.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, register, signIn } from './harness/support.mjs';
import { okOf } from './harness/vault.mjs';

for (const B of BROWSERS) {
  describe(`persistence [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });
    const creds = {};

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch();
      await b.goto(`${rp.url}/raw.html`);
      // Registered before any restart; used by every test below.
      creds.alice = (await register(b, client, 'alice', { userVerification: 'required' })).v;
      creds.bob = (await register(b, client, 'bob')).v;
    }));
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    it('signs in after the background (service worker) is stopped', withLogs(ctx, async () => {
      const r = await b.restartBackground();
      assert.equal(r.after, 'stopped', `the background did not stop: ${JSON.stringify(r)}`);
      // A page loaded before the restart keeps working (its content script reconnects).
      const { v } = await signIn(b, client, 'alice', { userVerification: 'required' });
      assert.equal(v.credentialId, creds.alice.credentialId);
      assert.equal(v.userVerified, true);
    }));

    it('signs in (discoverable) after another background restart, from a fresh page', withLogs(ctx, async () => {
      await b.restartBackground();
      await b.goto(`${rp.url}/raw.html?after-sw-restart`);
      const { v } = await signIn(b, client, null);
      assert.ok(['alice', 'bob'].includes(v.username));
      const { v: vb } = await signIn(b, client, 'bob');
      assert.equal(vb.credentialId, creds.bob.credentialId);
    }));

    it('registers right after a background restart', withLogs(ctx, async () => {
      await b.restartBackground();
      creds.carol = (await register(b, client, 'carol')).v;
      const { v } = await signIn(b, client, 'carol');
      assert.equal(v.credentialId, creds.carol.credentialId);
    }));

    // A get's lastUsed waits in the core and is stored by one flush at most 500 ms later
    // (docs/design.md "Deferred metadata"); a rename right after it must not be undone by it.
    it('lastUsed reaches storage after a sign-in; a rename right after a sign-in survives the flush and a restart', withLogs(ctx, async () => {
      const bobOf = async () => (await okOf(b, { type: 'list-passkeys' })).find((p) => p.userName === 'bob' && p.deletedAt === null);
      const t0 = Date.now();
      await signIn(b, client, 'bob');
      const bob = await bobOf();
      assert.ok(bob, 'bob is listed');
      await okOf(b, { type: 'passkey-rename', credentialId: bob.credentialId, label: 'renamed after a sign-in' });
      await new Promise((r) => setTimeout(r, 1500)); // past the flush
      await b.restartBackground();
      const stored = await bobOf();
      assert.equal(stored.label, 'renamed after a sign-in', 'the rename was not undone by the lastUsed write');
      assert.ok(typeof stored.lastUsed === 'number' && stored.lastUsed >= t0 - 1000, `lastUsed stored: ${stored.lastUsed}`);

      // A sign-in alone: its lastUsed is stored by the flush (read back after a restart).
      const t1 = Date.now();
      await signIn(b, client, 'bob');
      await new Promise((r) => setTimeout(r, 1500));
      await b.restartBackground();
      const again = await bobOf();
      assert.ok(again.lastUsed >= t1 - 1000 && again.lastUsed > stored.lastUsed, `lastUsed advanced: ${stored.lastUsed} → ${again.lastUsed}`);
      assert.equal(again.label, 'renamed after a sign-in');
    }));

    it('signs in after a browser restart with the same profile', withLogs(ctx, async () => {
      await b.restartBrowser();
      await b.goto(`${rp.url}/raw.html?after-browser-restart`);
      for (const name of ['alice', 'bob', 'carol']) {
        const { v } = await signIn(b, client, name);
        assert.equal(v.credentialId, creds[name].credentialId, `${name}'s passkey from before the restart`);
      }
      const { v } = await signIn(b, client, null);
      assert.ok(['alice', 'bob', 'carol'].includes(v.username));
    }));

    it('excludeCredentials still sees the passkeys after the restart (InvalidStateError)', withLogs(ctx, async () => {
      const options = await client.registerOptions({ username: 'alice' });
      const r = await b.webauthn('create', options);
      assert.equal(r.error?.name, 'InvalidStateError', `got ${JSON.stringify(r.error ?? 'a credential')}`);
    }));
  });
}
