// Timeouts and aborts per WebAuthn L3 (NORMAL flavor: the prompt is open while they happen), in
// Chromium and Firefox: the page's abort signal ends a pending request with the signal's reason
// (the default AbortError, or the page's own reason object) and closes the prompt; the request's
// `timeout` (clamped to 10 s at least) ends it with NotAllowedError and closes the prompt.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, assertError } from './harness/support.mjs';
import { okOf } from './harness/vault.mjs';

const PIN = '2580 yew';

for (const B of BROWSERS) {
  describe(`timeouts and aborts, normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch({ flavor: 'normal' });
      await b.goto(`${rp.url}/raw.html`);
      await okOf(b, { type: 'vault-create', pin: PIN });
    }));
    after(async () => {
      await b?.close();
      await rp?.close();
    });

    it('abort while the prompt is open → AbortError (DOMException), the prompt closes', withLogs(ctx, async () => {
      const options = await client.registerOptions({ username: 'kim', userVerification: 'discouraged' });
      const call = await b.startWebauthn('create', options, { abortAfterMs: 5000 });
      const prompt = await b.waitForPrompt();
      await prompt.waitForButton('Save passkey in Latchkey');
      assert.equal(await call.peek(), null, 'pending while the prompt is open');
      const r = await call.result();
      assertError(r, 'AbortError', 'aborted create');
      assert.equal(r.error.isDOMException, true);
      await prompt.waitForClose(5000);
    }));

    it('abort with the page\'s own reason → the promise rejects with that very object', withLogs(ctx, async () => {
      const options = await client.registerOptions({ username: 'kim', userVerification: 'discouraged' });
      const call = await b.startWebauthn('create', options, { abortAfterMs: 4000, abortReason: 'MyAbortReason' });
      const prompt = await b.waitForPrompt();
      const r = await call.result();
      assert.equal(r.error?.name, 'MyAbortReason', JSON.stringify(r));
      assert.equal(r.error.isReason, true);
      await prompt.waitForClose(5000);
    }));

    it('timeout (10 s, the minimum) with the prompt open → NotAllowedError, the prompt closes', withLogs(ctx, async () => {
      const options = await client.registerOptions({ username: 'kim', userVerification: 'discouraged' });
      options.timeout = 10000;
      const call = await b.startWebauthn('create', options, { abortAfterMs: 30000 });
      const prompt = await b.waitForPrompt();
      const r = await call.result(25000);
      assertError(r, 'NotAllowedError', 'timed-out create');
      assert.ok(r.ms >= 9500 && r.ms < 15000, `timed out after ${r.ms} ms`);
      await prompt.waitForClose(5000);
    }));
  });
}
