#!/usr/bin/env node
// `npm run bench`: Latchkey's performance figures in one run, each with its target (issue 6).
// Never part of the pass/fail tests: it prints a table (PASS/MISS per target) and writes
// bench-results/bench-<date>.json. Exit code 0 unless the bench itself could not run.
//
// What it measures (docs: README.md "Benchmarks"):
//   * create/get through Latchkey in headless Chromium and Firefox (in-page performance.now around
//     navigator.credentials.*, test flavor, vault unlocked) vs Chromium's CDP virtual authenticator
//     in the same Chromium binary; the messaging floor (an empty page → service worker → page round
//     trip: PublicKeyCredential.isConditionalMediationAvailable(), answered by the worker) and the
//     wasm core's own time (the same module, timed in an extension page) as a breakdown.
//   * the first call after a service-worker restart (wasm instantiate + vault reopen + the call).
//   * real vaults of 100 / 1,000 / 10,000 passkeys (made natively: core/examples/bench_native.rs):
//     cold call, get (discoverable / allowCredentials), unlock without the KDF (the session-key path
//     of a woken worker), bytes written when one passkey is added, storage per passkey, SW JS heap.
//   * Argon2id at the default parameters, wasm vs native; the wasm size; the native host.
//
// Env: BENCH_N (calls per latency figure, default 200), BENCH_BROWSERS (default chromium,firefox),
//      BENCH_SIZES (default 100,1000,10000), BENCH_COLD (cold-start samples, default 10),
//      BENCH_RATIO_LAUNCHES (Chromium launches on each side of the ratio to the built-in
//      authenticator, alternating, their calls pooled; default 3: one launch's p50 swings ±15%),
//      LATCHKEY_DIST (default dist/), BENCH_LABEL (a name stored in the JSON, e.g. "before").
// Builds dist/ (node scripts/build.mjs) and the native host with its test verifier
// (target/bench-host/) only when missing (stale ones are used as they are); the bench_native example
// always goes through cargo (a no-op when it is up to date), so the vault fixtures are written by
// the current core's format.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../web-tests/harness/chromium.mjs';
import { launchFirefox } from '../../web-tests/harness/firefox.mjs';
import { startRp } from '../../web-tests/rp/server.mjs';
import { runInPage, WASM_BENCH_SRC, STORAGE_BENCH_SRC } from './page.mjs';
import { benchNativeHost } from './native-host.mjs';
import { swHeapChromium } from './heap.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = path.resolve(ROOT, process.env.LATCHKEY_DIST || 'dist');
const N = Number(process.env.BENCH_N || 200);
const COLD = Number(process.env.BENCH_COLD || 10);
const BROWSERS = (process.env.BENCH_BROWSERS || 'chromium,firefox').split(',').map((s) => s.trim()).filter(Boolean);
const SIZES = (process.env.BENCH_SIZES || '100,1000,10000').split(',').map(Number).filter((n) => n > 0);
const RATIO_LAUNCHES = Math.max(1, Number(process.env.BENCH_RATIO_LAUNCHES || 3));
const TEST_PIN = 'latchkey-test-pin';
const NATIVE_EXAMPLE = path.join(ROOT, 'target/release/examples/bench_native');
const HOST_TARGET = path.join(ROOT, 'target/bench-host');
const HOST_BIN = path.join(HOST_TARGET, 'release/latchkey-host');

const log = (...a) => console.error('[bench]', ...a);

// ---- statistics ---------------------------------------------------------------------------------

const sorted = (a) => [...a].sort((x, y) => x - y);
/** Nearest-rank percentile. */
function pct(list, p) {
  if (!list || list.length === 0) return null;
  const s = sorted(list);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const stats = (list) => ({ n: list.length, p50: pct(list, 50), p95: pct(list, 95), min: pct(list, 0), max: pct(list, 100) });

// ---- builds (only when missing) -----------------------------------------------------------------

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

function ensureBuilds(browsers) {
  const need = browsers.map((b) => path.join(DIST, b === 'chromium' ? 'chrome-test' : 'firefox-test', 'manifest.json'));
  if (need.some((f) => !fs.existsSync(f))) {
    if (process.env.LATCHKEY_DIST) throw new Error(`LATCHKEY_DIST=${DIST} has no test-flavor build`);
    run(process.execPath, ['scripts/build.mjs']);
  }
  run('cargo', ['build', '--release', '-p', 'latchkey-core', '--example', 'bench_native']);
  if (!fs.existsSync(HOST_BIN)) {
    run('cargo', ['build', '--release', '-p', 'native-host', '--features', 'test-verifier', '--target-dir', HOST_TARGET]);
  }
}

function nativeJson(args) {
  const out = path.join(os.tmpdir(), `lk-bench-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(NATIVE_EXAMPLE, [...args.slice(0, 1), ...(args[0] === 'fixture' ? [args[1], out] : [out, ...args.slice(1)])], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`bench_native ${args.join(' ')} failed`);
  const v = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out, { force: true });
  return v;
}

// ---- browsers -----------------------------------------------------------------------------------

async function launch(name, extension) {
  if (name === 'chromium') return launchChromium({ extensionDir: extension ? path.join(DIST, 'chrome-test') : null });
  return launchFirefox({ extensionDir: extension ? path.join(DIST, 'firefox-test') : null });
}

async function loop(b, spec) {
  const r = await runInPage(b, spec);
  if (!r.isolated) log(`${b.name}: the bench page is not cross-origin isolated: its timer is coarse (Chromium: 100 µs)`);
  if (r.errors > 0) throw new Error(`${b.name}: ${r.errors} of ${spec.n} ${spec.kind} calls failed; first: ${r.firstError}`);
  return r;
}

/** Replaces storage.local with `storage` (keeping settings) and sets the session key. */
async function loadVault(b, fixture) {
  await b.extEval(
    `async () => { const api = globalThis.browser ?? globalThis.chrome;
       const keys = Object.keys(await api.storage.local.get(null)).filter((k) => k !== 'settings');
       if (keys.length) await api.storage.local.remove(keys); return true; }`,
  );
  await b.setStorageLocal(fixture.storage);
  await b.extEval(
    `async (key) => { const api = globalThis.browser ?? globalThis.chrome;
       await api.storage.session.set({ vaultKey: key, lastActivity: Date.now() }); return true; }`,
    fixture.sessionKey,
  );
}

/**
 * The harness's extension tab (b.extEval runs in extension/ui/popup.html) would refresh on every
 * `vault-changed` broadcast and ask the worker for the status and the whole list, queueing behind
 * the requests under test: that is the popup's cost, not a request's. The tab's own
 * runtime.sendMessage is replaced by a no-op, so it stays silent (a closed popup is the usual case).
 */
async function quietHarnessTab(b) {
  const ok = await b.extEval(
    `async () => { const api = globalThis.browser ?? globalThis.chrome;
       const quiet = () => new Promise(() => {});
       try { api.runtime.sendMessage = quiet; } catch {}
       if (api.runtime.sendMessage !== quiet) Object.defineProperty(api.runtime, 'sendMessage', { value: quiet, configurable: true });
       return api.runtime.sendMessage === quiet; }`,
  );
  if (!ok) throw new Error(`${b.name}: could not silence the harness's extension tab`);
}

/** b.extEval without its 20 s bound (an eager unlock of 10,000 passkeys takes longer). */
async function extLong(b, src, ...args) {
  const h = await b.extStart(src, ...args);
  const r = await h.result(600_000);
  if ('e' in r) throw new Error(`${b.name}: ${r.e}`);
  return r.v;
}

async function coldCall(b, allow) {
  await b.restartBackground();
  const r = await loop(b, { kind: 'get', n: 1, allow });
  return r.times[0];
}

/** The bench page, a warm-up (the first create makes the test flavor's vault: Argon2id at the default parameters), a silent harness tab. */
async function warmUp(b, rpUrl) {
  await b.goto(`${rpUrl}/isolated.html`); // cross-origin isolated: 5 µs timer (web-tests/rp/server.mjs)
  const warm = await loop(b, { kind: 'create', n: 3 });
  await loop(b, { kind: 'get', n: 3, allow: warm.ids.slice(-1) });
  await quietHarnessTab(b);
}

async function benchBrowser(name, rpUrl, fixtures) {
  const out = { browser: name };
  log(`${name}: launching (test flavor)`);
  const b = await launch(name, true);
  try {
    await warmUp(b, rpUrl);

    log(`${name}: messaging floor, create, get (${N} each)`);
    out.floor = stats((await loop(b, { kind: 'cma', n: N })).times);
    const created = await loop(b, { kind: 'create', n: N });
    out.create = stats(created.times);
    const allow = created.ids.slice(-1);
    const got = await loop(b, { kind: 'get', n: N, allow });
    out.get = stats(got.times);
    out.launches = [{ create: created.times, get: got.times }]; // pooled with latencyLaunch()'s (main)

    log(`${name}: breakdown (wasm core and storage timed in an extension page)`);
    const st = await b.extEval(STORAGE_BENCH_SRC, Math.min(N, 50), 1000);
    out.storageSet1KB = stats(st.set);
    out.storageGetSmall = stats(st.get);
    const origin = new URL(rpUrl).origin;
    const wasm = await extLong(b, WASM_BENCH_SRC, { origin, localhost: allow, n: Math.min(N, 50), createN: Math.min(N, 50) });
    out.wasmCreate = stats(wasm.createTimes);
    out.wasmGet = stats(wasm.getAllow);
    out.wasmInstantiateMs = wasm.instantiateMs;

    log(`${name}: cold start (${COLD} service-worker restarts)`);
    const cold = [];
    const coldFloor = [];
    for (let i = 0; i < COLD; i++) {
      cold.push(await coldCall(b, allow));
      // The same restart answered without the wasm core (site-status): the worker's own start-up.
      await b.restartBackground();
      coldFloor.push((await loop(b, { kind: 'cma', n: 1 })).times[0]);
    }
    out.cold = stats(cold);
    out.coldFloor = stats(coldFloor);

    out.sizes = {};
    for (const size of SIZES) {
      const f = fixtures[size];
      log(`${name}: vault of ${size} passkeys`);
      await loadVault(b, f);
      const sizeOut = {};
      const colds = [];
      for (let i = 0; i < Math.min(COLD, 3); i++) colds.push(await coldCall(b, f.localhost.slice(0, 1)));
      sizeOut.cold = stats(colds);
      sizeOut.getDiscoverable = stats((await loop(b, { kind: 'get', n: N })).times);
      sizeOut.getAllow = stats((await loop(b, { kind: 'get', n: N, allow: f.localhost.slice(0, 1) })).times);
      sizeOut.swHeap = name === 'chromium' ? await swHeapChromium(b).catch((e) => ({ error: e.message })) : null;
      const w = await extLong(b, WASM_BENCH_SRC, {
        origin,
        localhost: f.localhost,
        n: Math.min(N, 50),
        createN: 1,
        pin: size === SIZES[0] ? TEST_PIN : null,
      });
      if (w.count !== size) throw new Error(`${name}: the wasm core unlocked ${w.count} of ${size} passkeys`);
      Object.assign(sizeOut, {
        readMs: w.readMs,
        stringifyMs: w.stringifyMs,
        loadMs: w.loadMs,
        unlockMs: w.unlockMs,
        unlockTotalMs: w.loadMs + w.unlockMs,
        firstGetMs: w.firstGetMs,
        verifyMs: w.verifyMs,
        verifySliceMaxMs: w.verifySliceMaxMs,
        wasmGetDiscoverable: stats(w.getDiscoverable),
        wasmGetAllow: stats(w.getAllow),
        addBytes: w.addBytes,
        addKeys: w.addKeys,
        storageBytes: w.storageBytes,
        jsonBytes: w.jsonBytes,
        bytesPerPasskey: (w.storageBytes ?? w.jsonBytes) / size,
        wasmMemoryBytes: w.wasmMemoryBytes,
      });
      if (w.verifyPinMs !== null) out.argon2WasmMs = w.verifyPinMs;
      out.sizes[size] = sizeOut;
    }
  } finally {
    await b.close();
  }
  return out;
}

/** Chromium's built-in authenticator (CDP WebAuthn virtual authenticator), no extension. */
async function benchCdp(rpUrl) {
  log('chromium: CDP virtual authenticator (no extension)');
  const b = await launch('chromium', false);
  try {
    await b.goto(`${rpUrl}/isolated.html`); // cross-origin isolated: 5 µs timer (web-tests/rp/server.mjs)
    const cdp = await b.context.newCDPSession(b.page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    // It holds 3 discoverable credentials at most: creates cycle through 3 user ids (replacing).
    const warm = await loop(b, { kind: 'create', n: 3, userIds: 3 });
    await loop(b, { kind: 'get', n: 3, allow: warm.ids.slice(-1) });
    const created = await loop(b, { kind: 'create', n: N, userIds: 3 });
    const get = await loop(b, { kind: 'get', n: N, allow: created.ids.slice(-1) });
    return { create: created.times, get: get.times };
  } finally {
    await b.close();
  }
}

/** One more Chromium launch with Latchkey: create and get only (the ratio's other side). */
async function latencyLaunch(rpUrl) {
  log('chromium: Latchkey create, get (another launch for the ratio)');
  const b = await launch('chromium', true);
  try {
    await warmUp(b, rpUrl);
    const created = await loop(b, { kind: 'create', n: N });
    const get = await loop(b, { kind: 'get', n: N, allow: created.ids.slice(-1) });
    return { create: created.times, get: get.times };
  } finally {
    await b.close();
  }
}

/** Pooled stats of several launches' calls, with each launch's own p50. */
const pooled = (launches, kind) => ({ ...stats(launches.flatMap((l) => l[kind])), launchP50: launches.map((l) => pct(l[kind], 50)) });

// ---- table --------------------------------------------------------------------------------------

const f1 = (v) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2));
const kb = (v) => (v === null || v === undefined ? '—' : `${(v / 1024).toFixed(1)} KB`);

function rows(r) {
  const out = [];
  const add = (figure, where, value, target = '', pass = null) => out.push({ figure, where, value, target, pass });
  const lat = (s) => (s ? `p50 ${f1(s.p50)} / p95 ${f1(s.p95)} ms` : '—');
  const cdp = r.cdp;
  const launches = (s) => (s.launchP50 && s.launchP50.length > 1 ? ` (launches: ${s.launchP50.map(f1).join(' / ')})` : '');
  for (const b of r.browsers) {
    const w = b.browser;
    for (const kind of ['create', 'get']) {
      const mine = w === 'chromium' && r.latchkeyPooled ? r.latchkeyPooled[kind] : b[kind];
      const n = mine.launchP50 && mine.launchP50.length > 1 ? `${mine.n / mine.launchP50.length}×${mine.launchP50.length}` : `${mine.n}`;
      add(`${kind} via Latchkey (n=${n})`, w, `${lat(mine)}${launches(mine)}`);
      if (w === 'chromium' && cdp) {
        const ratio = mine.p50 / cdp[kind].p50;
        add(`${kind} via CDP virtual authenticator`, w, `${lat(cdp[kind])}${launches(cdp[kind])}`);
        add(`${kind} p50 ratio Latchkey / built-in`, w, `${ratio.toFixed(2)}×`, '≤ 1.5×', ratio <= 1.5);
      }
    }
    add('floor: empty page→SW→page round trip', w, lat(b.floor));
    add('  of which wasm create (core only)', w, lat(b.wasmCreate));
    add('  of which wasm get (core only)', w, lat(b.wasmGet));
    add('  storage.local.set of 1 KB', w, lat(b.storageSet1KB));
    add('cold start: first call after SW restart', w, lat(b.cold), '≤ 60 ms', b.cold.p50 <= 60);
    add('  floor: first empty round trip after restart', w, lat(b.coldFloor));
    for (const [size, s] of Object.entries(b.sizes)) {
      const at10k = Number(size) === 10000;
      add(`${size}: cold call (restart + reopen + get)`, w, lat(s.cold));
      add(`${size}: unlock without KDF (load+unlock)`, w, `${f1(s.unlockTotalMs)} ms (load ${f1(s.loadMs)} + unlock ${f1(s.unlockMs)})`, at10k ? '≤ 50 ms' : '', at10k ? s.unlockTotalMs <= 50 : null);
      add(`${size}: wasm first get after unlock (opens the site)`, w, `${f1(s.firstGetMs)} ms`);
      if (s.verifyMs !== null && s.verifyMs !== undefined) {
        add(`${size}: wasm background verification`, w, `${f1(s.verifyMs)} ms (slices of 32: max ${f1(s.verifySliceMaxMs)} ms)`);
      }
      add(`${size}: get, discoverable`, w, lat(s.getDiscoverable), at10k ? 'p50 ≤ 3 ms' : '', at10k ? s.getDiscoverable.p50 <= 3 : null);
      add(`${size}: get, allowCredentials`, w, lat(s.getAllow), at10k ? 'p50 ≤ 3 ms' : '', at10k ? s.getAllow.p50 <= 3 : null);
      add(`${size}: wasm get (core only) disc. / allow`, w, `p50 ${f1(s.wasmGetDiscoverable.p50)} / ${f1(s.wasmGetAllow.p50)} ms`);
      add(`${size}: bytes written adding one passkey`, w, `${s.addBytes} B`, at10k ? '≤ 2 KB' : '', at10k ? s.addBytes <= 2048 : null);
      add(`${size}: storage per passkey`, w, `${f1(s.bytesPerPasskey)} B${s.storageBytes === null ? ' (JSON size)' : ''}`);
      const heap = s.swHeap && !s.swHeap.error ? `${kb(s.swHeap.usedSize)} used / ${kb(s.swHeap.totalSize)}` : s.swHeap?.error ? `error: ${s.swHeap.error}` : 'not exposed (see README)';
      add(`${size}: SW JS heap (+ wasm memory)`, w, `${heap}; wasm ${kb(s.wasmMemoryBytes)}`);
    }
    if (b.argon2WasmMs !== undefined) {
      const ratio = b.argon2WasmMs / r.native.argon2VerifyPinMs;
      add('Argon2id default (64 MiB, t=6): wasm vs native', w, `${f1(b.argon2WasmMs)} ms vs ${f1(r.native.argon2VerifyPinMs)} ms (${ratio.toFixed(1)}×)`);
    }
  }
  for (const [size, ms] of Object.entries(r.native.sessionUnlockMs)) add(`${size}: unlock without KDF, native`, 'native', `${f1(ms)} ms`);
  for (const [size, ms] of Object.entries(r.native.sessionUnlockFromTextMs ?? {})) add(`${size}: unlock without KDF from JSON text, native`, 'native', `${f1(ms)} ms`);
  for (const [size, ms] of Object.entries(r.native.verifyAllMs ?? {})) add(`${size}: background verification, native`, 'native', `${f1(ms)} ms`);
  add('wasm size raw', 'build', `${r.wasm.raw} B (${kb(r.wasm.raw)})`, '≤ 300 KB', r.wasm.raw <= 300 * 1024);
  add('wasm size gzip -9', 'build', `${r.wasm.gzip} B (${kb(r.wasm.gzip)})`);
  if (r.host) {
    const h = r.host;
    add('native host: start → hello answer', 'native', `p50 ${f1(h.start.p50)} / p95 ${f1(h.start.p95)} ms`);
    add('native host: round trip (cancel)', 'native', `p50 ${f1(h.roundTrip.p50 * 1000)} / p95 ${f1(h.roundTrip.p95 * 1000)} µs`);
    add('native host: verify-user (test verifier)', 'native', `p50 ${f1(h.verifyUser.p50)} / p95 ${f1(h.verifyUser.p95)} ms`);
    add('native host: resident memory', 'native', `${kb(h.rssBytes)} (peak ${kb(h.peakRssBytes)})`);
  }
  return out;
}

function printTable(list) {
  const w = [0, 0, 0, 0];
  const cells = list.map((r) => [r.figure, r.where, r.value, r.target ? `${r.target} ${r.pass ? 'PASS' : 'MISS'}` : '']);
  for (const c of cells) c.forEach((x, i) => (w[i] = Math.max(w[i], x.length)));
  const line = (c) => `| ${c.map((x, i) => x.padEnd(w[i])).join(' | ')} |`;
  console.log(line(['figure', 'where', 'value', 'target']));
  console.log(`|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  const started = new Date();
  ensureBuilds(BROWSERS);
  const wasmBytes = fs.readFileSync(path.join(DIST, BROWSERS[0] === 'firefox' ? 'firefox-test' : 'chrome-test', 'pkg/latchkey_wasm_bg.wasm'));
  const result = {
    label: process.env.BENCH_LABEL ?? null,
    date: started.toISOString(),
    conditions: { n: N, cold: COLD, sizes: SIZES, browsers: BROWSERS, cpus: os.cpus().length, loadavg: os.loadavg(), dist: DIST },
    wasm: { raw: wasmBytes.length, gzip: zlib.gzipSync(wasmBytes, { level: 9 }).length },
  };
  log('native: Argon2id and session unlock (core/examples/bench_native.rs)');
  result.native = nativeJson(['native', ...SIZES.map(String)]);
  const fixtures = {};
  for (const size of SIZES) {
    log(`native: a real vault of ${size} passkeys`);
    fixtures[size] = nativeJson(['fixture', String(size)]);
  }
  result.host = await benchNativeHost(HOST_BIN).catch((e) => ({ error: e.message }));
  if (result.host.error) log(`native host: ${result.host.error}`);
  const rp = await startRp({ port: 0 });
  try {
    const cdpLaunches = [];
    if (BROWSERS.includes('chromium')) cdpLaunches.push(await benchCdp(rp.url));
    result.browsers = [];
    for (const name of BROWSERS) result.browsers.push(await benchBrowser(name, rp.url, fixtures));
    const chromium = result.browsers.find((b) => b.browser === 'chromium');
    if (chromium) {
      // The ratio's two sides alternate launches (built-in, Latchkey, built-in, …), calls pooled.
      const mine = chromium.launches;
      for (let i = 1; i < RATIO_LAUNCHES; i++) {
        cdpLaunches.push(await benchCdp(rp.url));
        mine.push(await latencyLaunch(rp.url));
      }
      result.cdp = { create: pooled(cdpLaunches, 'create'), get: pooled(cdpLaunches, 'get') };
      result.latchkeyPooled = { create: pooled(mine, 'create'), get: pooled(mine, 'get') };
    }
    for (const b of result.browsers) delete b.launches; // raw times: not kept in the JSON
  } finally {
    await rp.close();
  }
  if (result.host.error) result.host = null;
  result.table = rows(result);
  printTable(result.table);
  const dir = path.join(ROOT, 'bench-results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwritten: ${path.relative(ROOT, file)}  (load average at start ${result.conditions.loadavg.map((x) => x.toFixed(2)).join(' ')})`);
}

main().catch((e) => {
  console.error(`[bench] FAILED: ${e.stack || e.message}`);
  process.exit(1);
});
