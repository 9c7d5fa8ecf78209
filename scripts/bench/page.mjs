// Code that runs inside the browser for `npm run bench`: an in-page loop of WebAuthn calls (the
// site's own realm, timed with performance.now around each call) and the wasm core measured
// directly in an extension page (the same module the service worker loads).

/** Runs IN THE PAGE: `spec.n` calls of one kind; returns {times, ids, errors, firstError}. */
function pageLoop(spec) {
  const rnd = (n) => crypto.getRandomValues(new Uint8Array(n));
  const b64 = (buf) => {
    let s = '';
    for (const c of new Uint8Array(buf)) s += String.fromCharCode(c);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const allow = spec.allow ? spec.allow.map((id) => ({ type: 'public-key', id: unb64(id) })) : undefined;
  return (async () => {
    const times = [];
    const ids = [];
    let errors = 0;
    let firstError = null;
    for (let i = 0; i < spec.n; i++) {
      const t0 = performance.now();
      try {
        if (spec.kind === 'create') {
          const userId = spec.userIds ? new TextEncoder().encode(`bench-user-${i % spec.userIds}`) : rnd(16);
          const cred = await navigator.credentials.create({
            publicKey: {
              challenge: rnd(32),
              rp: { id: location.hostname, name: 'Latchkey bench' },
              user: { id: userId, name: `bench${i}@example.com`, displayName: `Bench ${i}` },
              pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
              authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
              attestation: 'none',
              timeout: 30000,
            },
          });
          times.push(performance.now() - t0);
          ids.push(b64(cred.rawId));
        } else if (spec.kind === 'get') {
          const cred = await navigator.credentials.get({
            publicKey: { challenge: rnd(32), rpId: location.hostname, allowCredentials: allow, userVerification: 'preferred', timeout: 30000 },
          });
          times.push(performance.now() - t0);
          ids.push(b64(cred.rawId));
        } else if (spec.kind === 'cma') {
          // page → content relay → service worker (site-status) → relay → page: the messaging floor.
          await PublicKeyCredential.isConditionalMediationAvailable();
          times.push(performance.now() - t0);
        }
      } catch (e) {
        errors++;
        firstError ??= `${e && e.name}: ${e && e.message}`;
      }
    }
    // isolated: whether the page is cross-origin isolated (Chromium's timer then ticks in 5 µs, else 100 µs).
    return { times, ids: [...new Set(ids)].slice(-3), errors, firstError, isolated: self.crossOriginIsolated === true };
  })();
}

/**
 * Runs `pageLoop(spec)` in the page's own realm (a <script> element: the test page has no CSP; in
 * Firefox WebDriver scripts run in a sandbox) and polls for the result in a DOM attribute.
 */
export async function runInPage(b, spec, timeoutMs = 300_000) {
  const key = `data-lk-bench-${Math.random().toString(36).slice(2)}`;
  const src = `(${pageLoop})(${JSON.stringify(spec)}).then((r) => document.documentElement.setAttribute(${JSON.stringify(key)}, JSON.stringify(r)))`;
  await b.evaluate(`(() => { const s = document.createElement('script'); s.textContent = ${JSON.stringify(src)}; document.documentElement.append(s); s.remove(); return true; })()`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await b.evaluate(`document.documentElement.getAttribute(${JSON.stringify(key)})`);
    if (v) return JSON.parse(v);
    await new Promise((r) => setTimeout(r, spec.n > 20 ? 200 : 20));
  }
  throw new Error(`the in-page ${spec.kind} loop did not finish within ${timeoutMs} ms`);
}

/**
 * Runs in an extension page (b.extEval): the wasm core on what storage holds now, timed directly.
 * spec: {origin, localhost: [credential ids], pin?, n, createN}. Nothing is written to storage.
 */
export const WASM_BENCH_SRC = `async (spec) => {
  const api = globalThis.browser ?? globalThis.chrome;
  const mod = await import(api.runtime.getURL('pkg/latchkey_wasm.js'));
  const t0 = performance.now();
  const exports = await mod.default({ module_or_path: api.runtime.getURL('pkg/latchkey_wasm_bg.wasm') });
  const instantiateMs = performance.now() - t0;
  const ok = (json) => { const e = JSON.parse(json); if (!('ok' in e)) throw new Error(JSON.stringify(e.error)); return e.ok; };
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
  const t1 = performance.now();
  const all = await api.storage.local.get(null);
  const readMs = performance.now() - t1;
  const { vaultKey } = await api.storage.session.get('vaultKey');
  if (typeof vaultKey !== 'string') throw new Error('no session key in storage.session');
  const runs = { stringify: [], load: [], unlock: [] };
  let lk = null;
  for (let r = 0; r < 3; r++) {
    if (lk) lk.free();
    lk = new mod.Latchkey();
    let t = performance.now();
    const text = JSON.stringify(all);
    runs.stringify.push(performance.now() - t);
    t = performance.now();
    ok(lk.load(text));
    runs.load.push(performance.now() - t);
    t = performance.now();
    ok(lk.unlockWithSessionKey(vaultKey));
    runs.unlock.push(performance.now() - t);
  }
  const ctx = JSON.stringify({ origin: spec.origin, topOrigin: null });
  const rnd = (n = 32) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n)))).replace(/[+]/g, '-').replace(/[/]/g, '_').replace(/=+$/, '');
  // The first get after the (lazy) unlock opens that site's entries; then the background
  // verification opens the rest, in the worker's slices (extension/background/vault.js).
  let t = performance.now();
  {
    const options = JSON.stringify({ challenge: rnd(), rpId: 'localhost', userVerification: 'preferred' });
    const inspected = ok(lk.inspectGet(ctx, options));
    const pick = inspected.candidates.reduce((a, c) => (c.created > a.created ? c : a));
    ok(lk.get(ctx, options, JSON.stringify({ credentialId: pick.credentialId, userPresent: true, userVerified: true })));
  }
  const firstGetMs = performance.now() - t;
  let verifyMs = null;
  let verifySliceMaxMs = null;
  if (typeof lk.verifyStep === 'function') {
    verifyMs = 0;
    verifySliceMaxMs = 0;
    for (;;) {
      t = performance.now();
      const step = ok(lk.verifyStep(32));
      const d = performance.now() - t;
      verifyMs += d;
      verifySliceMaxMs = Math.max(verifySliceMaxMs, d);
      if (step.unverified === 0) break;
    }
  }
  const count = lk.count();
  // What the worker does after answering (requests.js): the next request's nonce / key pair,
  // computed ahead and so outside the timed region (older builds have no precompute).
  const precompute = () => { if (typeof lk.precompute === 'function') lk.precompute(); };
  precompute(); // after the first get above
  const getTimes = (allow) => {
    const times = [];
    for (let i = 0; i < spec.n; i++) {
      const options = JSON.stringify({ challenge: rnd(), rpId: 'localhost', userVerification: 'preferred',
        ...(allow ? { allowCredentials: [{ type: 'public-key', id: allow }] } : {}) });
      const t = performance.now();
      const inspected = ok(lk.inspectGet(ctx, options));
      const pick = inspected.candidates.reduce((a, c) => (c.created > a.created ? c : a));
      ok(lk.get(ctx, options, JSON.stringify({ credentialId: pick.credentialId, userPresent: true, userVerified: true })));
      times.push(performance.now() - t);
      precompute();
    }
    return times;
  };
  const discoverable = getTimes(null);
  const allowList = getTimes(spec.localhost[0]);
  // The gets' lastUsed waits in the core and would ride along in the next commit (the worker
  // flushes it within 500 ms): flush it first, so the create below writes only its own passkey.
  if (typeof lk.flushMetadata === 'function') ok(lk.flushMetadata());
  const createTimes = [];
  let first = null;
  for (let i = 0; i < (spec.createN || 1); i++) {
    const createOptions = JSON.stringify({ challenge: rnd(), rp: { id: 'localhost', name: 'Latchkey bench' },
      user: { id: rnd(16), name: 'new' + i + '@example.com', displayName: 'New ' + i },
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }], authenticatorSelection: { residentKey: 'required' } });
    t = performance.now();
    const created = ok(lk.create(ctx, createOptions, JSON.stringify({ userPresent: true, userVerified: true })));
    createTimes.push(performance.now() - t);
    precompute();
    first ??= created;
  }
  // What the worker hands to storage.local.set for a new passkey: keys + JSON values.
  const setKeys = Object.keys(first.commit.set);
  const addBytes = setKeys.reduce((n, k) => n + k.length + JSON.stringify(first.commit.set[k]).length, 0);
  let storageBytes = null;
  if (api.storage.local.getBytesInUse) storageBytes = await api.storage.local.getBytesInUse(null);
  const jsonBytes = JSON.stringify(all).length;
  let verifyPinMs = null;
  if (spec.pin) {
    const k = [];
    for (let i = 0; i < 3; i++) { t = performance.now(); ok(lk.verifyPin(spec.pin)); k.push(performance.now() - t); }
    verifyPinMs = median(k);
  }
  const wasmMemoryBytes = exports.memory ? exports.memory.buffer.byteLength : null;
  lk.free();
  return {
    count, instantiateMs, readMs, stringifyMs: median(runs.stringify), loadMs: median(runs.load), unlockMs: median(runs.unlock),
    firstGetMs, verifyMs, verifySliceMaxMs,
    getDiscoverable: discoverable, getAllow: allowList, createTimes, addBytes, addKeys: setKeys.length,
    storageBytes, jsonBytes, verifyPinMs, wasmMemoryBytes,
  };
}`;

/** Runs in an extension page: timing of one storage.local.set of `bytes` bytes and of a small get. */
export const STORAGE_BENCH_SRC = `async (n, bytes) => {
  const api = globalThis.browser ?? globalThis.chrome;
  const value = { v: 1, id: 'x', nonce: 'AAAAAAAAAAAAAAAA', ct: 'A'.repeat(bytes) };
  const set = [], get = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await api.storage.local.set({ 'bench:scratch': value });
    set.push(performance.now() - t);
    t = performance.now();
    await api.storage.local.get('vault:failures');
    get.push(performance.now() - t);
  }
  await api.storage.local.remove('bench:scratch');
  return { set, get };
}`;
