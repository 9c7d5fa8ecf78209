// A site flow beyond our own calls: @simplewebauthn/browser's
// startAuthentication({optionsJSON, useBrowserAutofill: true}) on /autofill-swa.html (the page fetches
// its options from the RP, starts the conditional get, and posts the answer back for verification),
// NORMAL flavor, Chromium and Firefox. The library first asks browserSupportsWebAuthnAutofill()
// (isConditionalMediationAvailable) and aborts any earlier ceremony with its own AbortController.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, assertOk, assertVerified } from './harness/support.mjs';
import { okOf } from './harness/vault.mjs';

const PIN = '4826 pine';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const B of BROWSERS) {
  describe(`@simplewebauthn/browser autofill, normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const sid = crypto.randomBytes(9).toString('base64url');
    const ctx = () => ({ b, rp });

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url, sid);
      b = await B.launch({ flavor: 'normal' });
      await b.goto(`${rp.url}/raw.html`);
      await okOf(b, { type: 'vault-create', pin: PIN });
      for (const [username, displayName] of [['lib-one', 'Lib One'], ['lib-two', 'Lib Two']]) {
        const options = await client.registerOptions({ username, displayName, userVerification: 'discouraged' });
        const call = await b.startWebauthn('create', options);
        const prompt = await b.waitForPrompt();
        await prompt.click('Save passkey in Latchkey');
        const r = await call.result();
        assertOk(r, `create for ${username}`);
        assertVerified(await client.registerVerify(r.ok), `registration of ${username}`);
        await prompt.waitForClose(5000);
      }
    }));
    after(async () => {
      await b?.close();
      await rp?.close();
    });

    it('browserSupportsWebAuthnAutofill() is true; the menu (ArrowDown, ArrowDown, Enter) signs in lib-one; the RP verifies', withLogs(ctx, async () => {
      await b.goto(`${rp.url}/autofill-swa.html?session=${sid}`);
      let ready = null;
      for (let i = 0; i < 100 && !ready; i++) {
        ready = await b.evaluate('document.body.dataset.ready || null');
        if (!ready) await sleep(50);
      }
      assert.equal(ready, '1', 'the page started its autofill ceremony');
      assert.equal(await b.evaluate('document.body.dataset.autofillSupported || null'), 'true');
      await b.click('#username');
      await sleep(800);
      for (const k of ['ArrowDown', 'ArrowDown', 'Enter']) await b.press(k); // newest first: lib-two, lib-one
      const text = await b.waitForText('#result', /\S/, 15000);
      const out = JSON.parse(text);
      assert.ok(out.ok, `the library's ceremony failed: ${text}`);
      assert.equal(out.verified?.verified, true, `the RP verified: ${text}`);
      assert.equal(out.verified.username, 'lib-one');
    }));
  });
}
