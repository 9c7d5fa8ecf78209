#!/usr/bin/env node
// Cold-start breakdown (README "Benchmarks", docs/design.md "Service worker behaviour"): the first
// get after a background restart, timed in the page, with the background's own timeline: Firefox's
// navigation timing of the background page (domInteractive, DOMContentLoaded) and every `lk:*`
// performance mark the background set. Builds made with LATCHKEY_MARKS=1 (scripts/bundle.mjs) mark
// the bundle's first statement (`top`) and the end of each module (`m:<file>`); finer marks
// (`performance.mark("lk:wasm")` after the wasm is ready, …) can be added to the sources for a
// measurement and are listed too. Several builds are compared back to back: one browser per build,
// launched once, and the samples alternate between them round by round (so load changes hit every
// build alike). Not part of `npm run bench`; never part of the tests.
//
// Env: DISTS (comma-separated dist folders, default dist), BROWSER (chromium|firefox, default
// firefox), N (rounds, default 20; 2 more are taken first and dropped), GECKODRIVER.
// The vault: CREATE (passkeys the page creates for its own site first, default 3: the bench's cold
// phase has 3 + BENCH_N, all for one site), or SIZE (a native vault of SIZE passkeys, 3 of them for
// the page's site and the rest for other sites: core/examples/bench_native.rs, as the bench's sizes;
// built with `cargo build --release -p latchkey-core --example bench_native` first).
// Prints one JSON line per build: the page's cold call and each mark (ms since the background's time
// origin) as [p50, p90], in the order of their medians.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../web-tests/harness/chromium.mjs';
import { launchFirefox } from '../../web-tests/harness/firefox.mjs';
import { startRp } from '../../web-tests/rp/server.mjs';
import { runInPage } from './page.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DISTS = (process.env.DISTS || 'dist').split(',').map((d) => path.resolve(ROOT, d));
const BROWSER = process.env.BROWSER || 'firefox';
const N = Number(process.env.N || 20);
const CREATE = Number(process.env.CREATE || 3);
const SIZE = Number(process.env.SIZE || 0);

/** A native vault fixture of `n` passkeys ({storage, sessionKey, localhost: [ids]}). */
function fixture(n) {
  const bin = path.join(ROOT, 'target/release/examples/bench_native');
  {
    // Always through cargo (a no-op when up to date): a stale example writes an older format.
    const r = spawnSync('cargo', ['build', '--release', '-p', 'latchkey-core', '--example', 'bench_native'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('could not build bench_native');
  }
  const out = path.join(os.tmpdir(), `lk-cold-${process.pid}.json`);
  const r = spawnSync(bin, ['fixture', String(n), out], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('bench_native fixture failed');
  const v = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out, { force: true });
  return v;
}
const FIXTURE = SIZE > 0 ? fixture(SIZE) : null;

const MARKS_FN = `((performance) => {
  const marks = {};
  for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('lk:')) marks[m.name.slice(3)] ??= m.startTime;
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav) { marks['nav:interactive'] = nav.domInteractive; marks['nav:dcl'] = nav.domContentLoadedEventStart; }
  return marks;
})`;

/** The background's marks: Firefox through getBackgroundPage, Chromium through CDP on the worker. */
async function readMarks(b) {
  if (BROWSER === 'firefox') {
    return b.extEval(`async () => {
      const bg = await globalThis.browser.runtime.getBackgroundPage();
      return ${MARKS_FN}(bg.performance);
    }`);
  }
  const cdp = await b.context.newCDPSession(b.page);
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const t = targetInfos.find((x) => x.type === 'service_worker' && x.url.startsWith(`chrome-extension://${b.extensionId}/`));
    if (!t) return {};
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false });
    const r = await new Promise((resolve, reject) => {
      cdp.on('Target.receivedMessageFromTarget', (e) => {
        if (e.sessionId !== sessionId) return;
        const m = JSON.parse(e.message);
        if (m.id === 1) resolve(m.result);
      });
      setTimeout(() => reject(new Error('no answer from the worker')), 10000);
      cdp
        .send('Target.sendMessageToTarget', {
          sessionId,
          message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: `${MARKS_FN}(performance)`, returnByValue: true } }),
        })
        .catch(reject);
    });
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {});
    return r.result.value ?? {};
  } finally {
    await cdp.detach().catch(() => {});
  }
}

const rp = await startRp({ port: 0 });
const runs = [];
try {
  for (const dist of DISTS) {
    const dir = path.join(dist, BROWSER === 'firefox' ? 'firefox-test' : 'chrome-test');
    const b = BROWSER === 'firefox' ? await launchFirefox({ extensionDir: dir }) : await launchChromium({ extensionDir: dir });
    await b.goto(`${rp.url}/raw.html`);
    const warm = await runInPage(b, { kind: 'create', n: FIXTURE ? 1 : CREATE });
    if (warm.errors) throw new Error(`${dist}: ${warm.firstError}`);
    if (FIXTURE) {
      // bench.mjs loadVault: storage.local replaced by the fixture's (settings kept), its session key set.
      await b.extEval(`async () => { const api = globalThis.browser ?? globalThis.chrome;
        const keys = Object.keys(await api.storage.local.get(null)).filter((k) => k !== 'settings');
        if (keys.length) await api.storage.local.remove(keys); return true; }`);
      await b.setStorageLocal(FIXTURE.storage);
      await b.extEval(`async (key) => { const api = globalThis.browser ?? globalThis.chrome;
        await api.storage.session.set({ vaultKey: key, lastActivity: Date.now() }); return true; }`, FIXTURE.sessionKey);
    }
    // The harness tab would refresh on every vault-changed broadcast (bench.mjs quietHarnessTab).
    await b.extEval(`async () => { const api = globalThis.browser ?? globalThis.chrome;
      const quiet = () => new Promise(() => {});
      try { api.runtime.sendMessage = quiet; } catch {}
      if (api.runtime.sendMessage !== quiet) Object.defineProperty(api.runtime, 'sendMessage', { value: quiet, configurable: true });
      return true; }`);
    runs.push({ dist, b, allow: FIXTURE ? FIXTURE.localhost.slice(0, 1) : warm.ids.slice(-1), samples: [] });
  }
  for (let i = 0; i < N + 2; i++) {
    for (const r of runs) {
      await r.b.restartBackground();
      const page = await runInPage(r.b, { kind: 'get', n: 1, allow: r.allow });
      if (page.errors) throw new Error(`${r.dist}: ${page.firstError}`);
      const marks = await readMarks(r.b);
      if (i >= 2) r.samples.push({ page: page.times[0], ...marks });
    }
  }
} finally {
  for (const r of runs) await r.b.close().catch(() => {});
  await rp.close?.();
}

const q = (v, p) => {
  const s = v.filter((x) => typeof x === 'number').sort((x, y) => x - y);
  return s.length ? Number(s[Math.max(0, Math.ceil(p * s.length) - 1)].toFixed(1)) : null;
};
for (const r of runs) {
  const keys = [...new Set(r.samples.flatMap((s) => Object.keys(s)))];
  const order = (k) => q(r.samples.map((s) => s[k]), 0.5) ?? 1e9;
  keys.sort((a, b) => (a === 'page' ? -1 : b === 'page' ? 1 : order(a) - order(b)));
  const vault = FIXTURE ? `fixture ${SIZE}` : `${CREATE} same-site`;
  const out = { dist: path.relative(ROOT, r.dist) || r.dist, browser: BROWSER, vault, n: r.samples.length, loadavg: os.loadavg()[0].toFixed(1) };
  for (const k of keys) out[k] = [q(r.samples.map((s) => s[k]), 0.5), q(r.samples.map((s) => s[k]), 0.9)];
  console.log(JSON.stringify(out));
}
