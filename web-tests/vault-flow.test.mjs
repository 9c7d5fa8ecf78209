// The encrypted vault through the NORMAL flavor's prompt (dist/chrome, dist/firefox), in Chromium and
// Firefox, driven by accessible names as a person would (docs/design.md, "The prompt"):
// setup stage (New PIN / Confirm PIN / "Create PIN") → "Save passkey" → the RP verifies with UV; lock
// ("Lock now" in the popup) → unlock stage (PIN / "Unlock"; a wrong PIN shows an error and the window
// stays open) → "Sign in" → the RP verifies; userVerification "required" asks for the PIN again while
// unlocked, "discouraged" does not (UV false); a background restart keeps the vault unlocked, a
// browser restart locks it. Every response is verified by @simplewebauthn/server in rp/server.mjs.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, parseAuthData, assertOk, assertError, assertVerified } from './harness/support.mjs';
import { POPUP_PATH } from './harness/prompt.mjs';
import {
  assertNoPlaintextSecrets, parseStored, promptIdOf, waitForFieldError, waitForVaultStatus, okOf,
} from './harness/vault.mjs';

const PIN = '2468 rose';
const WRONG_PIN = '1357 lily';
const ALICE = 'alice-vault-e2e';
const BOB = 'bob-vault-e2e';

/** prompt-pin sent from the prompt page itself (the only sender the service worker accepts). */
const PROMPT_PIN_SRC = `async (promptId, pin, create) => {
  const api = globalThis.browser ?? globalThis.chrome;
  const m = { type: 'prompt-pin', promptId, pin };
  if (create) m.create = true;
  return api.runtime.sendMessage(m);
}`;

for (const B of BROWSERS) {
  describe(`vault flow, normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });
    const creds = {};

    /** Start a ceremony, wait for its prompt window; returns {call, prompt}. */
    async function begin(kind, options) {
      const call = await b.startWebauthn(kind, options);
      const prompt = await b.waitForPrompt();
      return { call, prompt };
    }

    /** A sign-in through the prompt: `drive(prompt)` clicks through; the RP verifies. */
    async function promptSignIn(username, uv, drive) {
      const options = await client.loginOptions({ username, userVerification: uv });
      assert.ok(options.challenge, `RP gave no login options: ${JSON.stringify(options)}`);
      const { call, prompt } = await begin('get', options);
      await drive(prompt);
      const r = await call.result();
      assertOk(r, `get for ${username} (uv ${uv})`);
      const v = await client.loginVerify(r.ok);
      assertVerified(v, `sign-in of ${username} (uv ${uv})`);
      await prompt.waitForClose(5000);
      return { r, v, flags: parseAuthData(r.ok.response.authenticatorData).flags };
    }

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch({ flavor: 'normal' });
      await b.goto(`${rp.url}/raw.html`);
    }));
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    it('starts without a vault: vault-status says state "none", flavor "normal"', withLogs(ctx, async () => {
      const st = await b.vaultStatus();
      assert.equal(st.state, 'none', JSON.stringify(st));
      assert.equal(st.flavor, 'normal');
      assert.equal(st.count, 0);
      assert.deepEqual(st.damaged, []);
      assert.deepEqual(st.settings, { autoLockMinutes: 15, uvPolicy: 'required', enabled: true, excludedSites: [], proxyMode: false }, 'default settings');
      const raw = await b.storageLocal();
      assert.ok(!('vault:header' in raw), `a vault header exists before any vault: ${Object.keys(raw)}`);
    }));

    it('first create: setup stage (New PIN, Confirm PIN) → "Create PIN" → "Save passkey"; the RP verifies, UV set', withLogs(ctx, async () => {
      const options = await client.registerOptions({ username: ALICE, userVerification: 'preferred' });
      const { call, prompt } = await begin('create', options);

      await prompt.waitForField('New PIN');
      await prompt.waitForField('Confirm PIN');
      await prompt.waitForButton('Create PIN');
      assert.equal(await prompt.hasButton('Save passkey in Latchkey'), false, 'no "Save passkey" before a PIN exists');
      assert.equal(await prompt.hasField('PIN'), false, 'the setup stage has no plain "PIN" field');

      // The service worker refuses a weak PIN by name (sent from the prompt page itself).
      const id = await promptIdOf(prompt);
      const weak = await prompt.evaluate(PROMPT_PIN_SRC, id, '12', true);
      assert.equal(weak?.error?.name, 'WeakPin', `prompt-pin with a 2-character PIN: ${JSON.stringify(weak)}`);

      // The prompt itself: too short, then a confirmation that does not match — both shown at the field.
      await prompt.fill('New PIN', '12');
      await prompt.fill('Confirm PIN', '12');
      await prompt.click('Create PIN');
      const shortMsg = await waitForFieldError(prompt, 'New PIN');
      assert.match(shortMsg, /4/, `the too-short message names the minimum: ${shortMsg}`);
      await prompt.fill('New PIN', PIN);
      await prompt.fill('Confirm PIN', `${PIN}x`);
      await prompt.click('Create PIN');
      await waitForFieldError(prompt, 'Confirm PIN');
      assert.equal(await prompt.isClosed(), false, 'the prompt stays open after a refused PIN');
      assert.equal((await b.vaultStatus()).state, 'none', 'no vault is created from a refused PIN');

      await prompt.fill('New PIN', PIN);
      await prompt.fill('Confirm PIN', PIN);
      await prompt.click('Create PIN');
      await prompt.waitForButton('Save passkey in Latchkey');
      assert.equal(await prompt.hasField('PIN'), false, 'the PIN was just entered: no PIN field on the consent screen');
      const mid = await b.vaultStatus();
      assert.equal(mid.state, 'unlocked', `the vault exists and is unlocked after "Create PIN": ${JSON.stringify(mid)}`);
      assert.equal(mid.count, 0);
      await prompt.click('Save passkey in Latchkey');

      const r = await call.result();
      assertOk(r, 'create through the setup stage');
      const v = await client.registerVerify(r.ok);
      assertVerified(v, 'registration after creating the PIN');
      assert.equal(v.userVerified, true, 'the PIN was entered for this request: UV');
      const flags = parseAuthData(r.ok.response.authenticatorData).flags;
      assert.equal(flags.UP, true);
      assert.equal(flags.UV, true);
      creds.alice = v.credentialId;
      await prompt.waitForClose(5000);

      const st = await b.vaultStatus();
      assert.equal(st.state, 'unlocked');
      assert.equal(st.count, 1);
      assert.equal(st.headerState, 'ok');
      const raw = await b.storageLocal();
      assert.ok(raw['vault:header'], 'vault:header written');
      assert.equal(Object.keys(raw).filter((k) => k.startsWith('vault:e:')).length, 1, `one entry: ${Object.keys(raw)}`);
    }));

    it('while unlocked, "required" asks for the PIN on the consent screen (wrong PIN: error, stays open); create and get get UV', withLogs(ctx, async () => {
      // create for bob, the site requires verification
      const options = await client.registerOptions({ username: BOB, userVerification: 'required' });
      const { call, prompt } = await begin('create', options);
      await prompt.waitForButton('Save passkey in Latchkey');
      await prompt.waitForField('PIN');
      assert.equal(await prompt.hasButton('Unlock'), false, 'unlocked: the consent stage, not the unlock stage');
      await prompt.fill('PIN', WRONG_PIN);
      await prompt.click('Save passkey in Latchkey');
      await waitForFieldError(prompt, 'PIN');
      assert.equal(await prompt.isClosed(), false);
      await prompt.fill('PIN', PIN);
      await prompt.click('Save passkey in Latchkey');
      const r = await call.result();
      assertOk(r, 'create with userVerification required');
      const v = await client.registerVerify(r.ok); // the RP requires UV for this one
      assertVerified(v, 'registration with UV required');
      assert.equal(v.userVerified, true);
      creds.bob = v.credentialId;
      await prompt.waitForClose(5000);

      // get for alice, required
      const { v: vg, flags } = await promptSignIn(ALICE, 'required', async (p) => {
        await p.waitForButton('Sign in');
        await p.fill('PIN', PIN);
        await p.click('Sign in');
      });
      assert.equal(vg.credentialId, creds.alice);
      assert.equal(vg.userVerified, true);
      assert.equal(flags.UV, true);
    }));

    it('while unlocked, "discouraged" and (default policy) "preferred" ask no PIN and UV is false', withLogs(ctx, async () => {
      for (const uv of ['discouraged', 'preferred']) {
        const { v, flags } = await promptSignIn(ALICE, uv, async (p) => {
          await p.waitForButton('Sign in');
          assert.equal(await p.hasField('PIN'), false, `uv ${uv}: no PIN field expected (uvPolicy "required")`);
          await p.click('Sign in');
        });
        assert.equal(v.userVerified, false, `uv ${uv}: UV must be false without a PIN`);
        assert.equal(flags.UV, false);
        assert.equal(flags.UP, true);
      }
    }));

    it('uvPolicy "preferred" (settings-set) asks for the PIN when a site prefers verification', withLogs(ctx, async () => {
      const set = await okOf(b, { type: 'settings-set', autoLockMinutes: 15, uvPolicy: 'preferred' });
      assert.equal(set.uvPolicy, 'preferred', JSON.stringify(set));
      try {
        const { v, flags } = await promptSignIn(BOB, 'preferred', async (p) => {
          await p.waitForButton('Sign in');
          await p.fill('PIN', PIN);
          await p.click('Sign in');
        });
        assert.equal(v.userVerified, true);
        assert.equal(flags.UV, true);
      } finally {
        await okOf(b, { type: 'settings-set', autoLockMinutes: 15, uvPolicy: 'required' });
      }
    }));

    it('no plaintext secrets in storage.local / storage.session after registering', withLogs(ctx, async () => {
      const [local, session] = [await b.storageLocal(), await b.storageSession()];
      assertNoPlaintextSecrets(local, session, [ALICE, BOB, 'localhost', rp.url, PIN, WRONG_PIN], 'normal flavor');
      assert.equal(typeof session.vaultKey, 'string', `unlocked: storage.session holds the vault key: ${Object.keys(session)}`);
    }));

    it('a background restart keeps the vault unlocked (storage.session)', withLogs(ctx, async () => {
      await b.restartBackground();
      const st = await b.vaultStatus();
      assert.equal(st.state, 'unlocked', JSON.stringify(st));
      const { v } = await promptSignIn(ALICE, 'discouraged', async (p) => {
        await p.waitForButton('Sign in');
        assert.equal(await p.hasButton('Unlock'), false, 'no unlock stage after a background restart');
        await p.click('Sign in');
      });
      assert.equal(v.credentialId, creds.alice);
    }));

    it('"Lock now" in the popup locks: vault-status "locked", the key leaves storage.session', withLogs(ctx, async () => {
      const popup = await b.openExtensionPage(POPUP_PATH);
      try {
        await popup.click('Lock now');
        await waitForVaultStatus(b, (s) => s.state === 'locked', 'state "locked"');
        const session = await b.storageSession();
        assert.ok(!('vaultKey' in session), `storage.session still holds a key after locking: ${Object.keys(session)}`);
        // The popup itself now offers the unlock form.
        await popup.waitForField('PIN');
        await popup.waitForButton('Unlock');
      } finally {
        await popup.close();
      }
    }));

    it('locked: a sign-in opens the unlock stage; a wrong PIN shows an error and stays open; the right PIN signs in with UV', withLogs(ctx, async () => {
      const options = await client.loginOptions({ username: ALICE, userVerification: 'preferred' });
      const { call, prompt } = await begin('get', options);
      await prompt.waitForField('PIN');
      await prompt.waitForButton('Unlock');
      assert.equal(await prompt.hasButton('Sign in'), false, 'locked: no "Sign in" before unlocking');

      await prompt.fill('PIN', WRONG_PIN);
      await prompt.click('Unlock');
      const msg = await waitForFieldError(prompt, 'PIN');
      assert.match(msg, /not correct|wrong|incorrect/i, `the wrong-PIN message: ${msg}`);
      assert.equal(await prompt.isClosed(), false, 'the prompt stays open after a wrong PIN');
      await prompt.waitForButton('Unlock');
      assert.equal((await b.vaultStatus()).state, 'locked');

      // The exact error name, from the prompt page itself.
      const wrong = await prompt.evaluate(PROMPT_PIN_SRC, await promptIdOf(prompt), WRONG_PIN, false);
      assert.equal(wrong?.error?.name, 'WrongPin', `prompt-pin with a wrong PIN: ${JSON.stringify(wrong)}`);
      const failures = parseStored((await b.storageLocal())['vault:failures']);
      assert.equal(failures?.count, 2, `vault:failures after two wrong PINs: ${JSON.stringify(failures)}`);

      await prompt.fill('PIN', PIN);
      await prompt.click('Unlock');
      await prompt.waitForButton('Sign in');
      assert.equal(await prompt.hasField('PIN'), false, 'the PIN was just entered: no second PIN field');
      await prompt.click('Sign in');
      const r = await call.result();
      assertOk(r, 'get after unlocking in the prompt');
      const v = await client.loginVerify(r.ok);
      assertVerified(v, 'sign-in after unlocking');
      assert.equal(v.credentialId, creds.alice);
      assert.equal(v.userVerified, true, 'the PIN unlocked the vault for this request: UV');
      await prompt.waitForClose(5000);

      assert.equal((await b.vaultStatus()).state, 'unlocked');
      const after = parseStored((await b.storageLocal())['vault:failures']);
      assert.ok(!after || after.count === 0, `a right PIN resets the failures: ${JSON.stringify(after)}`);
    }));

    it('locked: "Cancel" in the unlock stage ends the request with NotAllowedError; still locked', withLogs(ctx, async () => {
      const locked = await okOf(b, { type: 'vault-lock' });
      assert.equal(locked.state, 'locked');
      const options = await client.loginOptions({ username: BOB, userVerification: 'preferred' });
      const { call, prompt } = await begin('get', options);
      await prompt.waitForButton('Unlock');
      await prompt.click('Cancel');
      const r = await call.result();
      assertError(r, 'NotAllowedError', 'get cancelled in the unlock stage');
      await prompt.waitForClose(5000);
      assert.equal((await b.vaultStatus()).state, 'locked');
    }));

    it('a browser restart locks the vault; the unlock stage then signs in (RP verifies)', withLogs(ctx, async () => {
      // Unlock first (vault-unlock from an extension page), so the restart is what locks it.
      const st0 = await okOf(b, { type: 'vault-unlock', pin: PIN });
      assert.equal(st0.state, 'unlocked');
      await b.restartBrowser();
      await b.goto(`${rp.url}/raw.html?after-browser-restart`);
      const st = await b.vaultStatus();
      assert.equal(st.state, 'locked', `after a browser restart: ${JSON.stringify(st)}`);
      const session = await b.storageSession();
      assert.deepEqual(Object.keys(session), [], `storage.session after a browser restart: ${JSON.stringify(session)}`);

      for (const [name, id] of [[BOB, creds.bob], [ALICE, creds.alice]]) {
        const { v } = await promptSignIn(name, 'required', async (p) => {
          if (name === BOB) {
            await p.waitForButton('Unlock');
            await p.fill('PIN', PIN);
            await p.click('Unlock');
          } else {
            // unlocked by bob's sign-in; "required" asks again on the consent screen
            await p.waitForButton('Sign in');
            await p.fill('PIN', PIN);
          }
          await p.click('Sign in');
        });
        assert.equal(v.credentialId, id, `${name}'s passkey from before the restart`);
        assert.equal(v.userVerified, true);
      }
    }));
  });
}
