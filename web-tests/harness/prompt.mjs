// Extension UI handles (the prompt window, options/popup tabs) and extension-page helpers, for the
// Chromium harness (playwright) — the Firefox harness builds the same interface on selenium in
// harness/firefox.mjs (firefoxUi). Everything is found by ACCESSIBLE NAME, as a person (or a screen
// reader) finds it: buttons by their name, fields by their label.
//
// UI handle (prompt, options page, popup):
//   url()                         current URL
//   names()                       {buttons: [...], fields: [...]} visible accessible names
//   hasButton(name) / hasField(label)              now, no waiting
//   waitForButton(name, ms) / waitForField(label, ms)
//   fill(label, text)             type into the field with that label (replaces its value)
//   click(name)                   click the button with that name once it is visible and enabled
//   text()                        the page's visible text (document.body.innerText)
//   waitForText(re, ms)           until text() matches; returns it
//   fieldState(label)             {value, invalid (aria-invalid), description (aria-describedby text)}
//   alerts()                      visible text of role=alert / aria-live=assertive / field descriptions
//   evaluate(fnSource, ...args)   run an async function in the page (extension API available)
//   isClosed() / waitForClose(ms) / close() / reload()

import { withTimeout } from './chromium.mjs';

export const PROMPT_PATH = 'extension/ui/prompt.html';
export const OPTIONS_PATH = 'extension/ui/options.html';
export const POPUP_PATH = 'extension/ui/popup.html';

/** In-page: visible text of alerts and of the descriptions of visible fields (errors "next to the field"). */
export const ALERTS_SRC = `async () => {
  const visible = (el) => !!el && !el.closest('[hidden]') && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const out = [];
  for (const el of document.querySelectorAll('[role=alert], [aria-live=assertive]')) {
    if (visible(el) && el.innerText.trim()) out.push(el.innerText.trim());
  }
  for (const f of document.querySelectorAll('input, textarea, select')) {
    if (!visible(f)) continue;
    for (const attr of ['aria-describedby', 'aria-errormessage']) {
      for (const id of (f.getAttribute(attr) || '').split(/\\s+/).filter(Boolean)) {
        const d = document.getElementById(id);
        if (visible(d) && d.innerText.trim() && !out.includes(d.innerText.trim())) out.push(d.innerText.trim());
      }
    }
  }
  return out;
}`;

/** In-page: state of the (first visible) field whose label text is `label`. */
export const FIELD_STATE_SRC = `async (label) => {
  const visible = (el) => !!el && !el.closest('[hidden]') && el.getClientRects().length > 0;
  for (const f of document.querySelectorAll('input, textarea, select')) {
    if (!visible(f)) continue;
    const names = [f.getAttribute('aria-label'), ...[...(f.labels || [])].map((l) => l.innerText.trim())];
    const by = (f.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean).map((id) => document.getElementById(id)?.innerText.trim());
    if (![...names, ...by].includes(label)) continue;
    const desc = (f.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)
      .map((id) => document.getElementById(id)).filter(visible).map((d) => d.innerText.trim()).filter(Boolean).join(' ');
    return { value: f.value, invalid: f.getAttribute('aria-invalid'), description: desc, type: f.type, autocomplete: f.autocomplete };
  }
  return null;
}`;

/** Parse playwright's aria snapshot into visible button and field names. */
function namesFromAriaSnapshot(yaml) {
  const buttons = [];
  const fields = [];
  for (const line of yaml.split('\n')) {
    const m = /^\s*-\s+(button|textbox|combobox|spinbutton|checkbox|radio)\s+"((?:[^"\\]|\\.)*)"(.*)$/.exec(line);
    if (!m) continue;
    const name = m[2].replace(/\\(.)/g, '$1');
    if (m[1] === 'button') buttons.push(name);
    else fields.push(name);
  }
  return { buttons, fields };
}

/** A UI handle on a playwright Page (prompt window, options page, popup page). */
export function chromiumUi(page) {
  const button = (name) => page.getByRole('button', { name, exact: true });
  const field = (label) => page.getByLabel(label, { exact: true });
  const ui = {
    kind: 'chromium',
    page,
    url: () => page.url(),
    async names() {
      if (page.isClosed()) return { buttons: [], fields: [] };
      return namesFromAriaSnapshot(await page.locator('body').ariaSnapshot({ timeout: 5000 }));
    },
    async hasButton(name) {
      return (await button(name).filter({ visible: true }).count()) > 0;
    },
    async hasField(label) {
      return (await field(label).filter({ visible: true }).count()) > 0;
    },
    async waitForButton(name, timeoutMs = 10000) {
      try {
        await button(name).filter({ visible: true }).first().waitFor({ state: 'visible', timeout: timeoutMs });
      } catch {
        throw new Error(`no visible "${name}" button within ${timeoutMs} ms on ${page.url()}; visible: ${JSON.stringify(await ui.names().catch((e) => e.message))}; text: ${JSON.stringify(await ui.text().catch(() => '(closed)'))}`);
      }
    },
    async waitForField(label, timeoutMs = 10000) {
      try {
        await field(label).filter({ visible: true }).first().waitFor({ state: 'visible', timeout: timeoutMs });
      } catch {
        throw new Error(`no visible field labelled "${label}" within ${timeoutMs} ms on ${page.url()}; visible: ${JSON.stringify(await ui.names().catch((e) => e.message))}; text: ${JSON.stringify(await ui.text().catch(() => '(closed)'))}`);
      }
    },
    async fill(label, text) {
      await ui.waitForField(label);
      await field(label).filter({ visible: true }).first().fill(text, { timeout: 10000 });
    },
    async click(name, timeoutMs = 10000) {
      await ui.waitForButton(name, timeoutMs);
      // playwright waits until the button is enabled (the prompt's input guard) and stable.
      await button(name).filter({ visible: true }).first().click({ timeout: timeoutMs });
    },
    /** Tick the checkbox / choose the radio button with that label. */
    async check(label, on = true, timeoutMs = 10000) {
      await ui.waitForField(label, timeoutMs);
      await field(label).filter({ visible: true }).first().setChecked(on, { timeout: timeoutMs });
    },
    /** A real key press in this page ('ArrowDown', 'Enter', …). */
    async press(key) {
      await page.keyboard.press(key);
    },
    async text() {
      return page.evaluate(() => document.body?.innerText ?? '');
    },
    async waitForText(re, timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs;
      let t = '';
      while (Date.now() < deadline) {
        t = page.isClosed() ? '(closed)' : await ui.text().catch(() => '');
        if (re.test(t)) return t;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${page.url()} never showed ${re} within ${timeoutMs} ms; text is ${JSON.stringify(t)}`);
    },
    async fieldState(label) {
      return ui.evaluate(FIELD_STATE_SRC, label);
    },
    async alerts() {
      return ui.evaluate(ALERTS_SRC);
    },
    async evaluate(fnSource, ...args) {
      const expr = `(${fnSource})(...${JSON.stringify(args)}).then((r) => JSON.stringify(r === undefined ? null : r))`;
      return JSON.parse(await withTimeout(page.evaluate(expr), 20000, `extension page evaluate: ${fnSource.slice(0, 60)}`));
    },
    isClosed: async () => page.isClosed(),
    async waitForClose(timeoutMs = 10000) {
      if (page.isClosed()) return;
      await withTimeout(page.waitForEvent('close', { timeout: timeoutMs }), timeoutMs + 1000, `waiting for ${page.url()} to close`);
    },
    async close() {
      if (!page.isClosed()) await page.close({ runBeforeUnload: true });
    },
    async reload() {
      await page.reload({ waitUntil: 'load', timeout: 15000 });
    },
  };
  return ui;
}

export const chromiumPrompt = chromiumUi;
export const chromiumExtPage = chromiumUi;

/** The extension API from inside an extension page. */
const API = 'const api = globalThis.browser ?? globalThis.chrome;';

/**
 * Helpers every harness gets, built on b.extEval (an extension tab the harness keeps open):
 * raw storage, extension messages, the vault status.
 */
export function extensionHelpers(b) {
  let seq = 0;
  return {
    /**
     * Start an async function in the harness's extension tab WITHOUT waiting for it (Firefox runs one
     * WebDriver command at a time); `handle.result(timeoutMs)` polls for {v} (its value) or {e} (what
     * it threw). Used to send an extension message and kill the background while it is handled.
     */
    async extStart(fnSource, ...args) {
      const key = `k${++seq}`;
      const startedAt = await b.extEval(
        // The result goes to an attribute of <html>: WebDriver scripts may run in a fresh sandbox
        // each time (Firefox), but they all see the same document.
        `async (key, ...args) => {
          const put = (r) => document.documentElement.setAttribute('data-lk-e2e-' + key, JSON.stringify(r));
          put({ pending: true });
          Promise.resolve().then(() => (${fnSource})(...args)).then(
            (v) => put({ v: v === undefined ? null : v }),
            (e) => put({ e: String((e && e.message) || e) }));
          return Date.now();
        }`,
        key,
        ...args,
      );
      return {
        /** When the function was started (epoch ms). */
        startedAt,
        async result(timeoutMs = 15000) {
          const deadline = Date.now() + timeoutMs;
          while (Date.now() < deadline) {
            const r = await b.extEval(`async (key) => JSON.parse(document.documentElement.getAttribute('data-lk-e2e-' + key) || '{"gone":true}')`, key);
            if (r.gone) throw new Error('the harness extension tab lost the call (reloaded?)');
            if (!r.pending) return r;
            await new Promise((res) => setTimeout(res, 25));
          }
          throw new Error(`extension call ${key} did not settle within ${timeoutMs} ms`);
        },
      };
    },
    /** extStart for one runtime.sendMessage: result() → {v: answer} | {e: error text}. */
    extMessageStart(msg) {
      return b.extStart(`async (m) => { ${API} return api.runtime.sendMessage(m); }`, msg);
    },
    /** Raw storage.local (everything: chrome.storage.local.get(null)). */
    storageLocal() {
      return b.extEval(`async () => { ${API} return api.storage.local.get(null); }`);
    },
    /** Raw storage.session (everything). */
    storageSession() {
      return b.extEval(`async () => { ${API} return api.storage.session.get(null); }`);
    },
    /** storage.local.set(obj): one call, as the extension would. */
    setStorageLocal(obj) {
      return b.extEval(`async (o) => { ${API} await api.storage.local.set(o); return true; }`, obj);
    },
    removeStorageLocal(keys) {
      return b.extEval(`async (k) => { ${API} await api.storage.local.remove(k); return true; }`, keys);
    },
    /** runtime.sendMessage from an extension page; resolves to the service worker's answer. */
    extMessage(msg) {
      return b.extEval(`async (m) => { ${API} return api.runtime.sendMessage(m); }`, msg);
    },
    /** The `vault-status` answer's ok value; throws with the error otherwise. */
    async vaultStatus() {
      const a = await b.extMessage({ type: 'vault-status' });
      if (!a || !('ok' in a)) throw new Error(`vault-status answered ${JSON.stringify(a)}`);
      return a.ok;
    },
  };
}
