#!/usr/bin/env node
// Firefox's background start-up, timed by the background page itself (less noisy than a page's
// cold call: no request, no wasm). For before/after comparisons of how the background is shipped
// (README "Benchmarks", one background file). Not part of `npm run bench`; never part of the tests.
//
// Per sample: terminate the background (as about:debugging does), wake it with a `vault-status`
// message from the harness's extension tab, then read the new background page's navigation timing:
//   wake    the tab's sendMessage → answer (restart + page + modules + the answer)
//   dcl     the page's timeOrigin → DOMContentLoaded (module scripts run before it)
//   modules domInteractive → DOMContentLoaded: fetching, parsing and running the module scripts
//
// Env: LATCHKEY_DIST (default dist/; uses its firefox-test/), N (samples, default 20; 2 more are
// taken first and dropped), GECKODRIVER. Prints one JSON line: medians and p90s in ms.

import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchFirefox } from '../../web-tests/harness/firefox.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = path.resolve(ROOT, process.env.LATCHKEY_DIST || 'dist');
const N = Number(process.env.N || 20);

const b = await launchFirefox({ extensionDir: path.join(DIST, 'firefox-test') });
const samples = [];
try {
  for (let i = 0; i < N + 2; i++) {
    await b.restartBackground();
    const r = await b.extEval(`async () => {
      const api = globalThis.browser;
      const t0 = performance.now();
      await api.runtime.sendMessage({ type: 'vault-status' });
      const wake = performance.now() - t0;
      const bg = await api.runtime.getBackgroundPage();
      for (let k = 0; k < 100 && bg.document.readyState !== 'complete'; k++) await new Promise((r) => setTimeout(r, 20));
      const nav = bg.performance.getEntriesByType('navigation')[0];
      return { wake, dcl: nav.domContentLoadedEventStart, modules: nav.domContentLoadedEventStart - nav.domInteractive };
    }`);
    if (i >= 2) samples.push(r);
  }
} finally {
  await b.close();
}
const q = (key, p) => {
  const v = samples.map((s) => s[key]).sort((x, y) => x - y);
  return Number(v[Math.max(0, Math.ceil(p * v.length) - 1)].toFixed(1));
};
const out = { dist: path.relative(ROOT, DIST) || DIST, n: samples.length, loadavg: os.loadavg()[0].toFixed(1) };
for (const key of ['wake', 'dcl', 'modules']) out[key] = { p50: q(key, 0.5), p90: q(key, 0.9) };
console.log(JSON.stringify(out));
