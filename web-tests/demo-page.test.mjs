// The demo page (GET /) as a person uses it, with @simplewebauthn/browser's startRegistration /
// startAuthentication doing the WebAuthn calls like on a real site (TEST flavor: no prompt).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs } from './harness/support.mjs';

for (const B of BROWSERS) {
  describe(`demo page [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b;
    const ctx = () => ({ b, rp });

    before(async () => {
      rp = await startRp({ port: 0 });
      b = await B.launch();
      await b.goto(`${rp.url}/`);
    });
    after(async () => {
      await b?.close();
      await rp?.close();
    });

    it('register, then sign in by username, then sign in with an empty username', withLogs(ctx, async () => {
      await b.fill('#username', 'demo-user');
      await b.click('#register');
      const reg = await b.waitForText('#status', /Registration (verified|NOT verified|failed)/);
      assert.match(reg, /Registration verified: passkey saved for demo-user/);

      await b.click('#signin');
      const signin = await b.waitForText('#status', /Sign-in (verified|NOT verified|failed)/);
      assert.match(signin, /Sign-in verified: signed in as demo-user/);

      await b.fill('#username', '');
      await b.click('#signin');
      const disc = await b.waitForText('#status', /Sign-in (verified|NOT verified|failed)/);
      assert.match(disc, /Sign-in verified: signed in as demo-user/);

      const users = rp.state().flatMap((s) => s.users).filter((u) => u.credentials.length);
      assert.equal(users.length, 1);
      assert.equal(users[0].username, 'demo-user');
      assert.equal(users[0].credentials[0].signIns, 2);
    }));

    it('registering the same user again is refused (excludeCredentials → InvalidStateError)', withLogs(ctx, async () => {
      await b.fill('#username', 'demo-user');
      await b.click('#register');
      const text = await b.waitForText('#status', /Registration (verified|NOT verified|failed)/);
      // @simplewebauthn/browser rewrites the InvalidStateError into its own message.
      assert.match(text, /Registration failed: .*(InvalidStateError|previously registered)/i);
    }));
  });
}
