// Sign-in through Latchkey (TEST flavor), in Chromium and Firefox: with allowCredentials and
// discoverable (empty allowCredentials); two users on one RP each sign in as themselves. Every
// assertion is verified by @simplewebauthn/server, and the userHandle must map to the right user.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import {
  SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, register, signIn, parseAuthData, clientData, sha256,
} from './harness/support.mjs';

for (const B of BROWSERS) {
  describe(`authenticate [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });
    const users = {}; // username → {userId, credentialId}

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

    it('signs in with allowCredentials (UV required) and the RP verifies', withLogs(ctx, async () => {
      const reg = await register(b, client, 'alice', { userVerification: 'required' });
      users.alice = { userId: reg.v.userId, credentialId: reg.v.credentialId };

      const { options, r, v } = await signIn(b, client, 'alice', { userVerification: 'required' });
      assert.equal(options.allowCredentials.length, 1);
      assert.equal(v.username, 'alice');
      assert.equal(v.credentialId, users.alice.credentialId);
      assert.equal(v.userVerified, true, 'UV flag: the test verifier should have run');
      assert.equal(v.newCounter, 0, 'signature counter stays 0');

      const json = r.ok;
      assert.equal(json.type, 'public-key');
      assert.equal(json.authenticatorAttachment, 'platform');
      assert.equal(json.response.userHandle, users.alice.userId, 'userHandle = alice\'s user.id');
      const cd = clientData(json);
      assert.equal(cd.type, 'webauthn.get');
      assert.equal(cd.challenge, options.challenge);
      assert.equal(cd.origin, rp.url);
      const ad = parseAuthData(json.response.authenticatorData);
      assert.deepEqual(ad.rpIdHash, sha256('localhost'));
      assert.deepEqual(ad.flags, { UP: true, UV: true, BE: true, BS: false, AT: false, ED: false });
      assert.equal(ad.signCount, 0);

      assert.equal(r.instanceOf, true, 'credential instanceof PublicKeyCredential');
      assert.equal(r.info.responseInstanceOf, true, 'response instanceof AuthenticatorAssertionResponse');
      assert.equal(r.info.jsonStringifyWorks, true);
      assert.deepEqual(r.info.arrayBuffers, {
        rawId: true, clientDataJSON: true, authenticatorData: true, signature: true, userHandle: true,
      }, 'binary members are the page\'s own ArrayBuffers');
      assert.equal(r.info.userHandle, users.alice.userId, 'response.userHandle');
      assert.equal(r.info.authenticatorData, json.response.authenticatorData, 'response.authenticatorData');
      assert.equal(r.info.signature, json.response.signature, 'response.signature');
      assert.equal(r.info.authenticatorAttachment, 'platform');
    }));

    it('signs in with a discoverable credential (empty allowCredentials)', withLogs(ctx, async () => {
      const { options, r, v } = await signIn(b, client, null);
      assert.deepEqual(options.allowCredentials ?? [], []);
      assert.equal(v.discoverable, true);
      assert.equal(v.username, 'alice', 'the only passkey for localhost is alice\'s');
      assert.equal(r.ok.response.userHandle, users.alice.userId);
    }));

    it('two users on the same RP each sign in as themselves', withLogs(ctx, async () => {
      const reg = await register(b, client, 'bob', { displayName: 'Bob' });
      users.bob = { userId: reg.v.userId, credentialId: reg.v.credentialId };
      assert.notEqual(users.bob.userId, users.alice.userId);

      for (const name of ['alice', 'bob', 'alice']) {
        const { r, v } = await signIn(b, client, name);
        assert.equal(v.username, name);
        assert.equal(v.credentialId, users[name].credentialId, `${name} must use their own passkey`);
        assert.equal(r.ok.response.userHandle, users[name].userId, `userHandle must be ${name}'s`);
      }
    }));

    it('a discoverable sign-in with two passkeys picks one and its userHandle names its owner', withLogs(ctx, async () => {
      const { r, v } = await signIn(b, client, null);
      assert.ok(['alice', 'bob'].includes(v.username), `signed in as ${v.username}`);
      assert.equal(r.ok.id, users[v.username].credentialId);
      assert.equal(r.ok.response.userHandle, users[v.username].userId);
    }));

    it('signs in with userVerification "discouraged"', withLogs(ctx, async () => {
      const { v } = await signIn(b, client, 'bob', { userVerification: 'discouraged' });
      assert.equal(v.username, 'bob');
    }));

    it('a get for a credential id it does not hold does not return a credential', withLogs(ctx, async () => {
      // allowCredentials naming only an unknown id: no Latchkey passkey matches. Latchkey answers
      // NotAllowedError (or hands the request to the browser, which has no authenticator here).
      const r = await b.webauthn('get', {
        challenge: Buffer.alloc(32, 7).toString('base64url'),
        rpId: 'localhost',
        allowCredentials: [{ type: 'public-key', id: Buffer.alloc(16, 9).toString('base64url') }],
        timeout: 3000,
      }, { abortAfterMs: 6000 });
      assert.ok(r.error, `expected an error, got a credential ${r.ok?.id}`);
      assert.ok(['NotAllowedError', 'AbortError'].includes(r.error.name), `got ${r.error.name}: ${r.error.message}`);
    }));
  });
}
