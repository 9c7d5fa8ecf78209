// A local WebAuthn relying party for Latchkey's end-to-end tests and demo.
//
// Plain node:http. Every ceremony is generated and VERIFIED by @simplewebauthn/server, an
// independent RP library, so a passing test means a real site would accept Latchkey's answer.
//
//   import { startRp } from './web-tests/rp/server.mjs';
//   const rp = await startRp({ port: 0 });      // port 0 → a free port
//   rp.url                                      // "http://localhost:<port>"
//   await rp.close();
//
//   node web-tests/rp/server.mjs --port 8765    // standalone
//
// State lives in memory, per session. A session is chosen by the `x-rp-session` request header,
// else the `session` query parameter, else the `rp_session` cookie (set on first contact, one day
// long so it survives a browser restart with the same profile). Tests that drive the API from node
// use an explicit session id; the demo page uses the cookie.
//
// Routes:
//   GET  /                       demo page (uses @simplewebauthn/browser from node_modules)
//   GET  /raw.html               bare page, no scripts (tests call navigator.credentials themselves)
//   GET  /vendor/simplewebauthn-browser/*   the ESM build of @simplewebauthn/browser
//   GET  /state                  {session, users: [{username, displayName, userId, credentials: [...]}]}
//   POST /api/register/options   {username, displayName?, userVerification?, residentKey?}
//   POST /api/register/verify    RegistrationResponseJSON → {verified, credentialId, ...}
//   POST /api/login/options      {username?, userVerification?}
//   POST /api/login/verify       AuthenticationResponseJSON → {verified, username, ...}

import { PAGE_WEBAUTHN_SRC } from '../harness/page-webauthn.mjs';
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  generateRegistrationOptions,
  verifyRegistrationResponse,
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
} from '@simplewebauthn/server';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const BROWSER_ESM = path.join(REPO, 'node_modules', '@simplewebauthn', 'browser', 'esm');

export const RP_ID = 'localhost';
export const RP_NAME = 'Latchkey Demo RP';
const SUPPORTED_ALGS = [-7, -257];
const UV_VALUES = new Set(['required', 'preferred', 'discouraged']);
const RK_VALUES = new Set(['required', 'preferred', 'discouraged']);

const b64url = {
  encode: (buf) => Buffer.from(buf).toString('base64url'),
  decode: (s) => Buffer.from(String(s), 'base64url'),
};

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function newSession() {
  return {
    users: new Map(), // username → {username, displayName, userId (b64url), credentials: [cred]}
    credentials: new Map(), // credentialId → {id, publicKey: Uint8Array, counter, transports, username, ...}
    challenges: new Map(), // challenge (b64url) → {type, username?, userVerification, created}
  };
}

function publicUser(u) {
  return {
    username: u.username,
    displayName: u.displayName,
    userId: u.userId,
    credentials: u.credentials.map((c) => ({
      id: c.id,
      counter: c.counter,
      transports: c.transports,
      aaguid: c.aaguid,
      userVerified: c.userVerified,
      deviceType: c.deviceType,
      backedUp: c.backedUp,
      created: c.created,
      lastUsed: c.lastUsed,
      signIns: c.signIns,
    })),
  };
}

function sessionState(sid, s) {
  return { session: sid, rpId: RP_ID, users: [...s.users.values()].map(publicUser) };
}

/** The challenge a response claims, from its clientDataJSON (verification still checks everything). */
function challengeOf(response) {
  const raw = response?.response?.clientDataJSON;
  if (typeof raw !== 'string') throw new HttpError(400, 'response.clientDataJSON missing');
  let cd;
  try {
    cd = JSON.parse(b64url.decode(raw).toString('utf8'));
  } catch {
    throw new HttpError(400, 'clientDataJSON is not base64url JSON');
  }
  if (typeof cd.challenge !== 'string') throw new HttpError(400, 'clientDataJSON.challenge missing');
  return cd.challenge;
}

function takeChallenge(s, response, type) {
  const challenge = challengeOf(response);
  const rec = s.challenges.get(challenge);
  if (!rec || rec.type !== type) {
    throw new HttpError(400, `unknown or already used ${type} challenge (session mismatch?)`);
  }
  s.challenges.delete(challenge);
  return { challenge, ...rec };
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 1 << 20) throw new HttpError(413, 'body too large');
    chunks.push(c);
  }
  if (!size) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

function parseCookies(header) {
  const out = {};
  for (const part of String(header || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/**
 * Start the relying party. Resolves to
 * {url, origin, port, rpId, close(), state(sessionId?), sessions, log}.
 * `log` collects one line per verification (handy when a test fails).
 */
export async function startRp({ port = 0, host = 'localhost', quiet = true } = {}) {
  const sessions = new Map();
  const log = [];
  let origin = null; // set once listening: "http://localhost:<port>"
  /** Top-level origins allowed to embed this RP for sign-in (rp.allowTopOrigin). */
  const topOrigins = new Set();

  const getSession = (req, url, res) => {
    let sid = req.headers['x-rp-session'] || url.searchParams.get('session');
    if (!sid) sid = parseCookies(req.headers.cookie).rp_session;
    if (!sid || typeof sid !== 'string' || sid.length > 128) {
      sid = crypto.randomBytes(12).toString('base64url');
      res.setHeader('Set-Cookie', `rp_session=${sid}; Path=/; Max-Age=86400; SameSite=Lax; HttpOnly`);
    }
    if (!sessions.has(sid)) sessions.set(sid, newSession());
    return { sid, s: sessions.get(sid) };
  };

  const note = (line) => {
    log.push(line);
    if (!quiet) console.log(`[rp] ${line}`);
  };

  async function registerOptions(s, body) {
    const username = String(body.username ?? '').trim();
    if (!username) throw new HttpError(400, 'username is required');
    const userVerification = body.userVerification ?? 'preferred';
    const residentKey = body.residentKey ?? 'required';
    if (!UV_VALUES.has(userVerification)) throw new HttpError(400, 'bad userVerification');
    if (!RK_VALUES.has(residentKey)) throw new HttpError(400, 'bad residentKey');
    let user = s.users.get(username);
    if (!user) {
      user = {
        username,
        displayName: String(body.displayName ?? username),
        userId: b64url.encode(crypto.randomBytes(32)),
        credentials: [],
      };
      s.users.set(username, user);
    } else if (body.displayName) {
      user.displayName = String(body.displayName);
    }
    const options = await generateRegistrationOptions({
      rpName: RP_NAME,
      rpID: RP_ID,
      userName: user.username,
      userDisplayName: user.displayName,
      userID: b64url.decode(user.userId),
      attestationType: 'none',
      excludeCredentials: user.credentials.map((c) => ({ id: c.id, transports: c.transports })),
      authenticatorSelection: { residentKey, userVerification },
      supportedAlgorithmIDs: SUPPORTED_ALGS,
      timeout: 60000,
    });
    s.challenges.set(options.challenge, { type: 'create', username, userVerification, created: Date.now() });
    return options;
  }

  async function registerVerify(s, response) {
    const rec = takeChallenge(s, response, 'create');
    const user = s.users.get(rec.username);
    if (!user) throw new HttpError(400, 'user vanished');
    let v;
    try {
      v = await verifyRegistrationResponse({
        response,
        expectedChallenge: rec.challenge,
        expectedOrigin: origin,
        expectedRPID: RP_ID,
        requireUserPresence: true,
        requireUserVerification: rec.userVerification === 'required',
        supportedAlgorithmIDs: SUPPORTED_ALGS,
      });
    } catch (e) {
      note(`register ${rec.username}: NOT verified: ${e.message}`);
      return { verified: false, error: e.message };
    }
    if (!v.verified) {
      note(`register ${rec.username}: NOT verified`);
      return { verified: false, error: 'verification returned false' };
    }
    const info = v.registrationInfo;
    const cred = info.credential;
    if (s.credentials.has(cred.id)) {
      return { verified: false, error: 'credential id already registered' };
    }
    const stored = {
      id: cred.id,
      publicKey: cred.publicKey,
      counter: cred.counter,
      transports: cred.transports ?? response.response?.transports ?? [],
      username: user.username,
      aaguid: info.aaguid,
      userVerified: info.userVerified,
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      created: Date.now(),
      lastUsed: null,
      signIns: 0,
    };
    s.credentials.set(cred.id, stored);
    user.credentials.push(stored);
    note(`register ${user.username}: verified, credential ${cred.id}, UV=${info.userVerified}`);
    return {
      verified: true,
      credentialId: cred.id,
      username: user.username,
      userId: user.userId,
      userVerified: info.userVerified,
      aaguid: info.aaguid,
      fmt: info.fmt,
      credentialDeviceType: info.credentialDeviceType,
      credentialBackedUp: info.credentialBackedUp,
      counter: cred.counter,
      origin: info.origin,
      rpID: info.rpID,
    };
  }

  async function loginOptions(s, body) {
    const username = body.username ? String(body.username).trim() : '';
    const userVerification = body.userVerification ?? 'preferred';
    if (!UV_VALUES.has(userVerification)) throw new HttpError(400, 'bad userVerification');
    let allowCredentials = [];
    if (username) {
      const user = s.users.get(username);
      if (!user || user.credentials.length === 0) {
        throw new HttpError(404, `no passkey registered for "${username}"`);
      }
      allowCredentials = user.credentials.map((c) => ({ id: c.id, transports: c.transports }));
    }
    const options = await generateAuthenticationOptions({
      rpID: RP_ID,
      allowCredentials,
      userVerification,
      timeout: 60000,
    });
    s.challenges.set(options.challenge, {
      type: 'get',
      username: username || null,
      userVerification,
      created: Date.now(),
    });
    return options;
  }

  async function loginVerify(s, response) {
    const rec = takeChallenge(s, response, 'get');
    const id = response?.id;
    const cred = typeof id === 'string' ? s.credentials.get(id) : undefined;
    if (!cred) {
      note(`login: unknown credential ${id}`);
      return { verified: false, error: `unknown credential ${id}` };
    }
    const user = s.users.get(cred.username);
    if (rec.username && rec.username !== cred.username) {
      return { verified: false, error: `credential belongs to ${cred.username}, not ${rec.username}` };
    }
    const userHandle = response.response?.userHandle;
    if (!rec.username) {
      // Discoverable login: the user handle is what identifies the account.
      if (!userHandle) return { verified: false, error: 'discoverable login without userHandle' };
    }
    if (userHandle && userHandle !== user.userId) {
      return {
        verified: false,
        error: `userHandle ${userHandle} does not match ${cred.username}'s user id ${user.userId}`,
      };
    }
    let v;
    try {
      v = await verifyAuthenticationResponse({
        response,
        expectedChallenge: rec.challenge,
        expectedOrigin: origin,
        expectedRPID: RP_ID,
        credential: { id: cred.id, publicKey: cred.publicKey, counter: cred.counter, transports: cred.transports },
        requireUserVerification: rec.userVerification === 'required',
        // Sign-ins from a frame embedded by one of these top-level origins (crossOrigin: true).
        ...(topOrigins.size ? { expectedTopOrigin: [...topOrigins] } : {}),
      });
    } catch (e) {
      note(`login ${cred.username}: NOT verified: ${e.message}`);
      return { verified: false, error: e.message };
    }
    if (!v.verified) return { verified: false, error: 'verification returned false' };
    const info = v.authenticationInfo;
    cred.counter = info.newCounter;
    cred.lastUsed = Date.now();
    cred.signIns += 1;
    note(`login ${cred.username}: verified, credential ${cred.id}, UV=${info.userVerified}`);
    return {
      verified: true,
      username: cred.username,
      credentialId: cred.id,
      userHandle: userHandle ?? null,
      userVerified: info.userVerified,
      newCounter: info.newCounter,
      credentialDeviceType: info.credentialDeviceType,
      credentialBackedUp: info.credentialBackedUp,
      discoverable: !rec.username,
    };
  }

  async function serveVendor(res, rel) {
    const file = path.resolve(BROWSER_ESM, rel);
    if (!file.startsWith(BROWSER_ESM + path.sep) || !file.endsWith('.js')) throw new HttpError(404, 'not found');
    let body;
    try {
      body = await fs.readFile(file);
    } catch {
      throw new HttpError(404, 'not found');
    }
    res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(body);
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const send = (status, obj) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(obj));
    };
    try {
      if (req.method === 'GET') {
        if (url.pathname === '/' || url.pathname === '/index.html') {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
          return res.end(DEMO_HTML);
        }
        if (url.pathname === '/raw.html') {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
          return res.end(RAW_HTML);
        }
        if (url.pathname === '/isolated.html') {
          // raw.html, cross-origin isolated: the page's performance.now() then ticks in 5 µs rather
          // than 100 µs in Chromium (the benchmarks time sub-millisecond calls with it).
          res.writeHead(200, {
            'Content-Type': 'text/html; charset=utf-8',
            'Cache-Control': 'no-store',
            'Cross-Origin-Opener-Policy': 'same-origin',
            'Cross-Origin-Embedder-Policy': 'require-corp',
          });
          return res.end(RAW_HTML);
        }
        if (url.pathname === '/login.html') {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
          return res.end(LOGIN_HTML);
        }
        if (url.pathname === '/frame-host.html') {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
          return res.end(frameHostHtml(url.searchParams.get('child') ?? '', url.searchParams.get('allow')));
        }
        if (url.pathname === '/frame-child.html') {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
          return res.end(FRAME_CHILD_HTML);
        }
        if (url.pathname === '/autofill-swa.html') {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
          return res.end(AUTOFILL_SWA_HTML);
        }
        if (url.pathname === '/favicon.ico') {
          res.writeHead(204);
          return res.end();
        }
        if (url.pathname.startsWith('/vendor/simplewebauthn-browser/')) {
          return await serveVendor(res, decodeURIComponent(url.pathname.slice('/vendor/simplewebauthn-browser/'.length)));
        }
        if (url.pathname === '/state') {
          const { sid, s } = getSession(req, url, res);
          return send(200, sessionState(sid, s));
        }
        throw new HttpError(404, 'not found');
      }
      if (req.method === 'POST') {
        const { s } = getSession(req, url, res);
        const body = await readJson(req);
        switch (url.pathname) {
          case '/api/register/options':
            return send(200, await registerOptions(s, body));
          case '/api/register/verify': {
            const r = await registerVerify(s, body);
            return send(r.verified ? 200 : 400, r);
          }
          case '/api/login/options':
            return send(200, await loginOptions(s, body));
          case '/api/login/verify': {
            const r = await loginVerify(s, body);
            return send(r.verified ? 200 : 400, r);
          }
          default:
            throw new HttpError(404, 'not found');
        }
      }
      throw new HttpError(405, 'method not allowed');
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      if (status === 500) note(`internal error: ${e.stack || e}`);
      if (!res.headersSent) send(status, { verified: false, error: e.message });
      else res.end();
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    // Loopback only. "localhost" may resolve to 127.0.0.1 or ::1, so listen on both (same port).
    server.listen(port, host === 'localhost' ? '127.0.0.1' : host, resolve);
  });
  const actualPort = server.address().port;
  origin = `http://localhost:${actualPort}`;
  let server6 = null;
  if (host === 'localhost') {
    server6 = http.createServer((req, res) => server.emit('request', req, res));
    await new Promise((resolve) => {
      server6.once('error', () => {
        server6 = null; // no IPv6 loopback here: fine
        resolve();
      });
      server6.listen(actualPort, '::1', resolve);
    });
  }

  return {
    url: origin,
    origin,
    port: actualPort,
    rpId: RP_ID,
    sessions,
    log,
    /** Public state of one session (all sessions when sid is omitted). */
    /** Accept sign-ins made in a frame of this RP embedded by `o` (clientDataJSON topOrigin). */
    allowTopOrigin(o) {
      topOrigins.add(o);
    },
    state(sid) {
      if (sid) return sessionState(sid, sessions.get(sid) ?? newSession());
      return [...sessions.entries()].map(([k, v]) => sessionState(k, v));
    },
    close() {
      const stop = (srv) =>
        new Promise((resolve) => {
          if (!srv) return resolve();
          srv.closeAllConnections?.();
          srv.close(() => resolve());
        });
      return Promise.all([stop(server), stop(server6)]).then(() => undefined);
    },
  };
}

/**
 * A tiny client for tests running in node: keeps an explicit session id so the state is isolated
 * from the cookie the browser may hold.
 */
export function rpClient(rpUrl, sid = crypto.randomBytes(9).toString('base64url')) {
  const call = async (method, p, body) => {
    const res = await fetch(rpUrl + p, {
      method,
      headers: { 'content-type': 'application/json', 'x-rp-session': sid },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15000),
    });
    const json = await res.json();
    return { status: res.status, ...json };
  };
  return {
    sid,
    registerOptions: (body) => call('POST', '/api/register/options', body),
    registerVerify: (response) => call('POST', '/api/register/verify', response),
    loginOptions: (body = {}) => call('POST', '/api/login/options', body),
    loginVerify: (response) => call('POST', '/api/login/verify', response),
    state: () => call('GET', '/state'),
  };
}

// A sign-in form for passkey autofill (conditional mediation): the username field's autocomplete
// has the "webauthn" token. Tests start the conditional get themselves (startWebauthn with
// mediation "conditional"), then focus #username and use the keyboard.
const LOGIN_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 24rem; margin: 3rem auto; padding: 0 1rem; }
  label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
  input { font: inherit; padding: .4rem .6rem; width: 100%; box-sizing: border-box; border: 1px solid #888; border-radius: 6px; }
  button { margin-top: 1rem; font: inherit; padding: .5rem 1rem; }
</style></head>
<body><h1>Sign in</h1>
<form id="form" action="#" onsubmit="event.preventDefault(); document.body.dataset.submitted = String(Number(document.body.dataset.submitted || 0) + 1);">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username webauthn">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password">
  <button id="submit" type="submit">Sign in</button>
</form>
<script>
  // What a site asks before it starts passkey autofill.
  PublicKeyCredential.isConditionalMediationAvailable().then((v) => { document.body.dataset.cma = String(v); });
</script></body></html>
`;

// The same form, signing in with @simplewebauthn/browser's startAuthentication({useBrowserAutofill: true})
// (a real library's autofill flow). The result goes to #result as JSON.
const AUTOFILL_SWA_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in (SimpleWebAuthn autofill)</title></head>
<body><h1>Sign in</h1>
<form action="#" onsubmit="event.preventDefault()">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username webauthn">
</form>
<pre id="result"></pre>
<script type="module">
  import { startAuthentication, browserSupportsWebAuthnAutofill } from '/vendor/simplewebauthn-browser/index.js';
  const out = document.getElementById('result');
  const session = new URLSearchParams(location.search).get('session') || '';
  const api = (p, body) => fetch(p + '?session=' + encodeURIComponent(session), {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
  (async () => {
    const supported = await browserSupportsWebAuthnAutofill();
    document.body.dataset.autofillSupported = String(supported);
    const optionsJSON = await api('/api/login/options', {});
    document.body.dataset.ready = '1';
    try {
      const r = await startAuthentication({ optionsJSON, useBrowserAutofill: true });
      const v = await api('/api/login/verify', r);
      out.textContent = JSON.stringify({ ok: r, verified: v, supported });
    } catch (e) {
      out.textContent = JSON.stringify({ error: { name: e.name, message: e.message, code: e.code }, supported });
    }
  })();
</script></body></html>
`;

/** A page embedding `child` (another origin in the tests) with an optional allow attribute. */
function frameHostHtml(child, allow) {
  const esc = (v) => String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Frame host</title></head>
<body><h1>Frame host</h1>
<iframe id="child" src="${esc(child)}"${allow === null ? '' : ` allow="${esc(allow)}"`} width="600" height="200"></iframe>
<pre id="result"></pre>
<script>
  addEventListener('message', (e) => {
    if (e.data && e.data.frameResult) document.getElementById('result').textContent = JSON.stringify(e.data.frameResult);
  });
</script></body></html>
`;
}

// The framed page: "Run" (a real click: user activation) calls navigator.credentials with the
// kind/options/opts in the URL's fragment (base64url JSON) and posts the result to its parent;
// with opts.auto it calls at load instead (no user activation).
const FRAME_CHILD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Framed</title></head>
<body><button id="run" type="button">Run</button>
<script>
  const pageWebauthn = ${PAGE_WEBAUTHN_SRC};
  const b64 = location.hash.slice(1).replace(/-/g, '+').replace(/_/g, '/');
  const req = JSON.parse(decodeURIComponent(escape(atob(b64))));
  const run = () => pageWebauthn(req.kind, req.options, req.opts || {}).then((r) => parent.postMessage({ frameResult: r }, '*'));
  document.getElementById('run').addEventListener('click', run);
  // opts.auto: call at load, without any user activation.
  if (req.opts && req.opts.auto) run();
</script></body></html>
`;

const RAW_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latchkey raw WebAuthn page</title></head>
<body><h1>Raw WebAuthn page</h1><p>No scripts here: tests call navigator.credentials directly.</p></body></html>
`;

const DEMO_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Latchkey demo relying party</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1f; }
  h1 { font-size: 1.5rem; }
  label { display: block; font-weight: 600; margin-bottom: .25rem; }
  input { font: inherit; padding: .4rem .6rem; width: 100%; box-sizing: border-box; border: 1px solid #888; border-radius: 6px; }
  .row { display: flex; gap: .75rem; margin: 1rem 0; flex-wrap: wrap; }
  button { font: inherit; padding: .5rem 1rem; border-radius: 6px; border: 1px solid #2456c9; background: #2f6bf2; color: white; cursor: pointer; }
  button.secondary { background: white; color: #2456c9; }
  button:disabled { opacity: .6; cursor: progress; }
  #status { min-height: 3rem; padding: .75rem; border-radius: 6px; background: #f2f3f7; white-space: pre-wrap; }
  #status[data-state="ok"] { background: #e5f6ea; }
  #status[data-state="error"] { background: #fde8e8; }
  ul { padding-left: 1.2rem; } code { font-size: .85em; word-break: break-all; }
</style>
</head>
<body>
<main>
  <h1>Latchkey demo relying party</h1>
  <p>A local site on <code>rpId = localhost</code>. Every registration and sign-in is verified on the
     server by <code>@simplewebauthn/server</code>.</p>
  <form id="form" onsubmit="return false">
    <label for="username">Username</label>
    <input id="username" name="username" autocomplete="username webauthn" placeholder="alice" required>
    <div class="row">
      <button type="button" id="register">Register passkey</button>
      <button type="button" id="signin" class="secondary">Sign in with passkey</button>
    </div>
  </form>
  <p><small>Leave the username empty to sign in with a discoverable passkey (the authenticator picks the account).</small></p>
  <h2>Status</h2>
  <div id="status" role="status" aria-live="polite">Ready.</div>
  <h2>Registered here</h2>
  <ul id="accounts"><li>none yet</li></ul>
</main>
<script type="module">
  import { startRegistration, startAuthentication, browserSupportsWebAuthn }
    from '/vendor/simplewebauthn-browser/index.js';

  const $ = (id) => document.getElementById(id);
  const status = (text, state = '') => { $('status').textContent = text; $('status').dataset.state = state; };
  const post = async (path, body) => {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' },
                                    body: JSON.stringify(body), credentials: 'same-origin' });
    const json = await res.json();
    // A verify route answers 400 with {verified: false, error}: shown as "NOT verified" by the caller.
    if (!res.ok && !path.endsWith('/verify')) throw new Error(json.error || res.statusText);
    return json;
  };
  const refresh = async () => {
    const st = await (await fetch('/state', { credentials: 'same-origin' })).json();
    const items = st.users.filter((u) => u.credentials.length).map((u) =>
      '<li><b>' + u.username.replace(/[<&]/g, '') + '</b>: ' + u.credentials.length + ' passkey(s), ' +
      u.credentials.reduce((n, c) => n + c.signIns, 0) + ' sign-in(s)</li>');
    $('accounts').innerHTML = items.join('') || '<li>none yet</li>';
  };
  const busy = (b) => { $('register').disabled = b; $('signin').disabled = b; };

  $('register').addEventListener('click', async () => {
    const username = $('username').value.trim();
    if (!username) { status('Type a username first.', 'error'); return; }
    busy(true); status('Registering a passkey for ' + username + '…');
    try {
      const optionsJSON = await post('/api/register/options', { username });
      const response = await startRegistration({ optionsJSON });
      const result = await post('/api/register/verify', response);
      if (result.verified) status('Registration verified: passkey saved for ' + username + '.', 'ok');
      else status('Registration NOT verified: ' + result.error, 'error');
    } catch (e) {
      status('Registration failed: ' + (e.name || 'Error') + ': ' + e.message, 'error');
    } finally { busy(false); refresh(); }
  });

  $('signin').addEventListener('click', async () => {
    const username = $('username').value.trim();
    busy(true); status('Signing in' + (username ? ' as ' + username : '') + '…');
    try {
      const optionsJSON = await post('/api/login/options', username ? { username } : {});
      const response = await startAuthentication({ optionsJSON });
      const result = await post('/api/login/verify', response);
      if (result.verified) status('Sign-in verified: signed in as ' + result.username + '.', 'ok');
      else status('Sign-in NOT verified: ' + result.error, 'error');
    } catch (e) {
      status('Sign-in failed: ' + (e.name || 'Error') + ': ' + e.message, 'error');
    } finally { busy(false); refresh(); }
  });

  if (!browserSupportsWebAuthn()) status('This browser does not support WebAuthn.', 'error');
  refresh();
</script>
</body>
</html>
`;

// Standalone: node web-tests/rp/server.mjs [--port 8765]
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const port = Number(i > 0 ? process.argv[i + 1] : process.env.PORT ?? 8765);
  const rp = await startRp({ port, quiet: false });
  console.log(`Latchkey demo RP listening on ${rp.url}  (rpId "${RP_ID}")`);
  const stop = () => rp.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
