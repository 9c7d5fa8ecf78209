// Screenshots of Latchkey's UI (options page, popup, prompt) in light and dark, as a person would
// look at them. A plain node script (not part of `npm run test:e2e`):
//
//   node web-tests/ui/screenshots.mjs            # the real extension: dist/chrome (normal flavor)
//   node web-tests/ui/screenshots.mjs --overlay  # same, with extension/ui/ taken from the working tree
//   node web-tests/ui/screenshots.mjs --fake     # UI only, against an in-page fake service worker
//
// PNGs go to web-tests/artifacts/ui/ (gitignored). The walk: first run → create the PIN → register
// passkeys through the local RP (prompt) → list → rename → delete (toast) → lock → wrong PIN →
// popup → a sign-in while locked (prompt: unlock, then choose an account) → settings; then a fresh
// profile for the prompt's first-run ("setup") stage.
//
// --fake exists for working on the pages before the vault backend is built; real screenshots come
// from the real extension.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../harness/chromium.mjs';
import { startRp, rpClient } from '../rp/server.mjs';
import { randomB64u } from '../harness/support.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const OUT = path.join(REPO, 'web-tests', 'artifacts', 'ui');
const args = new Set(process.argv.slice(2));
const FAKE = args.has('--fake');
const OVERLAY = args.has('--overlay') || FAKE;
const DIST = path.resolve(REPO, process.env.LATCHKEY_DIST_CHROME || 'dist/chrome');
const PIN = 'correct horse 42';
const POPUP_WIDTH = 336; // popup.css: body 24rem at 14px
const PROMPT_VIEWPORT = { width: 420, height: 530 }; // the SW opens 420×560 (outer)

fs.mkdirSync(OUT, { recursive: true });
for (const f of fs.readdirSync(OUT)) if (f.endsWith('.png')) fs.rmSync(path.join(OUT, f));

const say = (...a) => console.log('[ui]', ...a);
const notes = [];
const note = (t) => {
  notes.push(t);
  say('NOTE', t);
};

/** The extension folder to load: dist/chrome, or a temp copy with the working tree's extension/ui. */
function extensionDir() {
  if (!fs.existsSync(path.join(DIST, 'manifest.json'))) throw new Error(`no ${DIST}: run npm run build first`);
  if (!OVERLAY) return DIST;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-ui-ext-'));
  fs.cpSync(DIST, dir, { recursive: true });
  // The pages and the message constructors they import (extension/shared) from the working tree.
  for (const sub of ['ui', 'shared']) {
    fs.rmSync(path.join(dir, 'extension', sub), { recursive: true, force: true });
    fs.cpSync(path.join(REPO, 'extension', sub), path.join(dir, 'extension', sub), { recursive: true });
  }
  return dir;
}

// ---- the fake service worker (--fake) ------------------------------------------------------------
// Replaces chrome.runtime.sendMessage in extension pages with a small state machine kept in
// localStorage (shared by all extension pages), and broadcasts vault-changed between them.
const FAKE_SRC = String(() => {
  if (location.protocol !== 'chrome-extension:') return;
  const KEY = '__latchkeyFake';
  const now = Date.now();
  const day = 86400000;
  const load = () => JSON.parse(localStorage.getItem(KEY) || 'null') || {
    state: 'none', pin: null, failures: 0, until: 0, settings: { autoLockMinutes: 15, uvPolicy: 'required' }, passkeys: [], damaged: [], headerState: 'missing',
  };
  const save = (s) => localStorage.setItem(KEY, JSON.stringify(s));
  const listeners = [];
  const channel = new BroadcastChannel('latchkey-fake');
  channel.onmessage = (e) => listeners.forEach((l) => l(e.data, {}, () => {}));
  const changed = () => {
    channel.postMessage({ type: 'vault-changed' });
    listeners.forEach((l) => l({ type: 'vault-changed' }, {}, () => {}));
  };
  const err = (name, message, retryAfterMs) => ({ error: retryAfterMs ? { name, message, retryAfterMs } : { name, message } });
  const status = (s) => ({
    state: s.state, headerState: s.headerState, count: s.passkeys.filter((p) => !p.deletedAt).length,
    deleted: s.passkeys.filter((p) => p.deletedAt).length, damaged: s.state === 'unlocked' ? s.damaged : [],
    settings: s.settings, retryAfterMs: Math.max(0, s.until - Date.now()), flavor: 'normal',
  });
  const seeds = () => [
    { credentialId: 'a1', rpId: 'github.com', rpName: 'GitHub', userName: 'octo-alice', userDisplayName: 'Alice Example', label: null, created: now - 40 * day, lastUsed: now - 2 * day, deletedAt: null },
    { credentialId: 'a2', rpId: 'github.com', rpName: 'GitHub', userName: 'alice-work', userDisplayName: 'Alice (work)', label: 'Work account', created: now - 10 * day, lastUsed: null, deletedAt: null },
    { credentialId: 'b1', rpId: 'accounts.very-long-subdomain-name.example-identity-provider.co.uk', rpName: null, userName: 'alice.with.a.really.long.email.address@example-identity-provider.co.uk', userDisplayName: '<img src=x onerror=alert(1)> Alice', label: null, created: now - 3 * day, lastUsed: now - 3600000, deletedAt: null },
    { credentialId: 'c1', rpId: 'shop.example', rpName: 'Example Shop', userName: 'bob', userDisplayName: 'Bob', label: null, created: now - 100 * day, lastUsed: now - 50 * day, deletedAt: null },
  ];
  const consent = (id) => {
    const base = { kind: 'create', origin: 'https://github.com', rpId: 'github.com', rpName: 'GitHub', userName: 'octo-alice', userDisplayName: 'Alice Example', excluded: false, replaces: false, userVerification: 'preferred', needsPin: false, retryAfterMs: 0, candidates: [], stage: 'consent' };
    if (id.startsWith('setup')) return { ...base, stage: 'setup', rpId: null, rpName: null, userName: null, userDisplayName: null };
    if (id.startsWith('unlock')) return { ...base, kind: 'get', stage: 'unlock', rpId: null, rpName: null, userName: null, userDisplayName: null };
    if (id === 'consent-create-pin') return { ...base, needsPin: true, userVerification: 'required' };
    if (id === 'consent-create-replaces') return { ...base, replaces: true };
    if (id.startsWith('consent-get')) {
      const c = seeds().filter((p) => p.rpId === 'github.com').map((p) => ({ credentialId: p.credentialId, userName: p.userName, userDisplayName: p.userDisplayName, label: p.label, created: p.created, lastUsed: p.lastUsed }));
      return { ...base, kind: 'get', userName: null, userDisplayName: null, candidates: id === 'consent-get-one' ? c.slice(0, 1) : c, needsPin: id.endsWith('pin') };
    }
    return base;
  };
  const handle = (m) => {
    const s = load();
    const find = (id) => s.passkeys.find((p) => p.credentialId === id);
    const unlocked = () => s.state === 'unlocked';
    const checkPin = (pin) => {
      if (s.until > Date.now()) return err('RateLimited', 'Too many wrong PINs.', s.until - Date.now());
      if (pin === s.pin || (s.pin === null && pin === 'correct horse 42')) { s.failures = 0; return null; }
      s.failures += 1;
      const wait = s.failures > 3 ? Math.min(300000, 1000 * 2 ** (s.failures - 4)) * 15 : 0;
      s.until = Date.now() + wait;
      save(s);
      return err('WrongPin', 'Wrong PIN.', wait || undefined);
    };
    switch (m.type) {
      case 'vault-status': return { ok: status(s) };
      case 'vault-create':
        if (s.state !== 'none') return err('VaultExists', 'exists');
        if ([...m.pin].length < 4) return err('WeakPin', 'weak');
        Object.assign(s, { state: 'unlocked', pin: m.pin, headerState: 'ok' }); save(s); changed(); return { ok: status(s) };
      case 'vault-unlock': { const e = checkPin(m.pin); if (e) return e; s.state = 'unlocked'; save(s); changed(); return { ok: status(s) }; }
      case 'vault-lock': s.state = 'locked'; save(s); changed(); return { ok: status(s) };
      case 'vault-change-pin': { const e = checkPin(m.oldPin); if (e) return e; s.pin = m.newPin; save(s); changed(); return { ok: status(s) }; }
      case 'list-passkeys': return unlocked() ? { ok: s.passkeys } : err('Locked', 'locked');
      case 'passkey-rename': find(m.credentialId).label = m.label || null; save(s); changed(); return { ok: true };
      case 'passkey-delete': find(m.credentialId).deletedAt = Date.now(); save(s); changed(); return { ok: true };
      case 'passkey-restore': find(m.credentialId).deletedAt = null; save(s); changed(); return { ok: true };
      case 'passkey-purge': s.passkeys = s.passkeys.filter((p) => p.credentialId !== m.credentialId); save(s); changed(); return { ok: true };
      case 'settings-set': s.settings = { autoLockMinutes: m.autoLockMinutes, uvPolicy: m.uvPolicy }; save(s); changed(); return { ok: s.settings };
      case 'open-manager': return { ok: true };
      case '__fake-seed': s.passkeys = seeds(); s.damaged = [{ key: 'vault:e:Zx81', reason: 'the entry does not decrypt (changed or damaged)', rpId: null }]; save(s); changed(); return { ok: true };
      case 'prompt-details': return { ok: consent(m.promptId) };
      case 'prompt-pin': {
        if (m.pin === '0000') return err('WrongPin', 'Wrong PIN.');
        if (m.pin === '1111') return err('RateLimited', 'Too many wrong PINs.', 42000);
        const d = consent(m.promptId.replace(/^(setup|unlock)/, 'consent-get'));
        return { ok: { ...d, needsPin: false, kind: m.promptId.startsWith('setup') ? 'create' : d.kind } };
      }
      case 'prompt-decision': return { ok: true };
      default: return err('UnknownError', `fake: ${m.type}`);
    }
  };
  const runtime = chrome.runtime;
  const fakeSend = (m) => new Promise((resolve) => setTimeout(() => resolve(handle(m)), 60));
  Object.defineProperty(runtime, 'sendMessage', { value: fakeSend, configurable: true, writable: true });
  const onMessage = { addListener: (l) => listeners.push(l), removeListener: () => {}, hasListener: () => true };
  Object.defineProperty(runtime, 'onMessage', { value: onMessage, configurable: true, writable: true });
});

// ---- helpers ---------------------------------------------------------------------------------

let counter = 0;
/** Screenshot `page` in light and dark. `mode`: 'full' (whole page), 'viewport', or 'popup' (fit). */
async function shot(page, name, mode = 'full') {
  const n = String(++counter).padStart(2, '0');
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(80);
    const file = path.join(OUT, `${n}-${name}-${scheme}.png`);
    if (mode === 'popup') {
      const h = await page.evaluate(() => Math.ceil(document.body.getBoundingClientRect().height));
      if (h > 600) note(`${name}: popup content is ${h}px tall (Chrome caps popups at 600px: it scrolls)`);
      await page.setViewportSize({ width: POPUP_WIDTH, height: Math.min(600, h) });
      await page.screenshot({ path: file });
      await page.setViewportSize({ width: POPUP_WIDTH, height: 600 });
    } else {
      await page.screenshot({ path: file, fullPage: mode === 'full' });
    }
    if (mode !== 'full') {
      const over = await page.evaluate(() => ({
        x: document.documentElement.scrollWidth > document.documentElement.clientWidth,
        y: document.documentElement.scrollHeight > document.documentElement.clientHeight,
        h: document.documentElement.scrollHeight,
      }));
      if (over.x) note(`${name}: horizontal overflow`);
      if (over.y && name.startsWith('prompt') && scheme === 'light') note(`${name}: needs scrolling (${over.h}px tall)`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  say('saved', `${n}-${name}-{light,dark}.png`);
}

const button = (page, name) => page.getByRole('button', { name, exact: true }).filter({ visible: true }).first();
const field = (page, label) => page.getByLabel(label, { exact: true }).filter({ visible: true }).first();

async function fill(page, label, text) {
  await field(page, label).fill(text);
}

async function waitText(page, re, timeout = 15000) {
  await page.waitForFunction(([src, flags]) => new RegExp(src, flags).test(document.body.innerText), [re.source, re.flags], { timeout });
}

async function checkPage(page, name) {
  // Every control has a name; no inline styles or scripts.
  const problems = await page.evaluate(() => {
    const out = [];
    for (const c of document.querySelectorAll('button, input, select, textarea')) {
      if (c.closest('[hidden]') || c.type === 'hidden') continue;
      const named = c.getAttribute('aria-label') || c.getAttribute('aria-labelledby') || (c.labels && c.labels.length) || (c.tagName === 'BUTTON' && c.textContent.trim());
      if (!named) out.push(`unlabelled ${c.tagName.toLowerCase()}#${c.id}`);
    }
    for (const e of document.querySelectorAll('[style]')) if (e.getAttribute('style').trim()) out.push(`style attribute on <${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}>: ${e.getAttribute('style')}`);
    if (document.querySelector('script:not([src])')) out.push('inline script');
    return out;
  });
  for (const p of problems) note(`${name}: ${p}`);
}

// ---- the walk --------------------------------------------------------------------------------

async function main() {
  const extDir = extensionDir();
  say(`extension: ${extDir}${FAKE ? ' (fake service worker)' : ''}`);
  const b = await launchChromium({ extensionDir: extDir });
  const ctx = b.context;
  if (FAKE) await ctx.addInitScript({ content: `(${FAKE_SRC})()` });
  const ext = (rel) => `chrome-extension://${b.extensionId}/extension/ui/${rel}`;
  const rp = FAKE ? null : await startRp({ port: 0 });
  const client = rp ? rpClient(rp.url) : null;
  try {
    // 1. First run: popup and options page.
    const popup = await ctx.newPage();
    await popup.setViewportSize({ width: POPUP_WIDTH, height: 600 });
    await popup.goto(ext('popup.html'));
    await button(popup, 'Set up Latchkey').waitFor();
    await shot(popup, 'popup-first-run', 'popup');
    await checkPage(popup, 'popup-first-run');

    const options = await ctx.newPage();
    await options.goto(ext('options.html'));
    await field(options, 'New PIN').waitFor();
    await shot(options, 'options-first-run');
    await fill(options, 'New PIN', 'abc');
    await fill(options, 'Confirm PIN', 'abc');
    await button(options, 'Create PIN').click();
    await fill(options, 'New PIN', PIN);
    await fill(options, 'Confirm PIN', `${PIN}x`);
    await button(options, 'Create PIN').click();
    await shot(options, 'options-first-run-mismatch', 'viewport');
    await fill(options, 'Confirm PIN', PIN);
    await button(options, 'Create PIN').click();
    await button(options, 'Lock now').waitFor({ timeout: 30000 });
    await shot(options, 'options-empty');
    await checkPage(options, 'options-empty');

    // 2. Passkeys: through the RP and the prompt (real), or seeded (fake).
    if (FAKE) {
      await options.evaluate(() => chrome.runtime.sendMessage({ type: '__fake-seed' }));
      for (const id of ['consent-create', 'consent-create-pin', 'consent-create-replaces', 'consent-get-multi']) {
        const p = await ctx.newPage();
        await p.setViewportSize(PROMPT_VIEWPORT);
        await p.goto(ext(`prompt.html?id=${id}`));
        await p.locator('#form:not([hidden])').waitFor();
        await p.waitForTimeout(400);
        await shot(p, `prompt-${id}`, 'viewport');
        await checkPage(p, `prompt-${id}`);
        await p.close();
      }
    } else {
      const page = b.page;
      await page.goto(`${rp.url}/raw.html`);
      const users = [
        ['alice', 'Alice Example', {}],
        ['bob@example.com', 'Bob', { userVerification: 'required' }],
        ['carol', 'Carol Long-Display-Name With Several Words', {}],
      ];
      for (const [i, [username, displayName, extra]] of users.entries()) {
        const o = await client.registerOptions({ username, displayName, ...extra });
        const call = b.startWebauthn('create', o);
        const prompt = await b.waitForPrompt();
        await prompt.page.setViewportSize(PROMPT_VIEWPORT);
        await button(prompt.page, 'Save passkey in Latchkey').waitFor();
        await prompt.page.waitForTimeout(400);
        if (i < 2) {
          await shot(prompt.page, `prompt-save-${extra.userVerification ? 'with-pin' : 'plain'}`, 'viewport');
          await checkPage(prompt.page, 'prompt-save');
        }
        if (extra.userVerification === 'required') await fill(prompt.page, 'PIN', PIN);
        await button(prompt.page, 'Save passkey in Latchkey').click();
        const r = await call.result();
        if (!r.ok) note(`registration of ${username} failed: ${JSON.stringify(r.error)}`);
        else {
          const v = await client.registerVerify(r.ok);
          if (!v.verified) note(`RP did not verify ${username}: ${JSON.stringify(v)}`);
        }
      }
      // A second site (Chromium resolves *.localhost to this machine).
      try {
        await page.goto(`${rp.url.replace('//localhost', '//shop.localhost')}/raw.html`);
        const o = {
          challenge: randomB64u(32),
          rp: { id: 'shop.localhost', name: 'Example Shop' },
          user: { id: randomB64u(16), name: 'dave.with.a.rather.long.address@shop.localhost', displayName: 'Dave' },
          pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
          authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
          timeout: 60000,
        };
        const call = b.startWebauthn('create', o);
        const prompt = await b.waitForPrompt();
        await button(prompt.page, 'Save passkey in Latchkey').click();
        const r = await call.result();
        if (!r.ok) note(`shop.localhost registration failed: ${JSON.stringify(r.error)}`);
      } catch (e) {
        note(`second site skipped: ${e.message}`);
      }
    }

    // 3. The list, rename, delete.
    await options.bringToFront();
    await options.reload();
    await button(options, 'Rename').waitFor();
    await shot(options, 'options-list');
    await checkPage(options, 'options-list');
    await button(options, 'Rename').click();
    await fill(options, 'Label', 'Work laptop');
    await shot(options, 'options-rename', 'viewport');
    await field(options, 'Label').press('Enter');
    await waitText(options, /Work laptop/);
    await button(options, 'Delete').click();
    await button(options, 'Undo').waitFor();
    await shot(options, 'options-deleted-toast', 'viewport');
    await shot(options, 'options-with-recently-deleted');
    await options.getByRole('button', { name: 'Delete forever', exact: true }).first().click();
    await options.getByRole('dialog').waitFor();
    await shot(options, 'options-purge-dialog', 'viewport');
    await options.getByRole('button', { name: 'Cancel', exact: true }).click();
    await options.getByLabel('Search passkeys', { exact: true }).fill('bob');
    await shot(options, 'options-search', 'viewport');
    await options.getByLabel('Search passkeys', { exact: true }).fill('');

    // 4. Popup, unlocked.
    await popup.reload();
    await field(popup, 'Search passkeys').waitFor();
    await shot(popup, 'popup-unlocked', 'popup');
    await checkPage(popup, 'popup-unlocked');
    await fill(popup, 'Search passkeys', 'ali');
    await shot(popup, 'popup-search', 'popup');

    // 5. Lock, wrong PIN, popup locked.
    await options.bringToFront();
    await button(options, 'Lock now').click();
    await field(options, 'PIN').waitFor();
    await shot(options, 'options-locked', 'viewport');
    await fill(options, 'PIN', '9999');
    await button(options, 'Unlock').click();
    await waitText(options, /not correct|wrong/i);
    await shot(options, 'options-wrong-pin', 'viewport');
    for (let i = 0; i < 3; i++) {
      await options.waitForFunction(() => !document.getElementById('unlock-button').disabled, null, { timeout: 20000 });
      await fill(options, 'PIN', '9999');
      await button(options, 'Unlock').click();
      await options.waitForTimeout(400);
    }
    await shot(options, 'options-rate-limited', 'viewport');
    await popup.reload();
    await field(popup, 'PIN').waitFor();
    await shot(popup, 'popup-locked', 'popup');

    // 6. A sign-in while locked: the prompt's unlock stage, then the account choice.
    if (FAKE) {
      for (const id of ['unlock-get', 'consent-get-one', 'consent-get-pin']) {
        const p = await ctx.newPage();
        await p.setViewportSize(PROMPT_VIEWPORT);
        await p.goto(ext(`prompt.html?id=${id}`));
        await p.locator('#form:not([hidden])').waitFor();
        await p.waitForTimeout(400);
        await shot(p, `prompt-${id}`, 'viewport');
        if (id === 'unlock-get') {
          await fill(p, 'PIN', '0000');
          await button(p, 'Unlock').click();
          await p.waitForTimeout(200);
          await shot(p, 'prompt-unlock-wrong-pin', 'viewport');
          await fill(p, 'PIN', '1111');
          await button(p, 'Unlock').click();
          await p.waitForTimeout(300);
          await shot(p, 'prompt-unlock-rate-limited', 'viewport');
        }
        await p.close();
      }
    } else {
      await options.waitForFunction(() => !document.getElementById('unlock-button').disabled, null, { timeout: 60000 });
      const page = b.page;
      await page.bringToFront();
      await page.goto(`${rp.url}/raw.html`);
      const o = await client.loginOptions({});
      const call = b.startWebauthn('get', o);
      const prompt = await b.waitForPrompt();
      await prompt.page.setViewportSize(PROMPT_VIEWPORT);
      await field(prompt.page, 'PIN').waitFor();
      await prompt.page.waitForTimeout(400);
      await shot(prompt.page, 'prompt-unlock', 'viewport');
      await checkPage(prompt.page, 'prompt-unlock');
      await fill(prompt.page, 'PIN', '0000');
      await button(prompt.page, 'Unlock').click();
      await waitText(prompt.page, /not correct|wrong|wait/i);
      await shot(prompt.page, 'prompt-unlock-wrong-pin', 'viewport');
      await prompt.page.waitForFunction(() => !document.getElementById('primary').disabled, null, { timeout: 60000 });
      await fill(prompt.page, 'PIN', PIN);
      await button(prompt.page, 'Unlock').click();
      await button(prompt.page, 'Sign in').waitFor({ timeout: 20000 });
      await prompt.page.waitForTimeout(400);
      await shot(prompt.page, 'prompt-sign-in-choose', 'viewport');
      await checkPage(prompt.page, 'prompt-sign-in');
      await button(prompt.page, 'Sign in').click();
      const r = await call.result();
      if (!r.ok) note(`sign-in failed: ${JSON.stringify(r.error)}`);
      else {
        const v = await client.loginVerify(r.ok);
        if (!v.verified) note(`RP did not verify the sign-in: ${JSON.stringify(v)}`);
      }
    }

    // 7. Lock again and unlock from the popup: the options page follows (vault-changed).
    await options.bringToFront();
    if (!(await field(options, 'PIN').isVisible().catch(() => false))) await button(options, 'Lock now').click();
    await field(options, 'PIN').waitFor();
    await popup.reload();
    await field(popup, 'PIN').waitFor();
    await popup.waitForFunction(() => !document.getElementById('unlock').disabled, null, { timeout: 60000 });
    await fill(popup, 'PIN', PIN);
    await button(popup, 'Unlock').click();
    await button(popup, 'Lock now').waitFor({ timeout: 20000 });
    await button(options, 'Lock now').waitFor({ timeout: 5000 }); // refreshed by the broadcast alone
    await options.bringToFront();
    await options.getByLabel('Lock after', { exact: true }).selectOption('60');
    await options.getByLabel('Also when a site prefers verification', { exact: true }).check();
    await waitText(options, /Saved/);
    await fill(options, 'Current PIN', 'nope');
    await fill(options, 'New PIN', 'abc');
    await button(options, 'Change PIN').click();
    await options.getByRole('heading', { name: 'Settings' }).scrollIntoViewIfNeeded();
    await shot(options, 'options-settings', 'viewport');
    await shot(options, 'options-final');
    await options.setViewportSize({ width: 400, height: 800 });
    await shot(options, 'options-narrow');
  } finally {
    await b.close();
    if (rp) await rp.close();
  }

  // 8. A fresh profile: the prompt's first-run stage.
  if (!FAKE) {
    const b2 = await launchChromium({ extensionDir: extDir });
    const rp2 = await startRp({ port: 0 });
    const c2 = rpClient(rp2.url);
    try {
      // The normal flavor opens the options page on install (maybe in this very tab): let it.
      const optionsUrl = `chrome-extension://${b2.extensionId}/extension/ui/options.html`;
      for (let i = 0; i < 30 && !b2.context.pages().some((p) => p.url().startsWith(optionsUrl)); i++) await new Promise((r) => setTimeout(r, 100));
      const onInstall = b2.context.pages().find((p) => p.url().startsWith(optionsUrl));
      if (onInstall && onInstall !== b2.page) await onInstall.close();
      await b2.page.goto(`${rp2.url}/raw.html`);
      const o = await c2.registerOptions({ username: 'erin', displayName: 'Erin' });
      const call = b2.startWebauthn('create', o);
      const prompt = await b2.waitForPrompt();
      await prompt.page.setViewportSize(PROMPT_VIEWPORT);
      await field(prompt.page, 'New PIN').waitFor();
      await prompt.page.waitForTimeout(400);
      await shot(prompt.page, 'prompt-setup', 'viewport');
      await checkPage(prompt.page, 'prompt-setup');
      await fill(prompt.page, 'New PIN', '12');
      await button(prompt.page, 'Create PIN').click();
      await shot(prompt.page, 'prompt-setup-too-short', 'viewport');
      await fill(prompt.page, 'New PIN', PIN);
      await fill(prompt.page, 'Confirm PIN', 'something else');
      await button(prompt.page, 'Create PIN').click();
      await shot(prompt.page, 'prompt-setup-mismatch', 'viewport');
      await fill(prompt.page, 'Confirm PIN', PIN);
      await button(prompt.page, 'Create PIN').click();
      await button(prompt.page, 'Save passkey in Latchkey').waitFor({ timeout: 30000 });
      await prompt.page.waitForTimeout(400);
      await shot(prompt.page, 'prompt-setup-then-save', 'viewport');
      await button(prompt.page, 'Save passkey in Latchkey').click();
      const r = await call.result();
      if (!r.ok) note(`first-run registration failed: ${JSON.stringify(r.error)}`);
    } finally {
      await b2.close();
      await rp2.close();
    }
  } else {
    const b2 = await launchChromium({ extensionDir: extDir });
    try {
      await b2.context.addInitScript({ content: `(${FAKE_SRC})()` });
      const p = await b2.context.newPage();
      await p.setViewportSize(PROMPT_VIEWPORT);
      await p.goto(`chrome-extension://${b2.extensionId}/extension/ui/prompt.html?id=setup-create`);
      await field(p, 'New PIN').waitFor();
      await p.waitForTimeout(400);
      await shot(p, 'prompt-setup', 'viewport');
      await fill(p, 'New PIN', '12');
      await button(p, 'Create PIN').click();
      await shot(p, 'prompt-setup-too-short', 'viewport');
      await fill(p, 'New PIN', PIN);
      await fill(p, 'Confirm PIN', 'x');
      await button(p, 'Create PIN').click();
      await shot(p, 'prompt-setup-mismatch', 'viewport');
    } finally {
      await b2.close();
    }
  }
  if (OVERLAY && extDir !== DIST) fs.rmSync(extDir, { recursive: true, force: true });
  say(`done: ${counter} screens in ${path.relative(REPO, OUT)}`);
  if (notes.length) say(`notes:\n  ${notes.join('\n  ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
