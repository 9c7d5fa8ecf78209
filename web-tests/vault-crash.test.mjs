// Crash consistency of the vault (TEST flavor), in Chromium and Firefox: requests are started and the
// background is killed at a random moment 0–50 ms later (Chromium: CDP ServiceWorker.stopAllWorkers;
// Firefox: terminateBackground). docs/design.md promises that every change is ONE storage.local.set
// (atomic), answered only after it resolved. So after every kill:
//   * every passkey whose create resolved OK on the page still signs in (the RP verifies),
//   * vault-status shows no damaged entries and an intact header,
//   * count + deleted never decreases (a kill cannot take a saved passkey away),
//   * a rename/delete killed midway leaves the old or the new state, never anything else.
// The test records where the kills landed: answered, committed but unanswered (the kill came between
// the set and the answer), not committed, and previous-version keys (vault:p:) left behind.
// A last test kills the whole browser (restart) during creates.
//
// Env: VAULT_CRASH_ITERATIONS (default 60 per browser), VAULT_CRASH_SEED (repeat a run's random choices).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, signIn, register, assertVerified, prng } from './harness/support.mjs';
import { vaultKeys, okOf } from './harness/vault.mjs';

const ITERATIONS = Number(process.env.VAULT_CRASH_ITERATIONS || 60);
const BROWSER_RESTARTS = 3;
const MAX_KILL_DELAY_MS = 50;
const PAGE_ABORT_MS = 12000; // a request the kill left unanswered is aborted by the page after this

for (const B of BROWSERS) {
  describe(`vault crash consistency [${B.name}]`, { timeout: SUITE_TIMEOUT_MS * 2 }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });
    const seed = Number(process.env.VAULT_CRASH_SEED || Date.now() % 1e9);
    const rand = prng(seed);
    /** username → credentialId of every passkey whose create resolved OK (and the RP verified). */
    const saved = new Map();
    /** credentialId → labels it may have (a killed rename leaves either). */
    const labels = new Map();
    /** credentialIds a delete was sent for, with whether it answered ok. */
    const deletes = new Map();
    let lastTotal = 0;

    const total = (st) => st.count + (st.deleted ?? 0);

    /** After a kill: the worker wakes, the vault is intact, nothing was lost. */
    async function checkVault(what) {
      const st = await b.vaultStatus();
      assert.deepEqual(st.damaged, [], `${what}: damaged entries after a kill: ${JSON.stringify(st)}`);
      assert.equal(st.headerState, 'ok', `${what}: header after a kill: ${JSON.stringify(st)}`);
      assert.equal(st.state, 'unlocked', `${what}: a background restart must not lock (storage.session): ${JSON.stringify(st)}`);
      assert.ok(total(st) >= lastTotal, `${what}: count+deleted went DOWN from ${lastTotal} to ${total(st)}: ${JSON.stringify(st)}`);
      lastTotal = total(st);
      return st;
    }

    /** Every saved (and not deleted-OK) passkey signs in; the list agrees with what was done. */
    async function checkAllSignIn(what) {
      const list = await okOf(b, { type: 'list-passkeys' });
      const byId = new Map(list.map((p) => [p.credentialId, p]));
      for (const [username, id] of saved) {
        const p = byId.get(id);
        assert.ok(p, `${what}: ${username}'s passkey ${id} (create answered OK) is missing from list-passkeys`);
        const del = deletes.get(id);
        if (del === 'ok') {
          assert.ok(p.deletedAt, `${what}: ${username}'s passkey was deleted (answered OK) but is not in Recently deleted`);
          continue;
        }
        if (p.deletedAt) {
          assert.ok(del, `${what}: ${username}'s passkey is deleted although no delete was sent`);
          continue; // a killed delete that did land
        }
        if (labels.has(id)) {
          assert.ok(labels.get(id).includes(p.label ?? ''), `${what}: ${username}'s label is ${JSON.stringify(p.label)}, expected one of ${JSON.stringify(labels.get(id))}`);
        }
        const { v } = await signIn(b, client, username);
        assert.equal(v.credentialId, id, `${what}: ${username} signed in with another passkey`);
      }
    }

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch();
      await b.goto(`${rp.url}/raw.html`);
      // The first create makes the vault (test PIN); a few more give rename/delete targets.
      for (let i = 0; i < 4; i++) {
        const { v } = await register(b, client, `seed-${i}`);
        saved.set(`seed-${i}`, v.credentialId);
      }
      lastTotal = total(await checkVault('after the seed passkeys'));
      console.log(`[crash] ${B.name}: seed ${seed} (VAULT_CRASH_SEED to repeat), ${ITERATIONS} iterations`);
    }));
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await rp?.close();
    });

    it(`kills the background at a random moment (0–${MAX_KILL_DELAY_MS} ms) in ${ITERATIONS} creates/renames/deletes; nothing saved is lost`, withLogs(ctx, async () => {
      const t0 = Date.now();
      const tally = { create: {}, rename: {}, delete: {} };
      const bump = (op, k) => (tally[op][k] = (tally[op][k] ?? 0) + 1);
      const land = { beforeStart: 0, inFlight: 0, afterAnswer: 0 };
      let pLeft = 0;
      let midWrite = 0;
      let lead = 5; // ms between arming the kill and the request starting (the start command's latency)

      for (let i = 0; i < ITERATIONS; i++) {
        const what = `iteration ${i}`;
        const live = [...saved.entries()].filter(([, id]) => !deletes.has(id));
        const x = rand();
        const op = x < 0.7 || live.length < 3 ? 'create' : x < 0.85 ? 'rename' : 'delete';
        const delay = rand() * MAX_KILL_DELAY_MS;
        const before = vaultKeys(await b.storageLocal());

        let outcome;
        let target = null;
        let startedAt;
        let answerMs = null; // how long the page waited for its answer (creates)
        let msg = null;
        let options = null;
        if (op === 'create') options = await client.registerOptions({ username: `crash-${i}` });
        else {
          const [tu, id] = live[Math.floor(rand() * live.length)];
          target = tu;
          msg = op === 'rename'
            ? { type: 'passkey-rename', credentialId: id, label: `label ${i}` }
            : { type: 'passkey-delete', credentialId: id };
          if (op === 'rename') labels.set(id, [...(labels.get(id) ?? ['']), msg.label]);
        }

        // The kill is armed first and fires `delay` ms after the request started (timed inside
        // the browser for Firefox, whose WebDriver commands cannot overlap).
        const { armedAt } = await b.armKill(delay + lead);
        if (op === 'create') {
          const call = await b.startWebauthn('create', options, { abortAfterMs: PAGE_ABORT_MS });
          startedAt = call.startedAt;
          const r = await call.result(PAGE_ABORT_MS + 5000);
          answerMs = r.ms;
          outcome = r.ok ? 'ok' : `error ${r.error?.name}`;
          if (r.ok) {
            const v = await client.registerVerify(r.ok);
            assertVerified(v, `${what}: registration answered OK`);
            saved.set(`crash-${i}`, v.credentialId);
          }
        } else {
          const call = await b.extMessageStart(msg);
          startedAt = call.startedAt;
          const r = await call.result(15000);
          const ok = r.v && r.v.ok === true;
          outcome = ok ? 'ok' : r.e ? 'no answer' : `error ${r.v?.error?.name}`;
          if (op === 'rename' && ok) labels.set(msg.credentialId, [msg.label]);
          if (op === 'delete') deletes.set(msg.credentialId, ok ? 'ok' : 'unknown');
        }
        const k = await b.killReport();
        lead = Math.max(0, 0.7 * lead + 0.3 * (startedAt - armedAt));
        const offset = k.firedAt - startedAt;
        if (offset < 0) land.beforeStart++;
        else if (outcome !== 'ok' || (answerMs !== null && offset < answerMs)) land.inFlight++;
        else land.afterAnswer++;

        // Raw storage right after the kill, before anything wakes the worker again.
        const after = vaultKeys(await b.storageLocal());
        if (after.previous.length) pLeft++;
        const committed = op === 'create' ? after.entries.length > before.entries.length : after.previous.length > 0;
        if (outcome !== 'ok' && committed) midWrite++;
        bump(op, outcome !== 'ok' && op === 'create' ? `${outcome}${committed ? ' (committed)' : ''}` : outcome);

        await checkVault(`${what} (${op}${target ? ` ${target}` : ''}, kill ${offset} ms after the start, ${outcome})`);
        if (i % 10 === 9) await checkAllSignIn(`after ${what}`);
      }
      await checkAllSignIn('after the loop');
      const st = await b.vaultStatus();
      const ms = Date.now() - t0;
      console.log(`[crash] ${B.name}: ${ITERATIONS} kills in ${(ms / 1000).toFixed(1)} s; kills landed: ${land.beforeStart} before the request started, ` +
        `${land.inFlight} while it was in flight, ${land.afterAnswer} after the page had its answer; outcomes ${JSON.stringify(tally)}; ` +
        `mid-write (storage.set landed, answer lost): ${midWrite}; kills that left vault:p: keys: ${pLeft}; ` +
        `final count ${st.count}, deleted ${st.deleted}; ${saved.size} passkeys checked`);
      console.log(`[crash] ${B.name}: vault:p: keys still in storage after the loop: ${vaultKeys(await b.storageLocal()).previous.length}`);
    }));

    it(`restarts the whole browser during a create (${BROWSER_RESTARTS}×); nothing saved is lost`, withLogs(ctx, async () => {
      for (let i = 0; i < BROWSER_RESTARTS; i++) {
        const username = `restart-${i}`;
        const options = await client.registerOptions({ username });
        const call = await b.startWebauthn('create', options, { abortAfterMs: PAGE_ABORT_MS });
        await new Promise((r) => setTimeout(r, rand() * MAX_KILL_DELAY_MS));
        // What the page had by the moment the browser goes (an answer later than that is lost).
        const r = (await call.peek()) ?? { lost: 'no answer before the browser closed' };
        await b.restartBrowser();
        if (r.ok) {
          const v = await client.registerVerify(r.ok);
          assertVerified(v, `restart ${i}: registration answered OK before the browser closed`);
          saved.set(username, v.credentialId);
        }
        await b.goto(`${rp.url}/raw.html?restart-${i}`);
        const locked = await b.vaultStatus();
        assert.equal(locked.state, 'locked', `restart ${i}: a browser restart locks: ${JSON.stringify(locked)}`);
        assert.deepEqual(locked.damaged, [], `restart ${i}: damaged entries: ${JSON.stringify(locked)}`);
        // Any request unlocks (the test flavor's test PIN); then the vault must be whole.
        const first = [...saved.entries()].find(([, id]) => !deletes.has(id));
        await signIn(b, client, first[0]);
        const st = await checkVault(`browser restart ${i}`);
        console.log(`[crash] ${B.name}: browser restart ${i}: create ${r.ok ? 'answered OK' : `not answered (${r.error?.name ?? r.lost})`}; count ${st.count}, deleted ${st.deleted}`);
        await checkAllSignIn(`after browser restart ${i}`);
      }
    }));
  });
}
