// The native host ("helper app") in the loop, NORMAL flavor, Chromium and Firefox: the TEST build of
// latchkey-host (`--features test-verifier`, built if missing) registered with its own installer in
// a temporary profile (harness/native-host.mjs), reached over the extension's one connectNative port
// (extension/background/host.js). docs/design.md, "Native host protocol" → "In the extension".
//
// * handshake: vault-status.host (version, os, capabilities, testBuild) and the popup/options text;
// * user verification through the host on `userVerification: "required"` create and get (the RP
//   verifies UV = true); a denying verifier → error at the prompt, request still open, the PIN works;
// * OS unlock: turned on in the options page → lock → "Unlock with test verifier" in the prompt (no
//   PIN) → sign in (UV) ; the popup's button; a missing key → clear error, the PIN recovers;
// * the host killed while verify-user is pending → clear error in the prompt, the next attempt
//   reconnects and succeeds;
// * the platform authenticator button is hidden on Linux ("unsupported");
// * no host registered → "not installed — PIN only" and the PIN path works.
// Every response is verified by @simplewebauthn/server (rp/server.mjs).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, parseAuthData, assertOk, assertVerified } from './harness/support.mjs';
import { OPTIONS_PATH, POPUP_PATH } from './harness/prompt.mjs';
import { okOf, waitForVaultStatus } from './harness/vault.mjs';
import { registerNativeHost } from './harness/native-host.mjs';

const PIN = '2468 rose';
const VERIFY = 'Verify with test verifier';
const OS_UNLOCK = 'Unlock with test verifier';
const PLATFORM = 'Windows Hello or security key';

const HOST_LINE = /Helper app 0\.\d+\.\d+ \(Linux\) \[test build\]: user verification available \(test verifier\), OS unlock available/;

/** A message sent from the prompt page itself (the only sender the service worker accepts for it). */
const PROMPT_SEND_SRC = `async (m) => { const api = globalThis.browser ?? globalThis.chrome; return api.runtime.sendMessage(m); }`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

for (const B of BROWSERS) {
  describe(`native host in the loop, normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS * 2 }, () => {
    let rp, b, client, host;
    const ctx = () => ({ b, rp });
    const promptIdOf = async (prompt) => new URL(await prompt.evaluate('async () => location.href')).searchParams.get('id');

    /** Starts a ceremony with options from the RP and waits for its prompt. */
    async function begin(kind, username, uv) {
      const options = kind === 'create'
        ? await client.registerOptions({ username, userVerification: uv })
        : await client.loginOptions({ username, userVerification: uv });
      assert.ok(options.challenge, `RP gave no options: ${JSON.stringify(options)}`);
      const call = await b.startWebauthn(kind, options);
      const prompt = await b.waitForPrompt();
      return { call, prompt };
    }

    /** The page's result verified at the RP; returns the authenticator data flags. */
    async function verified(kind, call, what) {
      const r = await call.result();
      assertOk(r, what);
      const v = kind === 'create' ? await client.registerVerify(r.ok) : await client.loginVerify(r.ok);
      assertVerified(v, what);
      return parseAuthData(r.ok.response.authenticatorData).flags;
    }

    /** Restarts the host with new test-verifier settings: the next call spawns it with them. */
    async function switchVerifier(env) {
      host.setEnv(env);
      const before = host.runningPids();
      for (const pid of before) process.kill(pid, 'SIGKILL');
      await waitFor(() => host.runningPids().length === 0, 'the old host to exit');
    }

    before(withLogs(ctx, async () => {
      host = registerNativeHost(B.name);
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch({ flavor: 'normal', ...host.launchOptions });
      await b.goto(`${rp.url}/raw.html`);
    }));
    after(async () => {
      await b?.close();
      await rp?.close();
      if (host) {
        if (process.env.LK_HOST_LOG) console.log(host.log());
        host.cleanup();
      }
    });

    it('handshake: vault-status.host says found, version, linux, capabilities, testBuild; the popup and options page say it in words', withLogs(ctx, async () => {
      const st = await b.vaultStatus();
      const h = st.host;
      assert.equal(h.found, true, JSON.stringify(h));
      assert.match(h.hostVersion, /^\d+\.\d+\.\d+$/);
      assert.equal(h.os, 'linux');
      assert.deepEqual(h.capabilities, { userVerification: 'available', osKey: 'available', platformAuthenticator: 'unsupported' });
      assert.equal(h.testBuild, true);
      assert.equal(h.method, 'test verifier');
      assert.equal(host.runningPids().length, 1, `one host process for one port: ${host.pids()}`);
      const popup = await b.openExtensionPage(POPUP_PATH);
      await popup.waitForText(HOST_LINE);
      await popup.close();
      const options = await b.openExtensionPage(OPTIONS_PATH);
      await options.waitForText(HOST_LINE);
      await options.close();
    }));

    it('first create sets up the PIN (setup stage); then a "required" create is verified by the host: "Verify with test verifier", the RP sees UV', withLogs(ctx, async () => {
      {
        const { call, prompt } = await begin('create', 'alice-host', 'discouraged');
        await prompt.fill('New PIN', PIN);
        await prompt.fill('Confirm PIN', PIN);
        await prompt.click('Create PIN');
        await prompt.click('Save passkey in Latchkey');
        await verified('create', call, 'create through setup');
      }
      const { call, prompt } = await begin('create', 'bob-host', 'required');
      await prompt.waitForButton(VERIFY);
      assert.equal(await prompt.hasField('PIN'), true, 'the PIN stays next to the host button');
      assert.equal(await prompt.hasButton(PLATFORM), false, 'no platform authenticator button on Linux (unsupported)');
      const started = Date.now();
      await prompt.click(VERIFY);
      const flags = await verified('create', call, 'create verified by the host');
      console.log(`[native-host] ${B.name}: click "${VERIFY}" → create answered in ${Date.now() - started} ms`);
      assert.equal(flags.UV, true, 'the host verified the user for this request: UV');
      assert.equal(flags.UP, true);
      await prompt.waitForClose(5000);
    }));

    it('a "required" get verified by the host: the RP sees UV; round trip of prompt-host-verify measured', withLogs(ctx, async () => {
      const { call, prompt } = await begin('get', 'bob-host', 'required');
      await prompt.waitForButton(VERIFY);
      // The platform fallback is refused by the service worker too (not only hidden).
      const id = await promptIdOf(prompt);
      const refused = await prompt.evaluate(PROMPT_SEND_SRC, { type: 'prompt-platform', promptId: id });
      assert.equal(refused?.error?.name, 'HostError', `prompt-platform on Linux: ${JSON.stringify(refused)}`);
      // One verify-user through the extension (prompt → sw → host → sw → prompt), timed.
      const t0 = Date.now();
      const answer = await prompt.evaluate(PROMPT_SEND_SRC, { type: 'prompt-host-verify', promptId: id });
      const ms = Date.now() - t0;
      assert.ok(answer?.ok, `prompt-host-verify: ${JSON.stringify(answer)}`);
      assert.equal(answer.ok.needsPin, false, 'verified: no PIN needed any more');
      console.log(`[native-host] ${B.name}: prompt-host-verify round trip (prompt page → sw → host approve → prompt) ${ms} ms (incl. harness eval overhead)`);
      // The prompt page shows the details it fetches: reloaded, it has no PIN field any more.
      await prompt.reload();
      await prompt.waitForButton('Sign in');
      assert.equal(await prompt.hasField('PIN'), false, 'verified by the host: no PIN field');
      await prompt.click('Sign in');
      const flags = await verified('get', call, 'get verified by the host');
      assert.equal(flags.UV, true);
    }));

    it('a denying verifier: clear error at the prompt, the request stays open, then the PIN works (UV)', withLogs(ctx, async () => {
      await switchVerifier({ LATCHKEY_TEST_VERIFIER: 'deny' });
      const { call, prompt } = await begin('get', 'bob-host', 'required');
      await prompt.click(VERIFY);
      await prompt.waitForText(/test verifier did not verify you \(declined or failed\)/);
      assert.equal(await prompt.isClosed(), false, 'the prompt stays open');
      assert.equal(await call.peek(), null, 'the page is still waiting');
      // Consent without verification is still refused (UV required).
      const id = await promptIdOf(prompt);
      const early = await prompt.evaluate(PROMPT_SEND_SRC, { type: 'prompt-decision', promptId: id, decision: 'signin' });
      assert.equal(early?.error?.name, 'NotAllowedError', `a denied verification does not verify: ${JSON.stringify(early)}`);
      await prompt.fill('PIN', PIN);
      await prompt.click('Sign in');
      const flags = await verified('get', call, 'get with the PIN after a denial');
      assert.equal(flags.UV, true);
      await switchVerifier({ LATCHKEY_TEST_VERIFIER: 'approve' });
    }));

    it('the host killed while verify-user is pending: clear error in the prompt; the next attempt reconnects and succeeds', withLogs(ctx, async () => {
      await switchVerifier({ LATCHKEY_TEST_VERIFIER: 'slow', LATCHKEY_TEST_VERIFIER_DELAY_MS: '30000' });
      const { call, prompt } = await begin('get', 'bob-host', 'required');
      await prompt.click(VERIFY);
      const pid = await waitFor(() => host.runningPids().at(-1), 'the slow host to start');
      await sleep(300); // verify-user is on its way / pending in the host
      // The next host starts with an approving verifier.
      host.setEnv({ LATCHKEY_TEST_VERIFIER: 'approve' });
      process.kill(pid, 'SIGKILL');
      await prompt.waitForText(/helper app stopped before it answered/);
      assert.equal(await prompt.isClosed(), false, 'the prompt stays open');
      assert.equal(await call.peek(), null, 'the page is still waiting');
      await prompt.click(VERIFY);
      const flags = await verified('get', call, 'get verified after the host was restarted');
      assert.equal(flags.UV, true);
      const now = host.runningPids();
      assert.ok(now.length === 1 && now[0] !== pid, `a new host process serves the port: ${now} (killed ${pid})`);
    }));

    it('Cancel in the prompt while verify-user is pending: the page gets NotAllowedError and the host is told to cancel', withLogs(ctx, async () => {
      await switchVerifier({ LATCHKEY_TEST_VERIFIER: 'slow', LATCHKEY_TEST_VERIFIER_DELAY_MS: '30000' });
      const { call, prompt } = await begin('get', 'bob-host', 'required');
      await prompt.click(VERIFY);
      await waitFor(() => /verify-user|started/.test(host.log()) && host.runningPids().length === 1, 'the slow host to run');
      await sleep(300);
      const cancels = () => (host.log().match(/cancel for request \d+: stopping it/g) || []).length;
      const before = cancels();
      const t0 = Date.now();
      await prompt.click('Cancel');
      const r = await call.result();
      assert.equal(r?.error?.name, 'NotAllowedError', `cancelled: ${JSON.stringify(r)}`);
      await waitFor(() => cancels() === before + 1, 'the host to log the cancel', 5000);
      assert.ok(Date.now() - t0 < 10000, 'the cancel did not wait for the slow verifier');
      await switchVerifier({ LATCHKEY_TEST_VERIFIER: 'approve' });
    }));

    it('OS unlock: on in the options page → lock → "Unlock with test verifier" in the prompt (no PIN) → sign in with UV; popup button; missing key → PIN recovers', withLogs(ctx, async () => {
      const options = await b.openExtensionPage(OPTIONS_PATH);
      await options.check(OS_UNLOCK, true);
      const on = await waitForVaultStatus(b, (s) => (s.unlockMethods || []).some((m) => m.startsWith('os:')), 'an os: unlock method');
      assert.equal(on.unlockMethods[0], 'pin', 'the PIN stays');
      assert.equal(fs.readdirSync(host.keys).length, 1, 'the host keeps one key file');
      await options.close();

      await okOf(b, { type: 'vault-lock' });
      const { call, prompt } = await begin('get', 'bob-host', 'required');
      await prompt.waitForButton(OS_UNLOCK);
      assert.equal(await prompt.hasField('PIN'), true, 'the PIN stays as recovery');
      await prompt.click(OS_UNLOCK);
      await prompt.waitForButton('Sign in');
      assert.equal(await prompt.hasField('PIN'), false, 'unlocked with the OS key from this prompt: no PIN asked');
      await prompt.click('Sign in');
      const flags = await verified('get', call, 'get after the OS unlock');
      assert.equal(flags.UV, true, 'the OS unlock from this prompt verified the user');

      // The popup's "Unlock with …".
      await okOf(b, { type: 'vault-lock' });
      const popup = await b.openExtensionPage(POPUP_PATH);
      await popup.click(OS_UNLOCK);
      await waitForVaultStatus(b, (s) => s.state === 'unlocked', 'unlocked from the popup');
      await popup.close();

      // The host lost its key: clear error, and the PIN still opens the vault.
      await okOf(b, { type: 'vault-lock' });
      for (const f of fs.readdirSync(host.keys)) fs.rmSync(path.join(host.keys, f));
      const options2 = await b.openExtensionPage(OPTIONS_PATH);
      await options2.click(OS_UNLOCK);
      await options2.waitForText(/gone from this computer/);
      assert.equal((await b.vaultStatus()).state, 'locked');
      await options2.fill('PIN', PIN);
      await options2.click('Unlock');
      await waitForVaultStatus(b, (s) => s.state === 'unlocked', 'unlocked with the PIN');
      // Off again: only the PIN.
      await options2.check(OS_UNLOCK, false);
      await waitForVaultStatus(b, (s) => JSON.stringify(s.unlockMethods) === '["pin"]', 'only the PIN left');
      await options2.close();
    }));
  });

  describe(`no native host registered, normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });
    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch({ flavor: 'normal' });
      await b.goto(`${rp.url}/raw.html`);
    }));
    after(async () => {
      await b?.close();
      await rp?.close();
    });

    it('status says "not installed — PIN only"; a "required" create works with the PIN, no host button', withLogs(ctx, async () => {
      const st = await b.vaultStatus();
      assert.equal(st.host.found, false, JSON.stringify(st.host));
      assert.match(st.host.error, /not installed/);
      const popup = await b.openExtensionPage(POPUP_PATH);
      await popup.waitForText(/Helper app: not installed — PIN only/);
      await popup.close();

      const options = await client.registerOptions({ username: 'carol-nohost', userVerification: 'required' });
      const call = await b.startWebauthn('create', options);
      const prompt = await b.waitForPrompt();
      await prompt.fill('New PIN', PIN);
      await prompt.fill('Confirm PIN', PIN);
      await prompt.click('Create PIN');
      await prompt.waitForButton('Save passkey in Latchkey');
      assert.equal(await prompt.hasButton(VERIFY), false);
      await prompt.click('Save passkey in Latchkey');
      const r = await call.result();
      assertOk(r, 'create without a host');
      assertVerified(await client.registerVerify(r.ok), 'registration without a host');

      const login = await client.loginOptions({ username: 'carol-nohost', userVerification: 'required' });
      const call2 = await b.startWebauthn('get', login);
      const prompt2 = await b.waitForPrompt();
      await prompt2.waitForField('PIN');
      assert.equal(await prompt2.hasButton(VERIFY), false, 'no host: no "Verify with" button');
      await prompt2.fill('PIN', PIN);
      await prompt2.click('Sign in');
      const r2 = await call2.result();
      assertOk(r2, 'get without a host');
      assertVerified(await client.loginVerify(r2.ok), 'sign-in without a host');
      assert.equal(parseAuthData(r2.ok.response.authenticatorData).flags.UV, true);
    }));
  });
}
