#!/usr/bin/env node
// Latchkey demo: the local relying party on http://localhost:8765 (PORT overrides) and Chromium
// with the NORMAL extension build (dist/chrome, the one that asks before every passkey operation).
//
// * With a display (DISPLAY set and CI unset): opens a visible Chromium on the demo page and keeps
//   running until Ctrl-C. Register and sign in yourself; Latchkey's prompt window asks first.
// * Without a display, or with CI set: runs headless and drives the flow the way a person would —
//   types a username, clicks "Register passkey", clicks "Save passkey" in Latchkey's prompt, clicks
//   "Sign in with passkey", clicks "Sign in" in the prompt — and checks that the relying party
//   (@simplewebauthn/server) verified both. Exit code 0 on success, 1 on failure.
//
// Env: PORT (default 8765), CI, DISPLAY, HEADED=1 (force a window), HEADLESS=1 (force headless),
//      LATCHKEY_DIST (default ./dist), CHROMIUM (default /usr/bin/chromium).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRp } from '../web-tests/rp/server.mjs';
import { launchChromium, withTimeout } from '../web-tests/harness/chromium.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXT_DIR = path.join(process.env.LATCHKEY_DIST || path.join(REPO, 'dist'), 'chrome');
const PORT = Number(process.env.PORT || 8765);
const HEADLESS = process.env.HEADLESS
  ? true
  : process.env.HEADED
    ? false
    : Boolean(process.env.CI) || !process.env.DISPLAY;
const PROMPT_PATH = '/extension/ui/prompt.html';
const STEP_TIMEOUT = 20000;

const say = (s) => console.log(`[demo] ${s}`);

function fail(message) {
  const e = new Error(message);
  e.demo = true;
  return e;
}

/** Wait for Latchkey's prompt page (a new window/tab at chrome-extension://<id>/extension/ui/prompt.html). */
async function waitForPrompt(ctx, extensionId, seen) {
  const prefix = `chrome-extension://${extensionId}${PROMPT_PATH}`;
  const isNew = (p) => p.url().startsWith(prefix) && !seen.has(p) && !p.isClosed();
  const existing = ctx.pages().find(isNew);
  const page = existing
    ?? (await ctx.waitForEvent('page', { predicate: isNew, timeout: STEP_TIMEOUT }).catch(async () => {
      // The page event may have fired with about:blank before navigating: look again.
      const late = ctx.pages().find(isNew);
      if (late) return late;
      throw fail(`Latchkey's prompt (${prefix}…) did not open within ${STEP_TIMEOUT} ms; open pages: ${ctx.pages().map((p) => p.url()).join(', ')}`);
    }));
  seen.add(page);
  await page.waitForLoadState('domcontentloaded', { timeout: STEP_TIMEOUT });
  return page;
}

/** Click the prompt's button with this accessible name, as a person would. */
async function clickPromptButton(prompt, name) {
  const button = prompt.getByRole('button', { name, exact: true });
  try {
    await button.waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
  } catch {
    const names = await prompt.getByRole('button').allInnerTexts().catch(() => []);
    throw fail(`the prompt has no visible "${name}" button (buttons: ${JSON.stringify(names)}; url ${prompt.url()})`);
  }
  await button.click();
}

async function waitForStatus(page, re) {
  const status = page.getByRole('status');
  const deadline = Date.now() + STEP_TIMEOUT;
  let text = '';
  while (Date.now() < deadline) {
    text = (await status.textContent()) ?? '';
    if (re.test(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw fail(`the demo page's status never matched ${re}; it says ${JSON.stringify(text)}`);
}

async function driveHeadless(b, rp) {
  const page = b.page;
  const ctx = b.context;
  const seen = new Set();
  const username = `demo-${Date.now().toString(36)}`;
  const t0 = Date.now();

  say(`typing username "${username}" and clicking "Register passkey"`);
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Register passkey' }).click();
  let prompt = await waitForPrompt(ctx, b.extensionId, seen);
  say(`prompt opened: ${prompt.url()}`);
  say('clicking "Save passkey" in the prompt');
  await clickPromptButton(prompt, 'Save passkey');
  const reg = await waitForStatus(page, /Registration (verified|NOT verified|failed)/);
  say(`demo page: ${reg}`);
  if (!/Registration verified/.test(reg)) throw fail(`registration did not verify: ${reg}`);

  say('clicking "Sign in with passkey"');
  await page.getByRole('button', { name: 'Sign in with passkey' }).click();
  prompt = await waitForPrompt(ctx, b.extensionId, seen);
  say(`prompt opened: ${prompt.url()}`);
  say('clicking "Sign in" in the prompt');
  await clickPromptButton(prompt, 'Sign in');
  const signin = await waitForStatus(page, /Sign-in (verified|NOT verified|failed)/);
  say(`demo page: ${signin}`);
  if (!/Sign-in verified: signed in as /.test(signin)) throw fail(`sign-in did not verify: ${signin}`);

  // Cross-check with the RP's own record (not just the page text).
  const users = rp.state().flatMap((s) => s.users);
  const user = users.find((u) => u.username === username);
  if (!user || user.credentials.length !== 1) throw fail(`the RP has no passkey for ${username}`);
  const cred = user.credentials[0];
  if (cred.signIns !== 1) throw fail(`the RP recorded ${cred.signIns} sign-ins, expected 1`);
  return { username, cred, ms: Date.now() - t0 };
}

async function main() {
  if (!fs.existsSync(path.join(EXT_DIR, 'manifest.json'))) {
    console.error(`[demo] no extension at ${EXT_DIR}: run \`node scripts/build.mjs\` (or ./latchkey demo) first`);
    return 1;
  }
  let rp;
  try {
    rp = await startRp({ port: PORT, quiet: false });
  } catch (e) {
    console.error(`[demo] cannot listen on port ${PORT}: ${e.message} (set PORT to another port)`);
    return 1;
  }
  let b;
  const cleanup = async () => {
    await b?.close().catch(() => {});
    await rp?.close().catch(() => {});
  };
  try {
    say(`relying party: ${rp.url}  (rpId "localhost", verified by @simplewebauthn/server)`);
    say(`launching Chromium ${HEADLESS ? 'headless' : 'with a window'} with ${EXT_DIR.startsWith(REPO + path.sep) ? path.relative(REPO, EXT_DIR) : EXT_DIR}/`);
    b = await launchChromium({ extensionDir: EXT_DIR, headless: HEADLESS, viewport: HEADLESS ? undefined : null });
    say(`Latchkey extension id: ${b.extensionId}`);
    await b.goto(`${rp.url}/`);
    console.log(`
  Demo page: ${rp.url}/
  1. Type a username and click "Register passkey". Latchkey's prompt opens: click "Save passkey".
  2. Click "Sign in with passkey" (username filled: that account; empty: pick any passkey),
     then "Sign in" in Latchkey's prompt.
  The status box on the page shows what the relying party verified.
  Note: this build stores passkeys unencrypted in a throw-away profile (deleted when the demo exits).
`);
    if (!HEADLESS) {
      say('running with a window; press Ctrl-C to stop');
      await new Promise((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
        b.context.once('close', resolve); // the person closed the browser
      });
      say('stopping');
      await cleanup();
      return 0;
    }

    say('no display (or CI): driving the flow as a person would');
    process.once('SIGINT', () => {
      say('interrupted');
      cleanup().finally(() => process.exit(130));
    });
    const { username, cred, ms } = await withTimeout(driveHeadless(b, rp), 90000, 'the headless demo flow');
    console.log(`
[demo] SUCCESS in ${ms} ms: registered and signed in as "${username}" through Latchkey's prompt.
[demo]   credential ${cred.id}  (AAGUID ${cred.aaguid}, ${cred.deviceType}, backed up: ${cred.backedUp})
[demo]   registration verified: yes (UV ${cred.userVerified ? 'set' : 'not set'}); sign-in verified: yes (${cred.signIns})
`);
    await cleanup();
    return 0;
  } catch (e) {
    console.error(`[demo] FAILED: ${e.message}`);
    if (!e.demo && e.stack) console.error(e.stack);
    if (b) console.error(b.dumpLogs('Chromium page / service-worker console'));
    if (rp?.log.length) console.error(`[demo] RP log:\n${rp.log.join('\n')}`);
    await cleanup();
    return 1;
  }
}

process.exitCode = await main();
// Playwright may keep handles open for a moment; the demo's result is final.
setTimeout(() => process.exit(process.exitCode), 500).unref();
