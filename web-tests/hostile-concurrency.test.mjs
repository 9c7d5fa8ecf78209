// Thousands of concurrent requests (TEST flavor), in Chromium and Firefox: 2000 create/get calls
// started at once from one page, then 200 from each of three tabs at the same time. Every promise
// settles (a credential or NotAllowedError: Latchkey keeps at most 16 modal requests pending per
// tab, docs/design.md "Hostile input"), the service worker answers a normal request at once
// afterwards, and the vault's count grows by exactly the creates that succeeded.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, register, signIn, rawCreateOptions, randomB64u } from './harness/support.mjs';
import { inPage, assertVaultIntact } from './harness/hostile.mjs';

const N = Number(process.env.HOSTILE_CONCURRENCY || 2000);

// Starts n calls at once (half create, half get), waits for all to settle (bounded), and reports.
const FLOOD = `async (n, tag, users, challenges) => {
  const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const t0 = performance.now();
  const calls = [];
  for (let i = 0; i < n; i++) {
    const challenge = b64(challenges[i % challenges.length]);
    const p = i % 2 === 0
      ? navigator.credentials.create({ publicKey: { challenge, rp: { name: 'Flood' },
          user: { id: b64(users[i % users.length]), name: tag + '-' + i, displayName: 'Flood ' + i },
          pubKeyCredParams: [{ type: 'public-key', alg: -7 }], timeout: 60000,
          authenticatorSelection: { residentKey: 'required', userVerification: 'discouraged' } } })
      : navigator.credentials.get({ publicKey: { challenge, timeout: 60000, userVerification: 'discouraged' } });
    calls.push(p.then((c) => ({ ok: true, kind: i % 2 === 0 ? 'create' : 'get' }), (e) => ({ error: e.name + ': ' + e.message, kind: i % 2 === 0 ? 'create' : 'get' })));
  }
  const bound = new Promise((r) => setTimeout(() => r('unsettled'), 120000));
  const results = await Promise.race([Promise.all(calls), bound]);
  if (results === 'unsettled') {
    return { unsettled: true };
  }
  const out = { ms: Math.round(performance.now() - t0), createOk: 0, getOk: 0, errors: {} };
  for (const r of results) {
    if (r.ok) out[r.kind + 'Ok']++;
    else out.errors[r.error.split(':')[0]] = (out.errors[r.error.split(':')[0]] || 0) + 1;
    if (!r.ok && !out.sample) out.sample = r.error;
  }
  return out;
}`;

for (const B of BROWSERS) {
  describe(`hostile concurrency [${B.name}]`, { timeout: SUITE_TIMEOUT_MS * 2 }, () => {
    let rp, b, client;
    let count = 0;
    const ctx = () => ({ b, rp });

    before(async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch();
      await b.goto(`${rp.url}/raw.html`);
      await register(b, client, 'witness');
      count = 1;
    });
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    const args = (n) => [n, `flood${Date.now()}`, Array.from({ length: n }, () => randomB64u(16)), Array.from({ length: 64 }, () => randomB64u(32))];

    it(`${N} concurrent create/get calls from one page all settle; the count matches the successful creates`, withLogs(ctx, async () => {
      const r = await inPage(b, FLOOD, ...args(N));
      assert.ok(!r.unsettled, `some of the ${N} calls did not settle within 120 s`);
      console.log(`[concurrency] ${B.name}: ${N} calls settled in ${r.ms} ms: ${r.createOk} creates ok, ${r.getOk} gets ok, errors ${JSON.stringify(r.errors)}; e.g. ${r.sample}`);
      for (const name of Object.keys(r.errors)) assert.equal(name, 'NotAllowedError', `unexpected error kind: ${JSON.stringify(r.errors)} (${r.sample})`);
      assert.ok(r.createOk > 0, 'some creates succeeded');
      count += r.createOk;
      await assertVaultIntact(b, { count, what: `after ${N} concurrent calls` });
    }));

    it('three tabs × 200 concurrent calls all settle; the count matches', withLogs(ctx, async () => {
      // Extra tabs: Chromium pages of the same context; Firefox: window handles (one at a time in
      // WebDriver, so each tab's flood is started without waiting and collected afterwards).
      let results;
      if (B.name === 'chromium') {
        const pages = [];
        for (let i = 0; i < 3; i++) {
          const p = await b.context.newPage();
          await p.goto(`${rp.url}/raw.html?tab=${i}`);
          pages.push(p);
        }
        results = await Promise.all(pages.map((p) => p.evaluate(`(${FLOOD})(...${JSON.stringify(args(200))})`)));
        for (const p of pages) await p.close();
      } else {
        const d = b.driver;
        const main = await d.getWindowHandle();
        const handles = [];
        for (let i = 0; i < 3; i++) {
          await d.switchTo().newWindow('tab');
          await d.get(`${rp.url}/raw.html?tab=${i}`);
          handles.push(await d.getWindowHandle());
          const a = args(200);
          await d.executeScript(`const s = document.createElement('script'); s.textContent = '(' + arguments[0] + ')(...' + JSON.stringify(arguments[1]) + ').then((r) => document.documentElement.setAttribute("data-flood", JSON.stringify(r)))'; document.documentElement.append(s);`, FLOOD, a);
        }
        results = [];
        for (const h of handles) {
          await d.switchTo().window(h);
          const deadline = Date.now() + 130000;
          let v = null;
          while (Date.now() < deadline && !(v = await d.executeScript('return document.documentElement.getAttribute("data-flood")'))) await new Promise((r) => setTimeout(r, 100));
          results.push(v ? JSON.parse(v) : { unsettled: true });
          await d.close();
        }
        await d.switchTo().window(main);
      }
      for (const r of results) {
        assert.ok(!r.unsettled, 'a tab\'s calls did not settle');
        for (const name of Object.keys(r.errors)) assert.equal(name, 'NotAllowedError', JSON.stringify(r.errors));
        count += r.createOk;
      }
      console.log(`[concurrency] ${B.name}: 3 tabs × 200: ${results.map((r) => `${r.createOk}+${r.getOk} ok in ${r.ms} ms`).join(', ')}`);
      await assertVaultIntact(b, { count, what: 'after three flooding tabs' });
    }));

    it('the service worker answers a normal request at once; the first passkey still signs in', withLogs(ctx, async () => {
      const t0 = Date.now();
      const r = await b.webauthn('create', rawCreateOptions());
      assert.ok(r.ok, JSON.stringify(r.error));
      count++;
      console.log(`[concurrency] ${B.name}: a normal create right after: ${Date.now() - t0} ms`);
      await signIn(b, client, 'witness');
      await assertVaultIntact(b, { count, what: 'end' });
    }));
  });
}
