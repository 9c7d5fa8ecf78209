// Screenshots of the request prompts (issue 5) and the autofill menu, light and dark, from the
// real extension (dist/chrome, normal flavor) in Chromium. A plain node script:
//
//   node web-tests/ui/prompt-shots.mjs
//
// PNGs go to web-tests/artifacts/prompts/: save, save-replace (the confirmation checkbox),
// save-excluded, picker (three accounts), sign-in (one account), sign-in with PIN, unlock,
// iframe (a cross-origin frame asking), the autofill menu (unlocked, three accounts, the second
// highlighted), and the autofill menu while locked ("Unlock Latchkey").

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../harness/chromium.mjs';
import { startRp, rpClient } from '../rp/server.mjs';
import { randomB64u, rawCreateOptions } from '../harness/support.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const OUT = path.join(REPO, 'web-tests', 'artifacts', 'prompts');
const DIST = path.resolve(REPO, process.env.LATCHKEY_DIST_CHROME || 'dist/chrome');
const PIN = 'correct horse 42';
const PROMPT_VIEWPORT = { width: 420, height: 530 };

fs.mkdirSync(OUT, { recursive: true });
for (const f of fs.readdirSync(OUT)) if (f.endsWith('.png')) fs.rmSync(path.join(OUT, f));
const say = (...a) => console.log('[shots]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function shot(page, name, clip) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await sleep(120);
    await page.screenshot({ path: path.join(OUT, `${name}-${scheme}.png`), clip });
  }
  await page.emulateMedia({ colorScheme: 'light' });
  say('saved', `${name}-{light,dark}.png`);
}

async function main() {
  const rp = await startRp({ port: 0 });
  const child = await startRp({ port: 0 });
  child.allowTopOrigin(rp.url);
  const client = rpClient(rp.url);
  const b = await launchChromium({ extensionDir: DIST });
  try {
    await b.goto(`${rp.url}/raw.html`);
    await b.extMessage({ type: 'vault-create', pin: PIN });

    /** Start a ceremony; the prompt page sized like the real window. */
    const open = async (kind, options, opts) => {
      const call = b.startWebauthn(kind, options, opts);
      const prompt = await b.waitForPrompt();
      await prompt.page.setViewportSize(PROMPT_VIEWPORT);
      await sleep(450); // the input guard
      return { call, prompt };
    };

    // save
    const users = [['alice', 'Alice Liddell'], ['bob', 'Bob Marley'], ['carol', 'Carol Danvers']];
    for (const [i, [username, displayName]] of users.entries()) {
      const { call, prompt } = await open('create', await client.registerOptions({ username, displayName, userVerification: 'discouraged' }));
      if (i === 0) await shot(prompt.page, '01-save');
      await prompt.click('Save passkey in Latchkey');
      const r = await call.result();
      await client.registerVerify(r.ok);
    }
    // save with PIN (required)
    {
      const { call, prompt } = await open('create', await client.registerOptions({ username: 'dora', displayName: 'Dora', userVerification: 'required' }));
      await shot(prompt.page, '02-save-with-pin');
      await prompt.click('Cancel');
      await call.result();
    }
    // excluded
    {
      const { call, prompt } = await open('create', await client.registerOptions({ username: 'alice', userVerification: 'discouraged' }));
      await shot(prompt.page, '03-save-excluded');
      await prompt.click('OK');
      await call.result();
    }
    // replace (same user handle, no excludeCredentials)
    {
      const userId = randomB64u(16);
      const mk = () => rawCreateOptions((o) => {
        o.user = { id: userId, name: 'erin@example.com', displayName: 'Erin Example' };
        o.authenticatorSelection.userVerification = 'discouraged';
      });
      let { call, prompt } = await open('create', mk());
      await prompt.click('Save passkey in Latchkey');
      await call.result();
      ({ call, prompt } = await open('create', mk()));
      await shot(prompt.page, '04-save-replace');
      await prompt.click('Save passkey in Latchkey');
      await sleep(200);
      await shot(prompt.page, '05-save-replace-refused');
      await prompt.click('Cancel');
      await call.result();
    }
    // picker
    {
      const { call, prompt } = await open('get', await client.loginOptions({ userVerification: 'discouraged' }));
      await shot(prompt.page, '06-picker');
      await prompt.click('Cancel');
      await call.result();
    }
    // one account
    {
      const { call, prompt } = await open('get', await client.loginOptions({ username: 'bob', userVerification: 'discouraged' }));
      await shot(prompt.page, '07-sign-in-one');
      await prompt.click('Cancel');
      await call.result();
    }
    // one account, PIN required
    {
      const { call, prompt } = await open('get', await client.loginOptions({ username: 'bob', userVerification: 'required' }));
      await shot(prompt.page, '08-sign-in-with-pin');
      await prompt.click('Cancel');
      await call.result();
    }
    // cross-origin iframe
    {
      const childClient = rpClient(child.url);
      const options = await childClient.registerOptions({ username: 'frank', displayName: 'Frank Frame', userVerification: 'discouraged' });
      const enc = Buffer.from(JSON.stringify({ kind: 'create', options, opts: {} })).toString('base64url');
      const q = new URLSearchParams({ child: `${child.url}/frame-child.html#${enc}`, allow: 'publickey-credentials-create; publickey-credentials-get' });
      await b.goto(`${rp.url}/frame-host.html?${q}`);
      await b.clickInFrame('#child', '#run');
      const prompt = await b.waitForPrompt();
      await prompt.page.setViewportSize(PROMPT_VIEWPORT);
      await sleep(450);
      await shot(prompt.page, '09-iframe-save');
      await prompt.click('Cancel');
    }
    // autofill menu
    {
      await b.goto(`${rp.url}/login.html`);
      const call = b.startWebauthn('get', await client.loginOptions({ userVerification: 'discouraged' }), { mediation: 'conditional', abortAfterMs: 60000 });
      await b.click('#username');
      await sleep(700);
      await b.press('ArrowDown');
      await b.press('ArrowDown');
      await shot(b.page, '10-autofill-menu', { x: 0, y: 0, width: 760, height: 420 });
      await b.press('Escape');
      await b.evaluate('document.activeElement.blur(), true');
      await b.extMessage({ type: 'vault-lock' });
      await b.click('#username');
      await sleep(700);
      await b.press('ArrowDown');
      await shot(b.page, '11-autofill-locked', { x: 0, y: 0, width: 760, height: 420 });
      await b.press('Enter');
      const prompt = await b.waitForPrompt();
      await prompt.page.setViewportSize(PROMPT_VIEWPORT);
      await sleep(450);
      await shot(prompt.page, '12-unlock');
      await prompt.click('Cancel');
      await b.goto(`${rp.url}/raw.html`);
      await call.result().catch(() => {});
    }
  } finally {
    await b.close();
    await rp.close();
    await child.close();
  }
}

main().then(() => say('done'), (e) => {
  console.error(e);
  process.exit(1);
});
