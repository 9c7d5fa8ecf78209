// Shared pieces of the e2e tests: the browser list (both browsers, TEST flavor), readable failures,
// latency bookkeeping, WebAuthn byte parsing and hand-built options for the raw page.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';
import { launchFirefox } from './firefox.mjs';
import { summarize } from './page-webauthn.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const DIST = process.env.LATCHKEY_DIST || path.join(REPO, 'dist');
export const ARTIFACTS = path.join(REPO, 'web-tests', 'artifacts');

/** Backstop per describe() block (one browser, one file); every single wait has its own bound. */
export const SUITE_TIMEOUT_MS = 180_000;

/** Latchkey's AAGUID ("LkKy-Latchkey" + 1), docs/design.md. */
export const LATCHKEY_AAGUID = '4c6b4b79-2d4c-6174-6368-6b6579000001';

/**
 * Every browser the suite runs in. Each test file loops over this list (`B.launch()` starts the
 * TEST flavor, `B.launch({flavor: 'normal'})` the normal one). E2E_BROWSERS=chromium
 * (comma list) narrows it for local debugging; CI runs both. A browser that cannot start FAILS
 * its suite (the `before` hook throws); nothing is skipped silently.
 */
/** dist/<browser> (normal flavor: asks the person through the prompt) or dist/<browser>-test. */
export const distDir = (browser, flavor = 'test') => path.join(DIST, flavor === 'normal' ? browser : `${browser}-test`);

const ALL_BROWSERS = [
  {
    name: 'chromium',
    /** `flavor`: 'test' (default; dist/chrome-test) or 'normal' (dist/chrome). */
    launch: async ({ flavor = 'test', ...o } = {}) =>
      Object.assign(await launchChromium({ extensionDir: distDir('chrome', flavor), ...o }), { flavor }),
    launchBare: (o = {}) => launchChromium({ extensionDir: null, ...o }),
  },
  {
    name: 'firefox',
    launch: async ({ flavor = 'test', ...o } = {}) =>
      Object.assign(await launchFirefox({ extensionDir: distDir('firefox', flavor), ...o }), { flavor }),
    launchBare: (o = {}) => launchFirefox({ extensionDir: null, ...o }),
  },
];

export const BROWSERS = (() => {
  const only = process.env.E2E_BROWSERS?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!only?.length) return ALL_BROWSERS;
  const picked = ALL_BROWSERS.filter((b) => only.includes(b.name));
  if (picked.length !== only.length) throw new Error(`E2E_BROWSERS=${process.env.E2E_BROWSERS}: unknown browser name`);
  console.log(`[e2e] E2E_BROWSERS narrows the run to: ${picked.map((b) => b.name).join(', ')}`);
  return picked;
})();

/**
 * Wrap a test body so a failure carries the browser's console / service-worker log and the RP's
 * verification log. `get()` returns {b, rp} at run time.
 */
export function withLogs(get, fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const { b, rp } = get() ?? {};
      let extra = '';
      try {
        if (b) extra += `\n${b.dumpLogs()}`;
      } catch (d) {
        extra += `\n(could not collect browser logs: ${d.message})`;
      }
      if (rp?.log?.length) extra += `\n----- RP log -----\n${rp.log.slice(-30).join('\n')}\n-----`;
      if (e && typeof e === 'object' && extra) {
        // node:test prints the message (with the logs) and the stack (captured before: no logs).
        try {
          e.message = `${e.message}${extra}`;
        } catch {}
      }
      throw e;
    }
  };
}

/** Print and record the in-page latencies of one browser for one test file. */
export function reportLatency(file, b) {
  if (!b) return;
  const line = `[latency] ${path.basename(file)} ${b.name}: create ${summarize(b.latencies.create)}; get ${summarize(b.latencies.get)}`;
  console.log(line);
  try {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.appendFileSync(
      path.join(ARTIFACTS, `latency-${process.ppid}.jsonl`),
      JSON.stringify({ file: path.basename(file), browser: b.name, ...b.latencies }) + '\n',
    );
  } catch {}
}

// ---------- bytes ----------

export const b64u = {
  enc: (buf) => Buffer.from(buf).toString('base64url'),
  dec: (s) => Buffer.from(s, 'base64url'),
};
export const randomB64u = (n) => b64u.enc(crypto.randomBytes(n));

/** Parse authenticatorData: rpIdHash, flags {UP, UV, BE, BS, AT, ED}, signCount. */
export function parseAuthData(b64) {
  const d = b64u.dec(b64);
  assert.ok(d.length >= 37, `authenticatorData too short: ${d.length} bytes`);
  const f = d[32];
  return {
    rpIdHash: d.subarray(0, 32),
    flags: { UP: !!(f & 0x01), UV: !!(f & 0x04), BE: !!(f & 0x08), BS: !!(f & 0x10), AT: !!(f & 0x40), ED: !!(f & 0x80) },
    signCount: d.readUInt32BE(33),
    aaguid: d.length >= 53 ? d.subarray(37, 53) : null,
  };
}

export const sha256 = (s) => crypto.createHash('sha256').update(s).digest();

export function clientData(json) {
  return JSON.parse(b64u.dec(json.response.clientDataJSON).toString('utf8'));
}

// ---------- results ----------

/** Assert the in-page call succeeded; the message shows the error otherwise. */
export function assertOk(r, what) {
  assert.ok(r && r.ok, `${what}: expected a credential, got ${JSON.stringify(r?.error ?? r)}`);
  return r.ok;
}

/** Assert the call failed with `name` (a DOMException, or a real TypeError for "TypeError"). */
export function assertError(r, name, what) {
  assert.ok(r && r.error, `${what}: expected ${name}, but the call SUCCEEDED: ${JSON.stringify(r?.ok)?.slice(0, 300)}`);
  assert.equal(r.error.name, name, `${what}: expected ${name}, got ${r.error.name}: ${r.error.message}`);
  if (name === 'TypeError') {
    assert.equal(r.error.isTypeError, true, `${what}: expected a real TypeError instance`);
  } else {
    assert.equal(r.error.isDOMException, true, `${what}: expected a DOMException, got ${JSON.stringify(r.error)}`);
  }
}

/** Assert the RP verified; the message shows the RP's reason otherwise. */
export function assertVerified(v, what) {
  assert.equal(v.verified, true, `${what}: the RP did not verify: ${JSON.stringify(v)}`);
}

// ---------- ceremonies against the RP ----------

/** Options from the RP → create in the page → verify at the RP. Returns {options, r, v}. */
export async function register(b, client, username, body = {}) {
  const options = await client.registerOptions({ username, ...body });
  assert.ok(options.challenge, `RP gave no registration options: ${JSON.stringify(options)}`);
  const r = await b.webauthn('create', options);
  assertOk(r, `create for ${username}`);
  const v = await client.registerVerify(r.ok);
  assertVerified(v, `registration of ${username}`);
  return { options, r, v };
}

/** Options from the RP (username → allowCredentials; none → discoverable) → get → verify. */
export async function signIn(b, client, username = null, body = {}) {
  const options = await client.loginOptions(username ? { username, ...body } : body);
  assert.ok(options.challenge, `RP gave no login options: ${JSON.stringify(options)}`);
  const r = await b.webauthn('get', options);
  assertOk(r, `get for ${username ?? '(discoverable)'}`);
  const v = await client.loginVerify(r.ok);
  assertVerified(v, `sign-in of ${username ?? '(discoverable)'}`);
  return { options, r, v };
}

// ---------- hand-built options for /raw.html ----------

/** Valid creation options (L3 JSON form) for rpId localhost; `patch` edits a copy. */
export function rawCreateOptions(patch = (o) => o) {
  const o = {
    challenge: randomB64u(32),
    rp: { id: 'localhost', name: 'Raw Test RP' },
    user: { id: randomB64u(16), name: 'raw-user', displayName: 'Raw User' },
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    timeout: 30000,
    attestation: 'none',
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
  };
  return patch(o) ?? o;
}

/** Valid request options (L3 JSON form) for rpId localhost; `patch` edits a copy. */
export function rawGetOptions(patch = (o) => o) {
  const o = { challenge: randomB64u(32), rpId: 'localhost', timeout: 30000, userVerification: 'preferred' };
  return patch(o) ?? o;
}

/** Small deterministic PRNG (so a failing crash run can be repeated with VAULT_CRASH_SEED). */
export function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
