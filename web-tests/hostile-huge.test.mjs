// Huge inputs (TEST flavor), in Chromium and Firefox: 10 MB challenge, user.id, rp.name (2 MB user.name, displayName);
// 100 000-entry excludeCredentials/allowCredentials; deeply nested extensions (through the shim and
// forged straight to the relay). Each call settles with the spec's error or a sane, bounded result
// (docs/design.md "Hostile input": the caps); afterwards the vault is intact, no stored entry is
// huge, and a normal request works at once.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, register, signIn, assertError, rawCreateOptions, rawGetOptions, randomB64u } from './harness/support.mjs';
import { vaultKeys, okOf } from './harness/vault.mjs';
import { inPage, assertVaultIntact } from './harness/hostile.mjs';

const MB10 = 10 * 1024 * 1024;
const big = (n) => randomB64u(n);
const bigText = (n) => 'x'.repeat(n);
const NODE_BOUND = { nodeTimeoutMs: 90000, abortAfterMs: 80000 };

for (const B of BROWSERS) {
  describe(`hostile huge inputs [${B.name}]`, { timeout: SUITE_TIMEOUT_MS * 2 }, () => {
    let rp, b, client;
    let count = 0;
    const ctx = () => ({ b, rp });
    const table = [];
    const outcome = (r) => (r.ok ? 'ok' : r.error?.name);

    before(async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch();
      await b.goto(`${rp.url}/raw.html`);
      await register(b, client, 'witness');
      count = 1;
    });
    after(async () => {
      console.log(`[huge] ${B.name}:\n  ${table.join('\n  ')}`);
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    const tryCreate = async (what, patch) => {
      const t0 = Date.now();
      const r = await b.webauthn('create', rawCreateOptions(patch), NODE_BOUND);
      table.push(`${what}: ${outcome(r)}${r.error ? ` (${r.error.message.slice(0, 120)})` : ''} in ${Date.now() - t0} ms`);
      if (r.ok) count++;
      return r;
    };

    it('10 MB user.id → TypeError (1–64 bytes)', withLogs(ctx, async () => {
      assertError(await tryCreate('10 MB user.id', (o) => { o.user.id = big(MB10); }), 'TypeError', '10 MB user.id');
    }));

    it('10 MB challenge (create and get) → TypeError (Latchkey\'s cap), the SW survives', withLogs(ctx, async () => {
      assertError(await tryCreate('10 MB challenge', (o) => { o.challenge = big(MB10); }), 'TypeError', 'create with a 10 MB challenge');
      const t0 = Date.now();
      const g = await b.webauthn('get', rawGetOptions((o) => { o.challenge = big(MB10); }), NODE_BOUND);
      table.push(`get 10 MB challenge: ${outcome(g)} in ${Date.now() - t0} ms`);
      assertError(g, 'TypeError', 'get with a 10 MB challenge');
    }));

    it('10 MB rp.name, 2 MB user names → TypeError (request cap); 300 kB names → truncated to 256 bytes; entries stay small', withLogs(ctx, async () => {
      for (const [what, patch] of [
        ['10 MB rp.name', (o) => { o.rp.name = bigText(MB10); }],
        // (2 MB for the other two names: past the 1 MiB cap all the same, and quicker to ship.)
        ['2 MB user.name', (o) => { o.user.name = bigText(2 * 1024 * 1024); }],
        ['2 MB user.displayName', (o) => { o.user.displayName = 'é'.repeat(1024 * 1024); }],
      ]) {
        assertError(await tryCreate(what, patch), 'TypeError', what);
      }
      const r = await tryCreate('300 kB rp.name, user.name, displayName', (o) => {
        o.rp.name = bigText(300000);
        o.user.name = bigText(300000);
        o.user.displayName = 'é'.repeat(100000);
      });
      assert.ok(r.ok, `300 kB names: ${JSON.stringify(r.error)}`);
      const list = await okOf(b, { type: 'list-passkeys' });
      const p = list.find((x) => x.credentialId === r.ok.id);
      assert.equal(p.rpName.length, 256);
      assert.equal(p.userName.length, 256);
      assert.equal(p.userDisplayName, 'é'.repeat(128));
      const storage = await b.storageLocal();
      const sizes = Object.entries(storage).filter(([k]) => k.startsWith('vault:e:')).map(([, v]) => JSON.stringify(v).length);
      assert.equal(sizes.length, vaultKeys(storage).entries.length);
      const largest = Math.max(...sizes);
      table.push(`largest stored vault entry after the 10 MB names: ${largest} characters`);
      assert.ok(largest < 16 * 1024, `a stored vault entry is ${largest} characters: the names were not capped`);
    }));

    it('100 000 excludeCredentials / allowCredentials entries → an error or a result, bounded', withLogs(ctx, async () => {
      const list = Array.from({ length: 100000 }, () => ({ type: 'public-key', id: randomB64u(16) }));
      const c = await tryCreate('100k excludeCredentials', (o) => { o.excludeCredentials = list; });
      assert.ok(c.ok || c.error?.name === 'TypeError', `100k excludeCredentials: ${JSON.stringify(c.error)}`);
      const t0 = Date.now();
      const g = await b.webauthn('get', rawGetOptions((o) => { o.allowCredentials = list; }), NODE_BOUND);
      table.push(`100k allowCredentials: ${outcome(g)} in ${Date.now() - t0} ms`);
      assert.ok(g.error?.name === 'TypeError' || g.error?.name === 'NotAllowedError', `100k allowCredentials: ${JSON.stringify(g.error ?? 'a credential')}`);
    }));

    it('deeply nested extensions (through the shim, and forged to the relay) → dropped or TypeError', withLogs(ctx, async () => {
      const r = await inPage(b, `async (depth, challenge, userId) => {
        const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
        let deep = {};
        for (let i = 0; i < depth; i++) deep = { a: deep };
        const out = {};
        try {
          const c = await navigator.credentials.create({ publicKey: { challenge: b64(challenge), rp: { name: 'n' },
            user: { id: b64(userId), name: 'deep', displayName: 'Deep' }, pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
            authenticatorSelection: { residentKey: 'required', userVerification: 'discouraged' },
            extensions: { deep, credProps: true, prf: { eval: { first: new Uint8Array(32) }, deep } } } });
          out.shim = 'ok ' + JSON.stringify(c.getClientExtensionResults().credProps);
        } catch (e) { out.shim = e.name; }
        // Straight to the relay (bypassing the shim's conversion): the relay's JSON copy overflows.
        let deep2 = {};
        for (let i = 0; i < 5000; i++) deep2 = { a: deep2 };
        try { postMessage({ __latchkey: 'req', id: 'deepforged', kind: 'get', options: { challenge, extensions: { deep: deep2 } } }, '*'); } catch (e) { out.forged = e.name; }
        await new Promise((r) => setTimeout(r, 1500));
        return out;
      }`, 100000, randomB64u(32), randomB64u(16));
      table.push(`deeply nested extensions via the shim: ${r.shim}`);
      assert.match(r.shim, /^ok|^TypeError|^RangeError/);
      if (r.shim.startsWith('ok')) count++;
    }));

    it('the service worker answers at once and the vault is intact', withLogs(ctx, async () => {
      const t0 = Date.now();
      assertOkQuick(await b.webauthn('create', rawCreateOptions()), 'a normal create after the huge inputs');
      count++;
      table.push(`normal create afterwards: ${Date.now() - t0} ms`);
      await assertVaultIntact(b, { count, what: 'after the huge inputs' });
      await signIn(b, client, 'witness');
    }));
  });
}

function assertOkQuick(r, what) {
  assert.ok(r.ok, `${what}: ${JSON.stringify(r.error)}`);
}
