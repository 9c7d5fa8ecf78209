// Requests the spec forbids fail with the exception the spec names, through Latchkey (TEST flavor),
// in Chromium and Firefox. The options are hand-built and passed to navigator.credentials on the
// script-free /raw.html (no parseCreationOptionsFromJSON: the browser's parser would reject some of
// them itself before Latchkey sees them).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import {
  SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, register, assertOk, assertError,
  rawCreateOptions, rawGetOptions, randomB64u,
} from './harness/support.mjs';

for (const B of BROWSERS) {
  describe(`errors [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });

    before(async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch();
      await b.goto(`${rp.url}/raw.html`);
    });
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    it('baseline: the hand-built options themselves succeed', withLogs(ctx, async () => {
      const created = assertOk(await b.webauthn('create', rawCreateOptions()), 'baseline create');
      assert.equal(created.response.publicKeyAlgorithm, -7);
      assertOk(await b.webauthn('get', rawGetOptions()), 'baseline get');
      assertOk(await b.webauthn('get', rawGetOptions((o) => {
        o.allowCredentials = [{ type: 'public-key', id: created.id }];
      })), 'baseline get with allowCredentials');
    }));

    it('excludeCredentials naming a passkey it holds → InvalidStateError', withLogs(ctx, async () => {
      await register(b, client, 'alice');
      const options = await client.registerOptions({ username: 'alice' });
      assert.equal(options.excludeCredentials.length, 1, 'the RP excludes alice\'s passkey');
      assertError(await b.webauthn('create', options), 'InvalidStateError', 'create with excluded credential');
      const st = await client.state();
      assert.equal(st.users.find((u) => u.username === 'alice').credentials.length, 1);
    }));

    it('rp.id not a registrable suffix of the origin → SecurityError', withLogs(ctx, async () => {
      assertError(await b.webauthn('create', rawCreateOptions((o) => { o.rp.id = 'example.com'; })),
        'SecurityError', 'create with rp.id example.com from localhost');
      // Label boundary: "calhost" is a string suffix of "localhost", not a domain suffix.
      assertError(await b.webauthn('create', rawCreateOptions((o) => { o.rp.id = 'calhost'; })),
        'SecurityError', 'create with rp.id calhost from localhost');
      assertError(await b.webauthn('get', rawGetOptions((o) => { o.rpId = 'example.com'; })),
        'SecurityError', 'get with rpId example.com from localhost');
    }));

    it('an IP-address origin (http://127.0.0.1) → SecurityError, as both browsers do natively', withLogs(ctx, async () => {
      // WebAuthn L3 §5.1.3 step 7 / §5.1.4: the caller's effective domain must be a valid domain;
      // an IP address is not (Chromium: "This is an invalid domain."; Firefox: "The operation is
      // insecure."). architecture.md: "the origin must be https or http://localhost".
      await b.goto(`http://127.0.0.1:${rp.port}/raw.html`);
      try {
        assertError(await b.webauthn('create', rawCreateOptions((o) => { delete o.rp.id; })),
          'SecurityError', 'create from http://127.0.0.1 without rp.id');
        assertError(await b.webauthn('create', rawCreateOptions((o) => { o.rp.id = '127.0.0.1'; })),
          'SecurityError', 'create from http://127.0.0.1 with rp.id 127.0.0.1');
        assertError(await b.webauthn('get', rawGetOptions((o) => { delete o.rpId; })),
          'SecurityError', 'get from http://127.0.0.1 without rpId');
      } finally {
        await b.goto(`${rp.url}/raw.html`);
      }
    }));

    it('only unsupported algorithms → NotSupportedError', withLogs(ctx, async () => {
      assertError(await b.webauthn('create', rawCreateOptions((o) => {
        o.pubKeyCredParams = [{ type: 'public-key', alg: -257 }];
      })), 'NotSupportedError', 'create with only RS256 (-257)');
      assertError(await b.webauthn('create', rawCreateOptions((o) => {
        o.pubKeyCredParams = [{ type: 'public-key', alg: -8 }];
      })), 'NotSupportedError', 'create with only EdDSA (-8)');
    }));

    it('algorithm choice: empty list means ES256/RS256; ES256 is picked from a mixed list', withLogs(ctx, async () => {
      const empty = assertOk(await b.webauthn('create', rawCreateOptions((o) => { o.pubKeyCredParams = []; })),
        'create with empty pubKeyCredParams');
      assert.equal(empty.response.publicKeyAlgorithm, -7);
      const mixed = assertOk(await b.webauthn('create', rawCreateOptions((o) => {
        o.pubKeyCredParams = [{ type: 'public-key', alg: -257 }, { type: 'public-key', alg: -8 }, { type: 'public-key', alg: -7 }];
      })), 'create with [-257, -8, -7]');
      assert.equal(mixed.response.publicKeyAlgorithm, -7);
    }));

    it('user.id empty or longer than 64 bytes → TypeError (64 bytes is fine)', withLogs(ctx, async () => {
      assertError(await b.webauthn('create', rawCreateOptions((o) => { o.user.id = ''; })),
        'TypeError', 'create with empty user.id');
      assertError(await b.webauthn('create', rawCreateOptions((o) => { o.user.id = randomB64u(65); })),
        'TypeError', 'create with a 65-byte user.id');
      assertOk(await b.webauthn('create', rawCreateOptions((o) => { o.user.id = randomB64u(64); })),
        'create with a 64-byte user.id');
    }));

    it('missing challenge → TypeError (create and get)', withLogs(ctx, async () => {
      assertError(await b.webauthn('create', rawCreateOptions((o) => { delete o.challenge; })),
        'TypeError', 'create without challenge');
      assertError(await b.webauthn('get', rawGetOptions((o) => { delete o.challenge; })),
        'TypeError', 'get without challenge');
    }));

    it('still works after all the failures (no request left pending)', withLogs(ctx, async () => {
      assertOk(await b.webauthn('create', rawCreateOptions()), 'create after the error cases');
    }));
  });
}
