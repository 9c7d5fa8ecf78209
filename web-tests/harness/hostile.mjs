// Shared pieces of the hostile-input suite (web-tests/hostile-*.test.mjs).
//
// * inPage(b, fnSource, ...args): run an async function IN THE PAGE'S OWN REALM (Firefox: an
//   injected <script>, since WebDriver scripts run in a sandbox with other built-ins) and get its
//   JSON-able result.
// * startHttpsSite(): a local https server (self-signed certificate made with openssl at start-up)
//   answering for any host name, so pages can really live on https://foo.example.com:<port>,
//   https://github.io:<port>, https://xn--bcher-kva.example:<port>, https://127.0.0.1:<port>,
//   https://[::1]:<port>. The browsers resolve those names to 127.0.0.1 (hostLaunchOptions) and
//   accept the certificate; the page's origin is the one the browser really gives.
// * verifyCreate / verifyGet: @simplewebauthn/server verification for any origin and rpId.
// * assertVaultIntact: status ok, count as expected, an earlier passkey still signs in.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { verifyRegistrationResponse, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { randomB64u } from './support.mjs';
import { withTimeout } from './chromium.mjs';

/** Host names the hostile suite loads pages from (all mapped to 127.0.0.1). */
export const HOSTILE_HOSTS = [
  'example.com',
  'foo.example.com',
  'evilfoo.example.com',
  'login.foo.example.com',
  'github.io',
  'foo.github.io',
  'co.uk',
  'foo.co.uk',
  'xn--bcher-kva.example',
];

/**
 * Launch options so the browser reaches HOSTILE_HOSTS on https at 127.0.0.1. Chromium trusts the
 * site's key by its SPKI hash (no certificate error at all, so its own WebAuthn works there too
 * for the comparison); Firefox accepts the self-signed certificate (WebDriver acceptInsecureCerts).
 */
export function hostLaunchOptions(browserName, site) {
  if (browserName === 'chromium') {
    return {
      extraArgs: [
        `--host-resolver-rules=${HOSTILE_HOSTS.map((h) => `MAP ${h} 127.0.0.1`).join(',')}`,
        `--ignore-certificate-errors-spki-list=${site.spki}`,
      ],
    };
  }
  return {
    extraPrefs: {
      'network.dns.localDomains': HOSTILE_HOSTS.join(','),
      'network.trr.mode': 5,
      'network.proxy.type': 0,
    },
    acceptInsecureCerts: true,
  };
}

const PAGE = (title, head = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>${head}</head>
<body><h1>${title}</h1></body></html>`;

/**
 * An https server for every host name. Routes: `/raw.html` (no scripts), `/tamper.html?t=<name>`
 * (an inline <head> script runs tamper script `t` from `tamperScripts` first thing),
 * `/frame.html?src=<url>` (embeds src in an iframe without `allow`).
 */
export async function startHttpsSite({ tamperScripts = {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-hostile-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const san = [...HOSTILE_HOSTS.map((h) => `DNS:${h}`), 'DNS:localhost', 'IP:127.0.0.1', 'IP:::1'].join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=latchkey-hostile-test', '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  const handler = (req, res) => {
    const url = new URL(req.url, 'https://x');
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    if (url.pathname === '/raw.html') return res.end(PAGE('Hostile raw page'));
    if (url.pathname === '/tamper.html') {
      const t = url.searchParams.get('t') ?? '';
      const src = tamperScripts[t];
      if (typeof src !== 'string') {
        res.statusCode = 404;
        return res.end('no such tamper script');
      }
      return res.end(PAGE(`Tamper ${t}`, `<script>${src}</script>`));
    }
    if (url.pathname === '/frame.html') {
      const src = url.searchParams.get('src') ?? '';
      return res.end(PAGE('Frame host', '').replace('</body>', `<iframe id="f" src="${src.replace(/"/g, '&quot;')}"></iframe></body>`));
    }
    res.statusCode = 404;
    res.end('not found');
  };
  const tls = { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
  const spkiDer = new crypto.X509Certificate(tls.cert).publicKey.export({ type: 'spki', format: 'der' });
  const spki = crypto.createHash('sha256').update(spkiDer).digest('base64');
  fs.rmSync(dir, { recursive: true, force: true });
  const s4 = https.createServer(tls, handler);
  await new Promise((resolve, reject) => s4.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = s4.address().port;
  const s6 = https.createServer(tls, handler);
  await new Promise((resolve) => s6.once('error', () => resolve()).listen(port, '::1', resolve));
  return {
    port,
    spki,
    url: (host, p = '/raw.html') => `https://${host}:${port}${p}`,
    close: () => Promise.all([s4, s6].map((s) => new Promise((r) => s.close(() => r())))),
  };
}

// Runs in the page's own realm (Firefox: Marionette's sandbox has other built-ins, and it uses the
// page's EventTarget methods, which a hostile page may have replaced). The result goes to an
// attribute of <html> (written with Element.prototype.setAttribute captured first) and is polled.
const FIREFOX_REALM_START = `const [src, args, key] = arguments;
const s = document.createElement('script');
s.textContent = '(() => { if (window.__lkRestore) window.__lkRestore(); const then = Promise.prototype.then, apply = Reflect.apply, stringify = JSON.stringify,' +
  ' setAttr = Element.prototype.setAttribute, root = document.documentElement;' +
  ' const send = (r) => { let d; try { d = stringify(r === undefined ? null : r); } catch (e) { d = stringify({ harnessError: String(e) }); }' +
  ' apply(setAttr, root, [' + JSON.stringify(key) + ', d]); };' +
  ' const p = (async () => await (' + src + ')(' + args.map((a) => JSON.stringify(a)).join(', ') + '))();' +
  ' apply(then, p, [send, (e) => send({ thrown: { name: e && e.name, message: String(e && e.message) } })]); })();';
document.documentElement.setAttribute(key, 'pending');
(document.head || document.documentElement).append(s);
s.remove();`;
let inPageSeq = 0;

/**
 * Run `fnSource` (an async function's source) with JSON args in the page's realm and return its
 * JSON result. A page that tampered with built-ins and left `window.__lkRestore` (hostile-builtins)
 * is restored first; the function must restore again before it returns.
 */
export async function inPage(b, fnSource, ...args) {
  if (b.name === 'chromium') {
    const call = `(${fnSource})(${args.map((a) => JSON.stringify(a)).join(', ')})`;
    return withTimeout(b.page.evaluate(`(async () => { if (window.__lkRestore) window.__lkRestore(); return await ${call}; })()`), 60000, 'inPage');
  }
  const key = `data-lk-hostile-${++inPageSeq}`;
  await b.driver.executeScript(FIREFOX_REALM_START, fnSource, args, key);
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const v = await b.driver.executeScript('return document.documentElement.getAttribute(arguments[0])', key);
    if (v === null) throw new Error('inPage: the page navigated away');
    if (v !== 'pending') {
      await b.driver.executeScript('document.documentElement.removeAttribute(arguments[0])', key);
      return JSON.parse(v);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('inPage: timed out after 60000 ms');
}

// ---------- verification for any origin / rpId ----------

export async function verifyCreate(cred, { origin, rpId, challenge }) {
  const v = await verifyRegistrationResponse({
    response: cred,
    expectedChallenge: challenge,
    expectedOrigin: origin,
    expectedRPID: rpId,
    requireUserVerification: false,
  });
  assert.equal(v.verified, true, `registration for ${rpId} from ${origin} did not verify`);
  const info = v.registrationInfo;
  return { id: info.credential.id, publicKey: info.credential.publicKey, counter: info.credential.counter };
}

export async function verifyGet(cred, stored, { origin, rpId, challenge }) {
  const v = await verifyAuthenticationResponse({
    response: cred,
    expectedChallenge: challenge,
    expectedOrigin: origin,
    expectedRPID: rpId,
    credential: stored,
    requireUserVerification: false,
  });
  assert.equal(v.verified, true, `authentication for ${rpId} from ${origin} did not verify`);
  return v;
}

export const createOptions = (rpId, patch = (o) => o) => {
  const o = {
    challenge: randomB64u(32),
    rp: rpId === undefined ? { name: 'Hostile RP' } : { id: rpId, name: 'Hostile RP' },
    user: { id: randomB64u(16), name: `u-${crypto.randomBytes(3).toString('hex')}`, displayName: 'Hostile User' },
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    timeout: 30000,
    attestation: 'none',
    authenticatorSelection: { residentKey: 'required', userVerification: 'discouraged' },
  };
  return patch(o) ?? o;
};
export const getOptions = (rpId, patch = (o) => o) => {
  const o = { challenge: randomB64u(32), timeout: 30000, userVerification: 'discouraged' };
  if (rpId !== undefined) o.rpId = rpId;
  return patch(o) ?? o;
};

/**
 * A passkey made through Latchkey on the current page and verified: {origin, rpId, stored, id}.
 * `signIn()` on the returned object signs in with it again (the page must be on `origin`).
 */
export async function makeWitness(b, origin, rpId) {
  const options = createOptions(rpId);
  const r = await b.webauthn('create', options);
  assert.ok(r.ok, `witness create on ${origin}: ${JSON.stringify(r.error)}`);
  const stored = await verifyCreate(r.ok, { origin, rpId, challenge: options.challenge });
  return {
    origin,
    rpId,
    id: stored.id,
    stored,
    async signIn(what) {
      const g = getOptions(rpId, (o) => {
        o.allowCredentials = [{ type: 'public-key', id: stored.id }];
      });
      const a = await b.webauthn('get', g);
      assert.ok(a.ok, `${what}: the earlier passkey no longer signs in: ${JSON.stringify(a.error)}`);
      await verifyGet(a.ok, stored, { origin, rpId, challenge: g.challenge });
    },
  };
}

/** The vault after a hostile case: no damage, header ok, unlocked, `count` passkeys. */
export async function assertVaultIntact(b, { count, what }) {
  const st = await b.vaultStatus();
  assert.deepEqual(st.damaged, [], `${what}: damaged entries: ${JSON.stringify(st)}`);
  assert.equal(st.headerState, 'ok', `${what}: header: ${JSON.stringify(st)}`);
  if (count !== undefined) assert.equal(st.count, count, `${what}: passkey count ${st.count}, expected ${count}`);
  return st;
}
