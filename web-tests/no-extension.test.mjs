// Control experiment: the same create/get WITHOUT Latchkey gets no credential, because these
// headless browsers have no authenticator of their own. This proves that the credentials in the
// other test files came from the extension.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs } from './harness/support.mjs';

for (const B of BROWSERS) {
  describe(`no extension [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });

    before(async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launchBare();
      await b.goto(`${rp.url}/raw.html`);
    });
    after(async () => {
      await b?.close();
      await rp?.close();
    });

    it('navigator.credentials.create gets no credential', withLogs(ctx, async () => {
      const options = await client.registerOptions({ username: 'alice' });
      options.timeout = 3000;
      // Both browsers hold the request past a 3 s `timeout` (they clamp it: Firefox answers
      // NotAllowedError after ~15 s), so the page aborts it at 3 s. Latchkey answers in
      // milliseconds; here nothing answers at all.
      const r = await b.webauthn('create', options, { abortAfterMs: 3000 });
      assert.ok(r.error, `expected a failure without Latchkey, got a credential ${r.ok?.id}`);
      assert.ok(['NotAllowedError', 'AbortError'].includes(r.error.name), `got ${r.error.name}: ${r.error.message}`);
    }));

    it('navigator.credentials.get gets no credential', withLogs(ctx, async () => {
      const options = await client.loginOptions({});
      options.timeout = 3000;
      const r = await b.webauthn('get', options, { abortAfterMs: 3000 });
      assert.ok(r.error, `expected a failure without Latchkey, got a credential ${r.ok?.id}`);
      assert.ok(['NotAllowedError', 'AbortError'].includes(r.error.name), `got ${r.error.name}: ${r.error.message}`);
    }));
  });
}
