// Runs last (files run in name order with --test-concurrency=1): prints one line per browser with
// the in-page create/get latencies the other test files recorded in this run. Informational only.

import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACTS } from './harness/support.mjs';
import { summarize } from './harness/page-webauthn.mjs';

test('latency summary (informational)', () => {
  // Every test file of one `node --test` run is a child of the same runner process.
  const file = path.join(ARTIFACTS, `latency-${process.ppid}.jsonl`);
  if (!fs.existsSync(file)) {
    console.log('[latency] no measurements recorded in this run');
    return;
  }
  const per = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line);
    per[r.browser] ??= { create: [], get: [] };
    per[r.browser].create.push(...r.create);
    per[r.browser].get.push(...r.get);
  }
  for (const [browser, l] of Object.entries(per)) {
    console.log(`[latency] ALL ${browser}: create ${summarize(l.create)}; get ${summarize(l.get)} (in-page, performance.now around the call)`);
  }
  fs.rmSync(file, { force: true });
  // Leftovers of runs that did not reach this file (a single test file run on its own).
  for (const f of fs.readdirSync(ARTIFACTS)) {
    const p = path.join(ARTIFACTS, f);
    if (/^latency-\d+\.jsonl$/.test(f) && Date.now() - fs.statSync(p).mtimeMs > 3600_000) fs.rmSync(p, { force: true });
  }
});
