// Registration through Latchkey (TEST flavor), in Chromium and Firefox: the RP verifies the
// response with @simplewebauthn/server, and the object the page gets behaves like a native
// PublicKeyCredential.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import {
  SUITE_TIMEOUT_MS, BROWSERS, LATCHKEY_AAGUID, withLogs, reportLatency, register, parseAuthData, clientData, sha256, b64u,
  assertOk, rawCreateOptions, rawGetOptions, randomB64u,
} from './harness/support.mjs';

for (const B of BROWSERS) {
  describe(`register [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
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

    it('creates a passkey the RP verifies, with UV set by the test verifier', withLogs(ctx, async () => {
      const { options, r, v } = await register(b, client, 'alice', { userVerification: 'required' });
      const json = r.ok;

      // The server's verdict.
      assert.equal(v.userVerified, true, 'UV flag: the test flavor\'s verifier should have run');
      assert.equal(v.fmt, 'none');
      assert.equal(v.aaguid, LATCHKEY_AAGUID, 'Latchkey\'s own AAGUID');
      assert.equal(v.credentialDeviceType, 'multiDevice', 'BE=1: a passkey is backup eligible');
      assert.equal(v.credentialBackedUp, false, 'BS=0: nothing is synced');
      assert.equal(v.origin, rp.url);

      // The JSON (toJSON()) form.
      assert.equal(json.type, 'public-key');
      assert.equal(json.id, json.rawId);
      assert.equal(b64u.dec(json.id).length, 16, 'credential ids are 16 random bytes');
      assert.equal(json.authenticatorAttachment, 'platform');
      assert.deepEqual(json.response.transports, ['internal']);
      assert.equal(json.response.publicKeyAlgorithm, -7);
      assert.equal(json.clientExtensionResults?.credProps?.rk, true, 'credProps.rk (the RP asked for credProps)');

      const cd = clientData(json);
      assert.equal(cd.type, 'webauthn.create');
      assert.equal(cd.challenge, options.challenge);
      assert.equal(cd.origin, rp.url);
      assert.equal(cd.crossOrigin ?? false, false);

      const ad = parseAuthData(json.response.authenticatorData);
      assert.deepEqual(ad.rpIdHash, sha256('localhost'), 'rpIdHash = SHA-256("localhost")');
      assert.deepEqual(ad.flags, { UP: true, UV: true, BE: true, BS: false, AT: true, ED: false });
      assert.equal(ad.signCount, 0);

      // The object's own API, as a site would use it.
      const info = r.info;
      assert.equal(r.instanceOf, true, 'credential instanceof PublicKeyCredential');
      assert.equal(info.responseInstanceOf, true, 'response instanceof AuthenticatorAttestationResponse');
      assert.equal(info.jsonStringifyWorks, true, 'JSON.stringify(credential) works');
      assert.deepEqual(info.arrayBuffers, {
        rawId: true, clientDataJSON: true, attestationObject: true, getPublicKey: true, getAuthenticatorData: true,
      }, 'binary members are the page\'s own ArrayBuffers');
      assert.equal(info.type, 'public-key');
      assert.equal(info.id, json.id);
      assert.equal(info.rawId, json.rawId);
      assert.equal(info.authenticatorAttachment, 'platform');
      assert.deepEqual(info.transports, ['internal'], 'response.getTransports()');
      assert.equal(info.publicKeyAlgorithm, -7, 'response.getPublicKeyAlgorithm()');
      assert.equal(typeof info.publicKey, 'string', `response.getPublicKey(): ${JSON.stringify(info.publicKey)}`);
      assert.equal(info.publicKey, json.response.publicKey, 'getPublicKey() equals toJSON().response.publicKey');
      const spki = b64u.dec(info.publicKey);
      assert.equal(spki.length, 91, 'a P-256 SubjectPublicKeyInfo is 91 bytes');
      assert.equal(spki[0], 0x30, 'SPKI is a DER SEQUENCE');
      assert.equal(info.authenticatorData, json.response.authenticatorData, 'response.getAuthenticatorData()');
      assert.equal(info.attestationObject, json.response.attestationObject, 'response.attestationObject');
      assert.deepEqual(info.clientExtensionResults, json.clientExtensionResults, 'getClientExtensionResults()');
      assert.equal(info.clientDataJSON?.challenge, options.challenge, 'response.clientDataJSON decodes');
    }));

    it('a second user on the same RP gets their own passkey', withLogs(ctx, async () => {
      const { v } = await register(b, client, 'bob', { displayName: 'Bob B.' });
      const st = await client.state();
      const alice = st.users.find((u) => u.username === 'alice');
      const bob = st.users.find((u) => u.username === 'bob');
      assert.equal(alice.credentials.length, 1);
      assert.equal(bob.credentials.length, 1);
      assert.equal(bob.credentials[0].id, v.credentialId);
      assert.notEqual(alice.credentials[0].id, bob.credentials[0].id);
    }));

    it('a second create for the same user.id replaces the first passkey', withLogs(ctx, async () => {
      // WebAuthn §6.3.2 (authenticatorMakeCredential): a new discoverable credential for the same
      // rpId and user handle overwrites the old one.
      const userId = randomB64u(16);
      const first = assertOk(await b.webauthn('create', rawCreateOptions((o) => { o.user.id = userId; })), 'first create');
      const second = assertOk(await b.webauthn('create', rawCreateOptions((o) => { o.user.id = userId; })), 'second create');
      assert.notEqual(first.id, second.id);
      const old = await b.webauthn('get', rawGetOptions((o) => {
        o.allowCredentials = [{ type: 'public-key', id: first.id }];
        o.timeout = 3000;
      }), { abortAfterMs: 5000 });
      assert.ok(old.error, `the replaced passkey ${first.id} still signed in`);
      const now = assertOk(await b.webauthn('get', rawGetOptions((o) => {
        o.allowCredentials = [{ type: 'public-key', id: second.id }];
      })), 'get with the new passkey');
      assert.equal(now.response.userHandle, userId);
    }));

    it('registers with userVerification "discouraged" (verifies; UV not required)', withLogs(ctx, async () => {
      const { r } = await register(b, client, 'carol', { userVerification: 'discouraged' });
      assert.equal(parseAuthData(r.ok.response.authenticatorData).flags.UP, true);
    }));

    it('registers with residentKey "preferred" (still a discoverable passkey)', withLogs(ctx, async () => {
      const { r } = await register(b, client, 'dave', { residentKey: 'preferred' });
      assert.equal(r.ok.clientExtensionResults?.credProps?.rk, true);
    }));
  });
}
