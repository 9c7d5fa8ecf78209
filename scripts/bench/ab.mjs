#!/usr/bin/env node
// A/B of the request path: page create / get / empty round trip (the floor) for two or more builds
// (copies of dist/), each in a fresh headless browser (test flavor), alternating, several rounds —
// on a shared, noisy machine only back-to-back alternation says which build is faster.
// Usage: node scripts/bench/ab.mjs <distA> <distB> ...
// Env: AB_N (calls per figure, default 200), AB_ROUNDS (default 3), AB_BROWSER (chromium | firefox),
//      AB_EXT_TAB=0 (no extension page open, as when no popup/options page is; default: npm run
//      bench's silenced harness tab, which an open popup resembles).
// Prints p50 and mean per round and over all rounds, with the load average. Not part of the tests.
import path from 'node:path';
import os from 'node:os';
import { launchChromium } from '../../web-tests/harness/chromium.mjs';
import { launchFirefox } from '../../web-tests/harness/firefox.mjs';
import { startRp } from '../../web-tests/rp/server.mjs';
import { runInPage } from './page.mjs';

const N = Number(process.env.AB_N || 200);
const ROUNDS = Number(process.env.AB_ROUNDS || 3);
const BROWSER = process.env.AB_BROWSER || 'chromium';
const dists = process.argv.slice(2).map((d) => path.resolve(d));
const sorted = (a) => [...a].sort((x, y) => x - y);
const p = (a, q) => sorted(a)[Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1))];
const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
const fmt = (a) => `p50 ${p(a, 0.5).toFixed(2)} mean ${mean(a).toFixed(2)}`;

async function one(dist, rpUrl) {
  const b = BROWSER === 'chromium'
    ? await launchChromium({ extensionDir: path.join(dist, 'chrome-test') })
    : await launchFirefox({ extensionDir: path.join(dist, 'firefox-test') });
  try {
    await b.goto(`${rpUrl}/isolated.html`); // cross-origin isolated: 5 µs timer (web-tests/rp/server.mjs)
    const warm = await runInPage(b, { kind: 'create', n: 3 });
    await runInPage(b, { kind: 'get', n: 3, allow: warm.ids.slice(-1) });
    // The harness's extension tab stays silent on vault-changed (as bench.mjs's quietHarnessTab).
    if (process.env.AB_EXT_TAB !== '0') await b.extEval(`async () => { const api = globalThis.browser ?? globalThis.chrome; const q = () => new Promise(() => {});
      try { api.runtime.sendMessage = q; } catch {} if (api.runtime.sendMessage !== q) Object.defineProperty(api.runtime, 'sendMessage', { value: q, configurable: true }); return true; }`);
    const out = {};
    out.floor = (await runInPage(b, { kind: 'cma', n: N })).times;
    const c = await runInPage(b, { kind: 'create', n: N });
    if (c.errors) throw new Error(c.firstError);
    out.create = c.times;
    const g = await runInPage(b, { kind: 'get', n: N, allow: c.ids.slice(-1) });
    if (g.errors) throw new Error(g.firstError);
    out.get = g.times;
    return out;
  } finally {
    await b.close();
  }
}

const rp = await startRp({ port: 0 });
const all = dists.map(() => ({ floor: [], create: [], get: [] }));
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < dists.length; i++) {
      const load = os.loadavg()[0].toFixed(2);
      const o = await one(dists[i], rp.url);
      for (const k of ['floor', 'create', 'get']) all[i][k].push(...o[k]);
      console.log(`round ${r} ${path.basename(dists[i])} load ${load}: floor ${fmt(o.floor)} | create ${fmt(o.create)} | get ${fmt(o.get)}`);
    }
  }
} finally {
  await rp.close();
}
for (let i = 0; i < dists.length; i++) {
  console.log(`ALL ${dists[i]}: floor ${fmt(all[i].floor)} | create ${fmt(all[i].create)} | get ${fmt(all[i].get)}`);
}
console.log(`load average now ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
