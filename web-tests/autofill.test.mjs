// Passkey autofill (conditional mediation), NORMAL flavor, Chromium and Firefox: a login form
// whose username field has autocomplete="username webauthn" (rp/server.mjs /login.html).
// The menu lives in a closed shadow root the page cannot read, so the tests use it as a keyboard
// user does (ArrowDown/ArrowUp/Enter/Escape, real key events); the RP verifies every assertion.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, assertOk, assertError, assertVerified } from './harness/support.mjs';
import { okOf } from './harness/vault.mjs';

const PIN = '9753 elm';
// The menu's entries arrive from the service worker after the field gets the focus.
const MENU_SETTLE_MS = 800;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const B of BROWSERS) {
  describe(`autofill (conditional mediation), normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });
    const users = {};

    async function saveThroughPrompt(username, displayName) {
      const options = await client.registerOptions({ username, displayName, userVerification: 'discouraged' });
      const call = await b.startWebauthn('create', options);
      const prompt = await b.waitForPrompt();
      await prompt.click('Save passkey in Latchkey');
      const r = await call.result();
      assertOk(r, `create for ${username}`);
      assertVerified(await client.registerVerify(r.ok), `registration of ${username}`);
      await prompt.waitForClose(5000);
      users[username] = options.user.id;
    }

    /** A conditional get on /login.html; the field is focused by a real click. */
    async function startConditional(opts = {}) {
      await b.goto(`${rp.url}/login.html`);
      const options = await client.loginOptions({ userVerification: opts.userVerification ?? 'discouraged' });
      const call = await b.startWebauthn('get', options, { mediation: 'conditional', abortAfterMs: opts.abortAfterMs ?? 60000, abortReason: opts.abortReason });
      await b.click('#username');
      await sleep(MENU_SETTLE_MS);
      return call;
    }

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch({ flavor: 'normal' });
      await b.goto(`${rp.url}/raw.html`);
      await okOf(b, { type: 'vault-create', pin: PIN });
      await saveThroughPrompt('fay', 'Fay Autofill');
      await saveThroughPrompt('gus', 'Gus Autofill');
      await saveThroughPrompt('hal', 'Hal Autofill');
    }));
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    it('isConditionalMediationAvailable() is true while Latchkey serves the site', withLogs(ctx, async () => {
      await b.goto(`${rp.url}/login.html`);
      let v = null;
      for (let i = 0; i < 40 && !v; i++) {
        v = await b.evaluate('document.body.dataset.cma || null');
        if (!v) await sleep(50);
      }
      assert.equal(v, 'true');
    }));

    it('keyboard: ArrowDown ×2, ArrowUp, ArrowDown, Enter picks the second account (newest first); the RP verifies; the form is not submitted', withLogs(ctx, async () => {
      const call = await startConditional();
      assert.equal(await call.peek(), null, 'the conditional request waits for the person');
      for (const k of ['ArrowDown', 'ArrowDown', 'ArrowDown', 'ArrowUp', 'Enter']) await b.press(k);
      const r = await call.result(15000);
      assertOk(r, 'conditional get');
      const v = await client.loginVerify(r.ok);
      assertVerified(v, 'autofill sign-in');
      // Newest first: hal, gus, fay → ArrowDown ×3 = fay, ArrowUp = gus.
      assert.equal(v.username, 'gus', JSON.stringify(v));
      assert.equal(r.ok.response.userHandle, users.gus);
      assert.equal(v.userVerified, false, 'no PIN was entered: no UV');
      assert.equal(await b.evaluate('document.body.dataset.submitted || null'), null, 'Enter on the menu did not submit the page\'s form');
    }));

    it('synthetic (untrusted) key events from the page cannot choose; Escape closes the menu; the abort signal ends the request with AbortError', withLogs(ctx, async () => {
      const call = await startConditional({ abortAfterMs: 6000 });
      await b.evaluate(`(() => {
        const f = document.getElementById('username');
        for (const key of ['ArrowDown', 'Enter']) f.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
        return true;
      })()`);
      await sleep(500);
      assert.equal(await call.peek(), null, 'page-made key events chose nothing');
      await b.press('Escape');
      await b.press('Enter'); // menu closed: Enter is the page's again
      await sleep(300);
      assert.equal(await call.peek(), null, 'Escape closed the menu: Enter chose nothing');
      const r = await call.result(15000);
      assertError(r, 'AbortError', 'aborted conditional get');
      assert.equal(await b.evaluate('document.body.dataset.submitted || null'), '1', 'Enter after Escape went to the page');
    }));

    it('the worker restarts while a conditional request waits: the relay sends it again on a new port; the menu still signs in', withLogs(ctx, async () => {
      const call = await startConditional();
      assert.equal(await call.peek(), null, 'the conditional request waits for the person');
      await b.press('Escape'); // the menu the click opened
      await b.restartBackground(); // the relay's port closes with the worker
      await sleep(1000);
      assert.equal(await call.peek(), null, 'the request did not fail with the worker');
      // Reopen the menu: its list comes from the new worker, which knows the request only if the
      // relay sent it again.
      await b.press('ArrowDown');
      await sleep(MENU_SETTLE_MS);
      await b.press('ArrowDown');
      await b.press('Enter');
      const r = await call.result(15000);
      assertOk(r, 'conditional get after a worker restart');
      const v = await client.loginVerify(r.ok);
      assertVerified(v, 'autofill sign-in after a worker restart');
      assert.equal(v.username, 'hal', JSON.stringify(v)); // newest first
    }));

    it('abort with a reason: the promise rejects with the signal\'s reason itself', withLogs(ctx, async () => {
      const call = await startConditional({ abortAfterMs: 1500, abortReason: 'PageReason' });
      const r = await call.result(15000);
      assert.ok(r.error, JSON.stringify(r));
      assert.equal(r.error.name, 'PageReason');
      assert.equal(r.error.isReason, true, 'the very reason object');
    }));

    it('locked: the menu offers "Unlock Latchkey" → the unlock prompt → the picker → signed in with UV', withLogs(ctx, async () => {
      await okOf(b, { type: 'vault-lock' });
      const call = await startConditional();
      await b.press('ArrowDown');
      await b.press('Enter');
      const prompt = await b.waitForPrompt();
      await prompt.fill('PIN', PIN);
      await prompt.click('Unlock');
      await prompt.check('Fay Autofill');
      await prompt.click('Sign in');
      const r = await call.result(15000);
      assertOk(r, 'conditional get after unlocking');
      const v = await client.loginVerify(r.ok);
      assertVerified(v, 'sign-in after unlock');
      assert.equal(v.username, 'fay');
      assert.equal(v.userVerified, true, 'the PIN was entered for this request');
    }));

    it('userVerification "required": choosing an account asks for the PIN (for that account only)', withLogs(ctx, async () => {
      const call = await startConditional({ userVerification: 'required' });
      await b.press('ArrowDown');
      await b.press('Enter'); // hal
      const prompt = await b.waitForPrompt();
      await prompt.waitForField('PIN');
      assert.match(await prompt.text(), /Hal Autofill/);
      assert.doesNotMatch(await prompt.text(), /Gus Autofill/, 'only the chosen account');
      await prompt.fill('PIN', PIN);
      await prompt.click('Sign in');
      const r = await call.result(15000);
      assertOk(r, 'conditional get with UV');
      const v = await client.loginVerify(r.ok);
      assertVerified(v, 'UV sign-in');
      assert.equal(v.username, 'hal');
      assert.equal(v.userVerified, true);
    }));
  });
}
