// Crash consistency at scale (TEST flavor), in Chromium and Firefox — the bounded loop of issue 6:
//   1. hundreds of background kills (Chromium: CDP ServiceWorker.stopAllWorkers; Firefox:
//      terminateBackground) at a random moment 0–50 ms into a create (a vault write);
//   2. a few dozen hard kills of the whole browser (SIGKILL of the browser process, no graceful
//      shutdown — harness killBrowser) 0–50 ms into a create, then a relaunch with the same profile.
// After every kill: the vault opens (status answers, header ok, no damaged entry) and the total
// (count + deleted) never decreases; every N kills and at the end, every passkey whose create had
// resolved OK on the page still signs in (the RP verifies).
//
// Env: VAULT_CRASH_LOOP_KILLS (default 200 per browser), VAULT_CRASH_LOOP_BROWSER_KILLS (default 10
// per browser), VAULT_CRASH_SEED (repeat a run's random choices).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, signIn, register, assertVerified, prng } from './harness/support.mjs';

const KILLS = Number(process.env.VAULT_CRASH_LOOP_KILLS || 200);
const BROWSER_KILLS = Number(process.env.VAULT_CRASH_LOOP_BROWSER_KILLS || 10);
const MAX_KILL_DELAY_MS = 50;
const PAGE_ABORT_MS = 12000;
const CHECK_EVERY = 50;

for (const B of BROWSERS) {
  describe(`vault crash loop [${B.name}]`, { timeout: SUITE_TIMEOUT_MS * 4 }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });
    const seed = Number(process.env.VAULT_CRASH_SEED || Date.now() % 1e9);
    const rand = prng(seed);
    const saved = new Map(); // username → credentialId (create answered OK, RP verified)
    let lastTotal = 0;
    const total = (st) => st.count + (st.deleted ?? 0);

    async function checkVault(what, { locked = false } = {}) {
      const st = await b.vaultStatus();
      assert.deepEqual(st.damaged, [], `${what}: damaged entries: ${JSON.stringify(st)}`);
      assert.equal(st.headerState, 'ok', `${what}: header: ${JSON.stringify(st)}`);
      if (!locked) {
        assert.ok(total(st) >= lastTotal, `${what}: count+deleted went DOWN from ${lastTotal} to ${total(st)}`);
        assert.ok(st.count >= saved.size, `${what}: ${st.count} passkeys, but ${saved.size} creates were answered OK`);
        lastTotal = total(st);
      }
      return st;
    }

    async function checkAllSignIn(what) {
      for (const [username, id] of saved) {
        const { v } = await signIn(b, client, username);
        assert.equal(v.credentialId, id, `${what}: ${username} signed in with another passkey`);
      }
    }

    async function createWithKill(username, kill) {
      const options = await client.registerOptions({ username });
      const r = await kill(options);
      if (r && r.ok) {
        const v = await client.registerVerify(r.ok);
        assertVerified(v, `${username}: registration answered OK`);
        saved.set(username, v.credentialId);
        return 'ok';
      }
      return r?.error?.name ?? r?.lost ?? 'no answer';
    }

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch();
      await b.goto(`${rp.url}/raw.html`);
      const { v } = await register(b, client, 'seed-0');
      saved.set('seed-0', v.credentialId);
      lastTotal = total(await checkVault('after the seed passkey'));
      console.log(`[crash-loop] ${B.name}: seed ${seed}; ${KILLS} background kills, ${BROWSER_KILLS} browser kills`);
    }));
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    it(`${KILLS} background kills during creates: the vault always opens, nothing answered OK is lost`, withLogs(ctx, async () => {
      const t0 = Date.now();
      const tally = {};
      let lead = 5;
      for (let i = 0; i < KILLS; i++) {
        const delay = rand() * MAX_KILL_DELAY_MS;
        const outcome = await createWithKill(`bg-${i}`, async (options) => {
          const { armedAt } = await b.armKill(delay + lead);
          const call = await b.startWebauthn('create', options, { abortAfterMs: PAGE_ABORT_MS });
          const r = await call.result(PAGE_ABORT_MS + 5000);
          await b.killReport();
          lead = Math.max(0, 0.7 * lead + 0.3 * (call.startedAt - armedAt));
          return r;
        });
        tally[outcome] = (tally[outcome] ?? 0) + 1;
        await checkVault(`background kill ${i} (${outcome})`);
        if (i % CHECK_EVERY === CHECK_EVERY - 1) await checkAllSignIn(`after background kill ${i}`);
      }
      await checkAllSignIn('after the background kills');
      console.log(`[crash-loop] ${B.name}: ${KILLS} background kills in ${((Date.now() - t0) / 1000).toFixed(1)} s; create outcomes ${JSON.stringify(tally)}; ${saved.size} passkeys checked`);
    }));

    it(`${BROWSER_KILLS} SIGKILLs of the whole browser during creates: the vault always opens, nothing answered OK is lost`, withLogs(ctx, async () => {
      const t0 = Date.now();
      const tally = {};
      for (let i = 0; i < BROWSER_KILLS; i++) {
        const outcome = await createWithKill(`hard-${i}`, async (options) => {
          const call = await b.startWebauthn('create', options, { abortAfterMs: PAGE_ABORT_MS });
          await new Promise((r) => setTimeout(r, rand() * MAX_KILL_DELAY_MS));
          // What the page had when the browser died (an answer after that is lost with the page).
          const r = (await call.peek()) ?? { lost: 'no answer before the kill' };
          await b.killBrowser();
          return r;
        });
        tally[outcome] = (tally[outcome] ?? 0) + 1;
        await b.goto(`${rp.url}/raw.html?hard-${i}`);
        const st = await checkVault(`browser kill ${i}`, { locked: true });
        assert.equal(st.state, 'locked', `browser kill ${i}: a new browser session starts locked: ${JSON.stringify(st)}`);
        // Any request unlocks (the test flavor's PIN); then the vault must be whole.
        await signIn(b, client, 'seed-0');
        await checkVault(`browser kill ${i}, unlocked`);
        if (i % 5 === 4) await checkAllSignIn(`after browser kill ${i}`);
      }
      await checkAllSignIn('after the browser kills');
      console.log(`[crash-loop] ${B.name}: ${BROWSER_KILLS} browser SIGKILLs in ${((Date.now() - t0) / 1000).toFixed(1)} s; create outcomes ${JSON.stringify(tally)}; ${saved.size} passkeys checked`);
    }));
  });
}
