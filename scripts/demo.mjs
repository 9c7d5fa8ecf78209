#!/usr/bin/env node
// Latchkey demo: the local relying party on http://localhost:8765 (PORT overrides) and Chromium
// with the NORMAL extension build (dist/chrome, the one that asks before every passkey operation).
//
// * With a display (DISPLAY set and CI unset): opens a visible Chromium on the demo page and keeps
//   running until Ctrl-C. Register and sign in yourself; Latchkey's prompt window asks first (the
//   first time it asks you to create a PIN: the vault is encrypted with it).
// * Without a display, or with CI set: runs headless and drives the flow the way a person would —
//   types a username, clicks "Register passkey"; in Latchkey's prompt types a new PIN twice ("New
//   PIN", "Confirm PIN"), clicks "Create PIN", then "Save passkey in Latchkey"; clicks "Sign in with passkey",
//   clicks "Sign in" in the prompt (entering the PIN if the prompt asks for it) — and checks that the
//   relying party (@simplewebauthn/server) verified both. Exit code 0 on success, 1 on failure.
//
// Env: PORT (default 8765), CI, DISPLAY, HEADED=1 (force a window), HEADLESS=1 (force headless),
//      DEMO_PIN (the PIN the headless run creates, default "demo-pin-1234"),
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
const STEP_TIMEOUT = 20000;
const DEMO_PIN = process.env.DEMO_PIN || 'demo-pin-1234';

const say = (s) => console.log(`[demo] ${s}`);

function fail(message) {
  const e = new Error(message);
  e.demo = true;
  return e;
}

/** Wait for Latchkey's prompt window (a new page at chrome-extension://<id>/extension/ui/prompt.html). */
async function waitForPrompt(b) {
  try {
    return await b.waitForPrompt({ timeoutMs: STEP_TIMEOUT });
  } catch (e) {
    throw fail(`Latchkey's prompt did not open: ${e.message}`);
  }
}

/** Click the prompt's button with this accessible name, as a person would. */
async function clickPromptButton(prompt, name) {
  try {
    await prompt.click(name, STEP_TIMEOUT);
  } catch (e) {
    throw fail(`the prompt has no usable "${name}" button: ${e.message}`);
  }
}

/**
 * Whatever stage the prompt opened in (docs/design.md, "The prompt"), get it to the consent screen
 * and click `finalButton`: setup → type the new PIN twice, "Create PIN"; unlock → PIN, "Unlock";
 * a PIN field on the consent screen (the site requires verification) → the PIN.
 */
async function completePrompt(prompt, finalButton) {
  const deadline = Date.now() + STEP_TIMEOUT;
  for (;;) {
    if (await prompt.hasField('New PIN')) {
      say(`setup stage: typing a new PIN twice ("New PIN", "Confirm PIN") and clicking "Create PIN"`);
      await prompt.fill('New PIN', DEMO_PIN);
      await prompt.fill('Confirm PIN', DEMO_PIN);
      await clickPromptButton(prompt, 'Create PIN');
      await prompt.waitForButton(finalButton, STEP_TIMEOUT).catch(() => {});
      continue;
    }
    if (await prompt.hasButton('Unlock')) {
      say('unlock stage: typing the PIN and clicking "Unlock"');
      await prompt.fill('PIN', DEMO_PIN);
      await clickPromptButton(prompt, 'Unlock');
      await prompt.waitForButton(finalButton, STEP_TIMEOUT).catch(() => {});
      continue;
    }
    if (await prompt.hasButton(finalButton)) {
      if (await prompt.hasField('PIN')) {
        say('the site asks for verification: typing the PIN');
        await prompt.fill('PIN', DEMO_PIN);
      }
      say(`clicking "${finalButton}" in the prompt`);
      await clickPromptButton(prompt, finalButton);
      return;
    }
    if (Date.now() > deadline) {
      const names = await prompt.names().catch(() => null);
      throw fail(`the prompt never offered "${finalButton}" (visible: ${JSON.stringify(names)}; text: ${JSON.stringify(await prompt.text().catch(() => ''))})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
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
  const username = `demo-${Date.now().toString(36)}`;
  const t0 = Date.now();

  say(`typing username "${username}" and clicking "Register passkey"`);
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Register passkey' }).click();
  let prompt = await waitForPrompt(b);
  say(`prompt opened: ${prompt.url()}`);
  await completePrompt(prompt, 'Save passkey in Latchkey');
  const reg = await waitForStatus(page, /Registration (verified|NOT verified|failed)/);
  say(`demo page: ${reg}`);
  if (!/Registration verified/.test(reg)) throw fail(`registration did not verify: ${reg}`);

  say('clicking "Sign in with passkey"');
  await page.getByRole('button', { name: 'Sign in with passkey' }).click();
  prompt = await waitForPrompt(b);
  say(`prompt opened: ${prompt.url()}`);
  await completePrompt(prompt, 'Sign in');
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
  1. Type a username and click "Register passkey". Latchkey's prompt opens. The first time it asks
     for a new PIN (twice) and "Create PIN": your passkeys are encrypted with it. Then "Save passkey in Latchkey".
  2. Click "Sign in with passkey" (username filled: that account; empty: pick any passkey),
     then "Sign in" in Latchkey's prompt (locked: enter the PIN and "Unlock" first).
  The status box on the page shows what the relying party verified.
  The profile is a throw-away one (deleted when the demo exits).
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
