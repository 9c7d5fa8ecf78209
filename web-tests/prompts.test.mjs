// The prompt window (NORMAL flavor), driven by accessible names in Chromium and Firefox
// (docs/design.md, "The prompt"): "Save passkey in Latchkey" (site, user; the RP verifies),
// Cancel → NotAllowedError, closing the window → NotAllowedError at once, an excluded credential
// → "already exists" → InvalidStateError, the same user handle again → replaced only after
// "Replace the existing passkey" is ticked, the account picker with three accounts (radio list,
// arrow keys), and "Use another device or security key" → the browser's own WebAuthn.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import {
  SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, assertOk, assertError, assertVerified, rawCreateOptions, randomB64u, b64u,
} from './harness/support.mjs';
import { okOf } from './harness/vault.mjs';

const PIN = '8642 oak';

for (const B of BROWSERS) {
  describe(`prompts, normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });
    const users = {};

    async function begin(kind, options, opts) {
      const call = await b.startWebauthn(kind, options, opts);
      const prompt = await b.waitForPrompt();
      return { call, prompt };
    }

    /** Register `username` through the prompt ("Save passkey in Latchkey"); the RP verifies. */
    async function saveThroughPrompt(username, displayName) {
      const options = await client.registerOptions({ username, displayName, userVerification: 'discouraged' });
      const { call, prompt } = await begin('create', options);
      await prompt.click('Save passkey in Latchkey');
      const r = await call.result();
      assertOk(r, `create for ${username}`);
      const v = await client.registerVerify(r.ok);
      assertVerified(v, `registration of ${username}`);
      await prompt.waitForClose(5000);
      users[username] = { credentialId: v.credentialId, userHandle: options.user.id };
      return { r, v, options };
    }

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch({ flavor: 'normal' });
      await b.goto(`${rp.url}/raw.html`);
      await okOf(b, { type: 'vault-create', pin: PIN });
    }));
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    it('save: the prompt names the site and the account; "Save passkey in Latchkey" → the RP verifies', withLogs(ctx, async () => {
      const options = await client.registerOptions({ username: 'carol', displayName: 'Carol Prompt', userVerification: 'discouraged' });
      const { call, prompt } = await begin('create', options);
      await prompt.waitForButton('Save passkey in Latchkey');
      await prompt.waitForButton('Use another device or security key');
      await prompt.waitForButton('Cancel');
      const text = await prompt.text();
      assert.match(text, /Save passkey in Latchkey/, text);
      assert.match(text, /localhost/, `the site is shown: ${text}`);
      assert.match(text, /Carol Prompt/, `the display name is shown: ${text}`);
      assert.match(text, /carol/, `the user name is shown: ${text}`);
      await prompt.click('Save passkey in Latchkey');
      const r = await call.result();
      assertOk(r, 'create');
      const v = await client.registerVerify(r.ok);
      assertVerified(v, 'registration of carol');
      users.carol = { credentialId: v.credentialId, userHandle: options.user.id };
      await prompt.waitForClose(5000);
    }));

    it('cancel: "Cancel" → NotAllowedError, nothing saved; closing the window → NotAllowedError at once', withLogs(ctx, async () => {
      const before = (await b.vaultStatus()).count;
      const options = await client.registerOptions({ username: 'nobody', userVerification: 'discouraged' });
      const { call, prompt } = await begin('create', options);
      await prompt.click('Cancel');
      assertError(await call.result(), 'NotAllowedError', 'Cancel');
      await prompt.waitForClose(5000);

      const second = await begin('create', await client.registerOptions({ username: 'nobody', userVerification: 'discouraged' }));
      await second.prompt.waitForButton('Save passkey in Latchkey');
      const t0 = Date.now();
      await second.prompt.close();
      assertError(await second.call.result(5000), 'NotAllowedError', 'closed prompt window');
      assert.ok(Date.now() - t0 < 4000, `the page got its answer ${Date.now() - t0} ms after the window closed`);
      assert.equal((await b.vaultStatus()).count, before, 'nothing was saved');
    }));

    it('excludeCredentials matches: the prompt says so, "OK" → InvalidStateError', withLogs(ctx, async () => {
      const options = await client.registerOptions({ username: 'carol', userVerification: 'discouraged' });
      assert.ok(options.excludeCredentials.some((c) => c.id === users.carol.credentialId), 'the RP excludes carol\'s passkey');
      const { call, prompt } = await begin('create', options);
      await prompt.waitForButton('OK');
      assert.equal(await prompt.hasButton('Save passkey in Latchkey'), false);
      assert.match(await prompt.text(), /already has a passkey/, 'the prompt says the passkey exists');
      await prompt.click('OK');
      assertError(await call.result(), 'InvalidStateError', 'excluded credential');
    }));

    it('account picker: three accounts as a radio list; arrow keys choose; the RP verifies the chosen user', withLogs(ctx, async () => {
      await saveThroughPrompt('dave', 'Dave Picker');
      await saveThroughPrompt('erin', 'Erin Picker');
      const options = await client.loginOptions({ userVerification: 'discouraged' });
      const { call, prompt } = await begin('get', options);
      await prompt.waitForButton('Sign in');
      const radios = await prompt.evaluate(`async () => [...document.querySelectorAll('input[type=radio]')].map((r) => [r.labels[0]?.innerText.trim(), r.checked])`);
      assert.deepEqual(radios, [['Erin Picker', true], ['Dave Picker', false], ['Carol Prompt', false]], 'three accounts as radios, newest first and chosen');
      // newest first: Erin (chosen at first), Dave, Carol. Click Carol, then ArrowUp → Dave.
      await prompt.check('Carol Prompt');
      await prompt.press('ArrowUp');
      await prompt.click('Sign in');
      const r = await call.result();
      assertOk(r, 'get through the picker');
      const v = await client.loginVerify(r.ok);
      assertVerified(v, 'sign-in via the picker');
      assert.equal(v.username, 'dave', `the chosen account signs in: ${JSON.stringify(v)}`);
      assert.equal(r.ok.response.userHandle, users.dave.userHandle);
    }));

    it('single match: one click on "Sign in" (user presence only)', withLogs(ctx, async () => {
      const options = await client.loginOptions({ username: 'erin', userVerification: 'discouraged' });
      const { call, prompt } = await begin('get', options);
      await prompt.click('Sign in');
      const r = await call.result();
      assertOk(r, 'single-match get');
      const v = await client.loginVerify(r.ok);
      assertVerified(v, 'single-match sign-in');
      assert.equal(v.username, 'erin');
    }));

    it('"Use another device or security key" hands the request to the browser (create and get)', withLogs(ctx, async () => {
      for (const kind of ['create', 'get']) {
        const options = kind === 'create'
          ? await client.registerOptions({ username: 'other-device', userVerification: 'discouraged' })
          : await client.loginOptions({ username: 'erin', userVerification: 'discouraged' });
        const before = (await b.vaultStatus()).count;
        // The browser's own WebAuthn has no authenticator here: it holds the request until the page
        // aborts it (6 s). Latchkey would have answered at once (a credential, or NotAllowedError).
        const { call, prompt } = await begin(kind, options, { abortAfterMs: 6000 });
        await prompt.click('Use another device or security key');
        const t0 = Date.now();
        const r = await call.result();
        assertError(r, 'AbortError', `${kind} handed to the browser`);
        assert.ok(Date.now() - t0 > 2000, `${kind}: answered ${Date.now() - t0} ms after the click — not by the browser`);
        await prompt.waitForClose(5000);
        assert.equal((await b.vaultStatus()).count, before, `${kind}: nothing saved in Latchkey`);
      }
    }));
    it('same site and user handle: replaced only after "Replace the existing passkey" is ticked; the old one is in Recently deleted', withLogs(ctx, async () => {
      const userId = randomB64u(16);
      const mk = () => rawCreateOptions((o) => {
        o.user = { id: userId, name: 'replace-me', displayName: 'Replace Me' };
        o.authenticatorSelection.userVerification = 'discouraged';
      });
      const first = await begin('create', mk());
      await first.prompt.click('Save passkey in Latchkey');
      const r1 = await first.call.result();
      assertOk(r1, 'first create');
      await first.prompt.waitForClose(5000);

      const { call, prompt } = await begin('create', mk());
      await prompt.waitForButton('Save passkey in Latchkey');
      assert.match(await prompt.text(), /replaces it/, 'the prompt says the new passkey replaces the old one');
      await prompt.click('Save passkey in Latchkey'); // not ticked: refused, the window stays open
      await prompt.waitForText(/Tick .Replace the existing passkey./);
      assert.equal(await call.peek(), null, 'no answer before the replacement is confirmed');
      assert.equal(await prompt.isClosed(), false);
      // The service worker refuses a "save" without confirmation too (the prompt page's own message).
      const refused = await prompt.evaluate(`async () => {
        const api = globalThis.browser ?? globalThis.chrome;
        return api.runtime.sendMessage({ type: 'prompt-decision', promptId: new URLSearchParams(location.search).get('id'), decision: 'save' });
      }`);
      assert.equal(refused?.error?.name, 'NotAllowedError', JSON.stringify(refused));
      await prompt.check('Replace the existing passkey');
      await prompt.click('Save passkey in Latchkey');
      const r2 = await call.result();
      assertOk(r2, 'replacing create');
      assert.notEqual(r2.ok.id, r1.ok.id);
      const list = await okOf(b, { type: 'list-passkeys' });
      const mine = list.filter((p) => p.userName === 'replace-me');
      assert.equal(mine.length, 2, JSON.stringify(mine));
      assert.ok(mine.find((p) => p.credentialId === r1.ok.id).deletedAt, 'the old passkey is soft-deleted (Recently deleted)');
      assert.equal(mine.find((p) => p.credentialId === r2.ok.id).deletedAt, null, 'the new one is live');
    }));

  });
}
