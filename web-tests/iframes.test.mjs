// Cross-origin iframes, NORMAL flavor, Chromium and Firefox: a page on one origin (rp A) embeds a
// page of another origin (rp B: same host "localhost", another port). With
// allow="publickey-credentials-create; publickey-credentials-get" the frame creates and signs in
// through the prompt, clientDataJSON says crossOrigin: true and topOrigin: A, and B's RP verifies;
// without it both end in NotAllowedError at once, with no prompt.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, assertOk, assertError, assertVerified, clientData } from './harness/support.mjs';
import { okOf } from './harness/vault.mjs';

const PIN = '1593 ash';
const ALLOW = 'publickey-credentials-create; publickey-credentials-get';
const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

for (const B of BROWSERS) {
  describe(`cross-origin iframes, normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let top, child, b, client;
    const ctx = () => ({ b, rp: child });

    /** Load the host page with the child frame set up for `kind`; click "Run" in the frame (user activation). */
    async function runInFrame(kind, options, allow, { auto = false } = {}) {
      const childUrl = `${child.url}/frame-child.html#${enc({ kind, options, opts: { abortAfterMs: 20000, auto } })}`;
      const q = new URLSearchParams({ child: childUrl });
      if (allow !== null) q.set('allow', allow);
      await b.goto(`${top.url}/frame-host.html?${q}`);
      const t0 = Date.now();
      if (!auto) await b.clickInFrame('#child', '#run');
      return {
        t0,
        async result(timeoutMs = 20000) {
          const text = await b.waitForText('#result', /\S/, timeoutMs);
          return JSON.parse(text);
        },
      };
    }

    before(withLogs(ctx, async () => {
      top = await startRp({ port: 0 });
      child = await startRp({ port: 0 });
      child.allowTopOrigin(top.url);
      client = rpClient(child.url);
      b = await B.launch({ flavor: 'normal' });
      await b.goto(`${top.url}/raw.html`);
      await okOf(b, { type: 'vault-create', pin: PIN });
    }));
    after(async () => {
      await b?.close();
      await top?.close();
      await child?.close();
    });

    it(`with allow="${ALLOW}": create and get work; clientDataJSON has crossOrigin true and topOrigin; the RP verifies`, withLogs(ctx, async () => {
      const reg = await client.registerOptions({ username: 'ivy', userVerification: 'discouraged' });
      const run = await runInFrame('create', reg, ALLOW);
      const prompt = await b.waitForPrompt();
      const promptText = await prompt.text();
      assert.ok(promptText.includes(`asked by ${child.url} in a frame on ${top.url}`), `the prompt names the frame and the site around it: ${promptText}`);
      await prompt.click('Save passkey in Latchkey');
      const r = await run.result();
      assertOk(r, 'create in the cross-origin frame');
      const cd = clientData(r.ok);
      assert.equal(cd.origin, child.url);
      assert.equal(cd.crossOrigin, true);
      assert.equal(cd.topOrigin, top.url);
      assertVerified(await client.registerVerify(r.ok), 'registration from the frame');

      const login = await client.loginOptions({ username: 'ivy', userVerification: 'discouraged' });
      const run2 = await runInFrame('get', login, ALLOW);
      const p2 = await b.waitForPrompt();
      await p2.click('Sign in');
      const r2 = await run2.result();
      assertOk(r2, 'get in the cross-origin frame');
      const cd2 = clientData(r2.ok);
      assert.equal(cd2.crossOrigin, true);
      assert.equal(cd2.topOrigin, top.url);
      assertVerified(await client.loginVerify(r2.ok), 'sign-in from the frame');
    }));

    it('without allow: create and get → NotAllowedError at once, no prompt', withLogs(ctx, async () => {
      for (const kind of ['create', 'get']) {
        const options = kind === 'create'
          ? await client.registerOptions({ username: 'ivy2', userVerification: 'discouraged' })
          : await client.loginOptions({ username: 'ivy', userVerification: 'discouraged' });
        const run = await runInFrame(kind, options, null);
        const r = await run.result();
        assertError(r, 'NotAllowedError', `${kind} without permission`);
        assert.ok(r.ms < 3000, `${kind}: answered after ${r.ms} ms`);
      }
      await assert.rejects(b.waitForPrompt({ timeoutMs: 500 }), /no new Latchkey prompt/, 'no prompt opened');
    }));

    it('with allow but without a user activation in the frame: create → NotAllowedError, no prompt (get needs none)', withLogs(ctx, async () => {
      const run = await runInFrame('create', await client.registerOptions({ username: 'ivy4', userVerification: 'discouraged' }), ALLOW, { auto: true });
      const r = await run.result();
      assertError(r, 'NotAllowedError', 'create without user activation');
      assert.match(r.error.message, /user activation/);
      await assert.rejects(b.waitForPrompt({ timeoutMs: 500 }), /no new Latchkey prompt/, 'no prompt opened');
      const run2 = await runInFrame('get', await client.loginOptions({ username: 'ivy', userVerification: 'discouraged' }), ALLOW, { auto: true });
      const p = await b.waitForPrompt();
      await p.click('Sign in');
      const r2 = await run2.result();
      assertOk(r2, 'get at load (no activation needed)');
      assertVerified(await client.loginVerify(r2.ok), 'sign-in at load');
    }));

    it('allow for get only: get works, create → NotAllowedError', withLogs(ctx, async () => {
      const run = await runInFrame('create', await client.registerOptions({ username: 'ivy3', userVerification: 'discouraged' }), 'publickey-credentials-get');
      assertError(await run.result(), 'NotAllowedError', 'create with only the get permission');
      const run2 = await runInFrame('get', await client.loginOptions({ username: 'ivy', userVerification: 'discouraged' }), 'publickey-credentials-get');
      const p = await b.waitForPrompt();
      await p.click('Sign in');
      const r = await run2.result();
      assertOk(r, 'get with the get permission');
      assertVerified(await client.loginVerify(r.ok), 'sign-in with the get permission');
    }));
  });
}
