// Requests in flight while the page goes away (NORMAL flavor: the prompt keeps a request pending,
// as a person would), in Chromium and Firefox: the page navigates elsewhere, reloads, its tab
// closes, or the <iframe> that asked is removed while Latchkey's prompt is open. The prompt closes, nothing is saved, no answer reaches
// the next page, and a following request works at once (no leaked pending state).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, assertError, assertVerified } from './harness/support.mjs';
import { okOf } from './harness/vault.mjs';
import { inPage } from './harness/hostile.mjs';

const PIN = '2580 yew';
const ALLOW = 'publickey-credentials-create; publickey-credentials-get';
const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

for (const B of BROWSERS) {
  describe(`hostile navigation, normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, child, b, client;
    const ctx = () => ({ b, rp });

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      child = await startRp({ port: 0 }); // another origin (another port) for the cross-origin frame
      child.allowTopOrigin(rp.url);
      client = rpClient(rp.url);
      b = await B.launch({ flavor: 'normal' });
      await b.goto(`${rp.url}/raw.html`);
      await okOf(b, { type: 'vault-create', pin: PIN });
    }));
    after(async () => {
      await b?.close();
      await rp?.close();
      await child?.close();
    });

    const count = async () => (await b.vaultStatus()).count;

    /** A create whose prompt is open; `leave()` makes the page go; then the checks. */
    async function leaveDuring(what, leave) {
      const before = await count();
      const options = await client.registerOptions({ username: `nav-${what}`, userVerification: 'discouraged' });
      await b.startWebauthn('create', options, { abortAfterMs: 20000 });
      const prompt = await b.waitForPrompt();
      await prompt.waitForButton('Save passkey in Latchkey');
      await leave();
      await prompt.waitForClose(5000);
      assert.equal(await count(), before, `${what}: nothing saved`);
      // The next page: no late answer arrives, and a new request gets its own prompt at once.
      const late = await inPage(b, `async () => { let n = 0; addEventListener('message', (e) => { if (e.data && e.data.__latchkey) n++; }); await new Promise((r) => setTimeout(r, 500)); return n; }`);
      assert.equal(late, 0, `${what}: a Latchkey answer reached the next page`);
      const next = await client.registerOptions({ username: `after-${what}`, userVerification: 'discouraged' });
      const call = await b.startWebauthn('create', next, { abortAfterMs: 20000 });
      const p2 = await b.waitForPrompt();
      await p2.click('Save passkey in Latchkey');
      const r = await call.result();
      assert.ok(r.ok, `${what}: the next request: ${JSON.stringify(r.error)}`);
      assertVerified(await client.registerVerify(r.ok), `${what}: the next request`);
      assert.equal(await count(), before + 1);
    }

    it('navigating to another page while the prompt is open: the prompt closes, nothing saved', withLogs(ctx, async () => {
      await b.goto(`${rp.url}/raw.html?a`);
      await leaveDuring('navigate', () => b.goto(`${rp.url}/raw.html?elsewhere`));
    }));

    it('reloading while the prompt is open: the prompt closes, nothing saved', withLogs(ctx, async () => {
      await b.goto(`${rp.url}/raw.html?b`);
      await leaveDuring('reload', () => b.goto(`${rp.url}/raw.html?b`));
    }));

    it('a cross-origin <iframe> removed while its prompt is open: the prompt closes, nothing saved, the page\'s next request works', withLogs(ctx, async () => {
      const before = await count();
      const childClient = rpClient(child.url);
      const options = await childClient.registerOptions({ username: 'nav-iframe', userVerification: 'discouraged' });
      const childUrl = `${child.url}/frame-child.html#${enc({ kind: 'create', options, opts: { abortAfterMs: 20000, auto: false } })}`;
      await b.goto(`${rp.url}/frame-host.html?${new URLSearchParams({ child: childUrl, allow: ALLOW })}`);
      await b.clickInFrame('#child', '#run'); // a user activation in the frame (a cross-origin create needs it)
      const prompt = await b.waitForPrompt();
      await prompt.waitForButton('Save passkey in Latchkey');
      assert.ok((await prompt.text()).includes(`in a frame on ${rp.url}`), 'the prompt is the frame\'s');
      // No navigation, no browser event: the element just goes away.
      await b.evaluate(`(() => { document.getElementById('child').remove(); return true; })()`);
      await prompt.waitForClose(5000);
      assert.equal(await count(), before, 'nothing saved');
      // The page that held the frame asks next: its own prompt at once, and it works.
      const next = await client.registerOptions({ username: 'after-iframe', userVerification: 'discouraged' });
      const call = await b.startWebauthn('create', next, { abortAfterMs: 20000 });
      const p2 = await b.waitForPrompt();
      await p2.click('Save passkey in Latchkey');
      const r = await call.result();
      assert.ok(r.ok, `the next request: ${JSON.stringify(r.error)}`);
      assertVerified(await client.registerVerify(r.ok), 'the next request');
      assert.equal(await count(), before + 1);
    }));

    it('a cancelled prompt after all that still gives NotAllowedError at once', withLogs(ctx, async () => {
      const options = await client.registerOptions({ username: 'cancel', userVerification: 'discouraged' });
      const call = await b.startWebauthn('create', options, { abortAfterMs: 20000 });
      const prompt = await b.waitForPrompt();
      await prompt.click('Cancel');
      assertError(await call.result(), 'NotAllowedError', 'cancelled');
    }));
  });
}
