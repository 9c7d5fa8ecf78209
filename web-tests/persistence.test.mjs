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
