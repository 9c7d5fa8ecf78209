// Proxy mode (docs/design.md, "Proxy mode"), NORMAL flavor. Chromium: with the `proxyMode` setting
// (options page checkbox) Latchkey attaches as chrome.webAuthenticationProxy; modal create/get reach
// it from the browser and the page gets the browser's own PublicKeyCredential (no own properties),
// still through Latchkey's prompt: save, picker, cancel, abort (onRequestCanceled → the prompt
// closes), "another device" (cannot be handed back: NotAllowedError, never a hang); autofill keeps
// working (MAIN world); switching it off goes back to the MAIN-world path. Firefox: no such API —
// the checkbox is not offered and requests keep using the MAIN-world path.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, assertOk, assertError, assertVerified } from './harness/support.mjs';
import { OPTIONS_PATH } from './harness/prompt.mjs';
import { okOf } from './harness/vault.mjs';

const PIN = '3579 oak';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const B of BROWSERS) {
  describe(`proxy mode, normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client, options;
    const ctx = () => ({ b, rp });

    async function waitProxy(attached) {
      for (let i = 0; i < 100; i++) {
        const st = await b.vaultStatus();
        if (st.proxy?.attached === attached) return st;
        await sleep(50);
      }
      throw new Error(`proxy never became attached=${attached}: ${JSON.stringify((await b.vaultStatus()).proxy)}`);
    }

    async function save(username, displayName) {
      const reg = await client.registerOptions({ username, displayName, userVerification: 'discouraged' });
      const call = await b.startWebauthn('create', reg);
      const prompt = await b.waitForPrompt();
      await prompt.click('Save passkey in Latchkey');
      const r = await call.result();
      assertOk(r, `create for ${username}`);
      assertVerified(await client.registerVerify(r.ok), `registration of ${username}`);
      await prompt.waitForClose(5000);
      return r;
    }

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch({ flavor: 'normal' });
      await b.goto(`${rp.url}/raw.html`);
      await okOf(b, { type: 'vault-create', pin: PIN });
      options = await b.openExtensionPage(OPTIONS_PATH);
    }));
    after(async () => {
      await options?.close().catch(() => {});
      await b?.close();
      await rp?.close();
    });

    if (B.name !== 'chromium') {
      it('Firefox: no webAuthenticationProxy — no proxy checkbox; proxyMode set anyway changes nothing (MAIN world)', withLogs(ctx, async () => {
        const st = await b.vaultStatus();
        assert.deepEqual(st.proxy, { available: false, attached: false, error: null });
        await options.waitForButton('Add site');
        assert.equal(await options.hasField('Answer passkey requests as the browser\'s WebAuthn proxy'), false);
        await okOf(b, { type: 'settings-set', proxyMode: true });
        await b.goto(`${rp.url}/raw.html`);
        const r = await save('fox', 'Fox Proxy');
        assert.ok(r.info.ownProps > 0, 'the shim built the credential (MAIN world)');
        await okOf(b, { type: 'settings-set', proxyMode: false });
      }));
      return;
    }

    it('the options checkbox attaches the proxy; create goes through it (native PublicKeyCredential, toJSON works) and the RP verifies', withLogs(ctx, async () => {
      assert.equal((await b.vaultStatus()).proxy.attached, false, 'off by default');
      await options.check('Answer passkey requests as the browser\'s WebAuthn proxy');
      await waitProxy(true);
      if (b.page) await b.page.bringToFront();
      await b.goto(`${rp.url}/raw.html`);
      const r = await save('pia', 'Pia Proxy');
      assert.equal(r.info.ownProps, 0, `the browser's own PublicKeyCredential: ${JSON.stringify(r.info)}`);
      assert.equal(r.instanceOf, true);
      await save('quinn', 'Quinn Proxy');
      await save('rory', 'Rory Proxy');
    }));

    it('get through the proxy: the picker with three accounts, ArrowUp/Down, the RP verifies the chosen one', withLogs(ctx, async () => {
      const call = await b.startWebauthn('get', await client.loginOptions({ userVerification: 'discouraged' }));
      const prompt = await b.waitForPrompt();
      await prompt.check('Pia Proxy');
      await prompt.press('ArrowUp'); // newest first: Rory, Quinn, Pia → Quinn
      await prompt.click('Sign in');
      const r = await call.result();
      assertOk(r, 'proxied get');
      assert.equal(r.info.ownProps, 0);
      const v = await client.loginVerify(r.ok);
      assertVerified(v, 'proxied sign-in');
      assert.equal(v.username, 'quinn');
    }));

    it('cancel → NotAllowedError; "another device" → NotAllowedError (cannot be handed back), never a hang', withLogs(ctx, async () => {
      for (const button of ['Cancel', 'Use another device or security key']) {
        const call = await b.startWebauthn('get', await client.loginOptions({ userVerification: 'discouraged' }));
        const prompt = await b.waitForPrompt();
        await prompt.click(button);
        const t0 = Date.now();
        assertError(await call.result(10000), 'NotAllowedError', button);
        assert.ok(Date.now() - t0 < 3000, `${button}: answered after ${Date.now() - t0} ms`);
        await prompt.waitForClose(5000);
      }
    }));

    it('abort while the prompt is open → AbortError; the prompt closes (onRequestCanceled)', withLogs(ctx, async () => {
      const call = await b.startWebauthn('get', await client.loginOptions({ userVerification: 'discouraged' }), { abortAfterMs: 4000 });
      const prompt = await b.waitForPrompt();
      assertError(await call.result(10000), 'AbortError', 'aborted proxied get');
      await prompt.waitForClose(5000);
      // The proxy is not left with a pending request: the next one works.
      const call2 = await b.startWebauthn('get', await client.loginOptions({ username: 'pia', userVerification: 'discouraged' }));
      const p2 = await b.waitForPrompt();
      await p2.click('Sign in');
      const r = await call2.result();
      assertOk(r, 'get after an abort');
      assertVerified(await client.loginVerify(r.ok), 'sign-in after an abort');
    }));

    it('autofill still works while attached (MAIN world)', withLogs(ctx, async () => {
      await b.goto(`${rp.url}/login.html`);
      const call = await b.startWebauthn('get', await client.loginOptions({ userVerification: 'discouraged' }), { mediation: 'conditional', abortAfterMs: 30000 });
      await b.click('#username');
      await sleep(800);
      for (const k of ['ArrowDown', 'Enter']) await b.press(k);
      const r = await call.result(15000);
      assertOk(r, 'conditional get while the proxy is attached');
      assert.ok(r.info.ownProps > 0, 'the MAIN-world path answered');
      const v = await client.loginVerify(r.ok);
      assertVerified(v, 'autofill sign-in while attached');
      assert.equal(v.username, 'rory');
    }));

    it('unticking detaches: requests use the MAIN-world path again', withLogs(ctx, async () => {
      await options.check('Answer passkey requests as the browser\'s WebAuthn proxy', false);
      await waitProxy(false);
      if (b.page) await b.page.bringToFront();
      await b.goto(`${rp.url}/raw.html`);
      const r = await save('sam', 'Sam Main');
      assert.ok(r.info.ownProps > 0, 'the shim built the credential');
    }));
  });
}
