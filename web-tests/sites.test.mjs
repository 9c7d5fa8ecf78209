// Per-site exclusions and the global switch (NORMAL flavor, Chromium and Firefox), set through the
// options page's "Websites" section by accessible names: an excluded site (and everything while
// switched off) goes to the browser's own WebAuthn — no prompt, the browser holds the request
// until the page aborts it (there is no other authenticator here), isConditionalMediationAvailable
// is the browser's answer — and removing the exclusion brings Latchkey's prompt back. The toolbar
// popup's "Never use Latchkey on this site" does the same for the active tab's site (Chromium only).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, assertError } from './harness/support.mjs';
import { OPTIONS_PATH } from './harness/prompt.mjs';
import { okOf } from './harness/vault.mjs';

const PIN = '7531 fir';

for (const B of BROWSERS) {
  describe(`site exclusions and the on/off switch, normal flavor [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client, options;
    const ctx = () => ({ b, rp });

    /** A create on /raw.html that Latchkey must NOT take: no prompt, and only the page's abort ends it. */
    async function assertBrowserHandles(what) {
      await b.goto(`${rp.url}/raw.html`);
      // The browser's WebAuthn needs the page in the foreground (the options page is another tab).
      if (b.page) await b.page.bringToFront();
      const reg = await client.registerOptions({ username: 'june', userVerification: 'discouraged' });
      const t0 = Date.now();
      const r = await b.webauthn('create', reg, { abortAfterMs: 3000 });
      await assert.rejects(b.waitForPrompt({ timeoutMs: 300 }), /no new Latchkey prompt/, `${what}: no Latchkey prompt`);
      assertError(r, 'AbortError', `${what}: the browser held the request until the page aborted it`);
      assert.ok(Date.now() - t0 >= 2500, `${what}: answered after ${Date.now() - t0} ms`);
    }

    /** A create Latchkey takes: its prompt opens; "Cancel" → NotAllowedError. */
    async function assertLatchkeyHandles(what) {
      await b.goto(`${rp.url}/raw.html`);
      const reg = await client.registerOptions({ username: 'june', userVerification: 'discouraged' });
      const call = await b.startWebauthn('create', reg);
      const prompt = await b.waitForPrompt();
      await prompt.click('Cancel');
      assertError(await call.result(), 'NotAllowedError', `${what}: Latchkey's prompt, cancelled`);
    }

    before(withLogs(ctx, async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch({ flavor: 'normal' });
      await b.goto(`${rp.url}/raw.html`);
      await okOf(b, { type: 'vault-create', pin: PIN });
      options = await b.openExtensionPage(OPTIONS_PATH);
    }));
    after(async () => {
      await options?.close().catch(() => {});
      await b?.close();
      await rp?.close();
    });

    it('"Add site" in the options page excludes the site: the browser handles its requests', withLogs(ctx, async () => {
      await options.fill('Site address', `${rp.url}/login.html`);
      await options.click('Add site');
      await options.waitForButton(`Remove ${rp.url}`);
      const st = await b.vaultStatus();
      assert.deepEqual(st.settings.excludedSites, [rp.url], 'stored as the origin');
      await assertBrowserHandles('excluded site');
      // isConditionalMediationAvailable() on an excluded site is the browser's own answer.
      await b.goto(`${rp.url}/login.html`);
      const raw = await b.storageLocal();
      assert.deepEqual(raw.settings.excludedSites, [rp.url], 'settings in storage.local');
    }));

    it('"Remove" brings Latchkey back', withLogs(ctx, async () => {
      await options.click(`Remove ${rp.url}`);
      await options.waitForText(/No sites/);
      assert.deepEqual((await b.vaultStatus()).settings.excludedSites, []);
      await assertLatchkeyHandles('site no longer excluded');
    }));

    it('"Use Latchkey for passkeys on websites" off: the browser handles everything; on again: Latchkey', withLogs(ctx, async () => {
      await options.check('Use Latchkey for passkeys on websites', false);
      for (let i = 0; i < 40 && (await b.vaultStatus()).settings.enabled !== false; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await b.vaultStatus()).settings.enabled, false);
      await assertBrowserHandles('switched off');
      await options.check('Use Latchkey for passkeys on websites', true);
      for (let i = 0; i < 40 && (await b.vaultStatus()).settings.enabled !== true; i++) await new Promise((r) => setTimeout(r, 50));
      await assertLatchkeyHandles('switched on again');
    }));

    // The toolbar popup's "Never use Latchkey on this site" (Chromium: `action.openPopup()` opens the
    // real popup, attached to the window whose active tab is the site; Firefox ESR needs a user
    // gesture for it, so this case is Chromium's only). The popup is no Playwright page: it is driven
    // through CDP (attach to its target, Runtime.evaluate).
    it('the popup\'s "Never use Latchkey on this site" excludes the active tab\'s site, and unchecking brings Latchkey back', { skip: B.name !== 'chromium' && 'Firefox ESR opens the action popup only from a user gesture' }, withLogs(ctx, async () => {
      const cdp = await b.context.newCDPSession(b.page);
      const popupTargets = async () =>
        (await cdp.send('Target.getTargets')).targetInfos.filter((t) => t.type === 'page' && t.url.endsWith('/extension/ui/popup.html'));
      /** Opens the toolbar popup over the site's tab; returns an evaluate(expression) in it. */
      async function openPopup() {
        await b.goto(`${rp.url}/raw.html`);
        await b.page.bringToFront();
        const before = new Set((await popupTargets()).map((t) => t.targetId)); // the harness's popup.html tab
        // Into the site tab's window (the last focused one may be a prompt window, which has no toolbar).
        await options.page.evaluate(async (url) => {
          const [tab] = await chrome.tabs.query({ url: `${url}/raw.html` });
          await chrome.action.openPopup({ windowId: tab.windowId });
        }, rp.url);
        let target;
        for (let i = 0; i < 50 && !target; i++) {
          target = (await popupTargets()).find((t) => !before.has(t.targetId));
          if (!target) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(target, 'the action popup opened');
        const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
        let nextId = 1;
        return async (expression) => {
          const id = nextId++;
          const reply = new Promise((resolve) => {
            const on = (e) => {
              if (e.sessionId !== sessionId) return;
              const m = JSON.parse(e.message);
              if (m.id !== id) return;
              cdp.off('Target.receivedMessageFromTarget', on);
              resolve(m);
            };
            cdp.on('Target.receivedMessageFromTarget', on);
          });
          await cdp.send('Target.sendMessageToTarget', {
            sessionId,
            message: JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, awaitPromise: true, returnByValue: true } }),
          });
          const m = await reply;
          if (m.error || m.result?.exceptionDetails) throw new Error(`in the popup: ${JSON.stringify(m.error ?? m.result.exceptionDetails)}`);
          return m.result.result.value;
        };
      }
      /** The popup's site box once it is shown: {checked, text}. */
      const siteBox = (evaluate) =>
        evaluate(`(async () => {
          for (let i = 0; i < 100; i++) {
            const box = document.getElementById('site-box');
            if (box && !box.hidden) return { checked: document.getElementById('exclude-here').checked, text: box.textContent.replace(/\\s+/g, ' ').trim() };
            await new Promise((r) => setTimeout(r, 50));
          }
          return null;
        })()`);
      const waitForExcluded = async (want) => {
        for (let i = 0; i < 40 && JSON.stringify((await b.vaultStatus()).settings.excludedSites) !== JSON.stringify(want); i++) await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual((await b.vaultStatus()).settings.excludedSites, want);
      };

      let evaluate = await openPopup();
      let box = await siteBox(evaluate);
      assert.ok(box, 'the popup shows the site box for an http(s) tab');
      assert.equal(box.checked, false);
      assert.match(box.text, /Never use Latchkey on this site/);
      assert.ok(box.text.includes(new URL(rp.url).host), `names the active tab's site: ${box.text}`);
      await evaluate(`document.getElementById('exclude-here').click(), true`);
      await waitForExcluded([rp.url]);
      await evaluate('window.close(), true');
      await assertBrowserHandles('excluded from the popup');

      evaluate = await openPopup();
      box = await siteBox(evaluate);
      assert.equal(box?.checked, true, 'a reopened popup shows the site as excluded');
      await evaluate(`document.getElementById('exclude-here').click(), true`);
      await waitForExcluded([]);
      await evaluate('window.close(), true');
      await assertLatchkeyHandles('no longer excluded (popup)');
      await cdp.detach();
    }));

    it('settings-set refuses malformed exclusions (not an origin)', withLogs(ctx, async () => {
      const a = await b.extMessage({ type: 'settings-set', excludedSites: ['javascript:alert(1)'] });
      assert.equal(a?.error?.name, 'TypeError', JSON.stringify(a));
      const c = await b.extMessage({ type: 'settings-set', enabled: 'yes' });
      assert.equal(c?.error?.name, 'TypeError', JSON.stringify(c));
    }));
  });
}
