// Headless Firefox ESR through selenium-webdriver + geckodriver, with the same interface as
// harness/chromium.mjs (goto, webauthn, fill, click, waitForText, restartBackground,
// restartBrowser, dumpLogs, close, latencies).
//
// How it works (checked with Firefox ESR 153, geckodriver 0.37.1):
// * The extension is installed as a TEMPORARY add-on: `driver.installAddon(dir, true)`
//   (selenium zips the directory itself). Temporary add-ons can be unsigned.
// * The profile is a fixed directory passed as `-profile <dir>`; geckodriver then uses it in place
//   (no copy), so a restart (quit + relaunch + reinstall the temporary add-on) keeps storage.local.
//   Prefs `extensions.webextensions.keepStorageOnUninstall` and `…keepUuidOnUninstall` are set so the
//   re-install keeps the same moz-extension UUID and storage although Firefox drops temporary
//   add-ons at shutdown. (In ESR 153 storage survived even without them; they make it explicit.)
// * MV3 host permissions: the content scripts of the temporary add-on DO run on http://localhost
//   without any grant step (checked: MAIN-world and ISOLATED scripts both ran at document_start and
//   runtime.sendMessage reached the background). No prefs or permissions API calls are needed.
// * Background restart: geckodriver runs with `--allow-system-access`, which lets the harness switch
//   to the chrome context and call the same thing about:debugging's "Terminate background script"
//   does: `ExtensionParent.GlobalManager.getExtension(id).terminateBackground()`.
// * HOME is a temp dir (native-messaging manifests would be looked up under it), set only in the
//   environment of geckodriver/Firefox.
// * Console output of pages and the extension goes to Firefox's stdout (prefs
//   devtools.console.stdout.*), captured with geckodriver's log into <tmp>/geckodriver.log; dumpLogs()
//   prints its tail.
//
// * WebDriver commands of one session run one at a time: while an executeAsyncScript waits, nothing
//   else can be done. startWebauthn therefore starts the call in the page and returns at once (the
//   result lands in a DOM attribute that call.result() polls), so the prompt window can be driven
//   meanwhile: waitForPrompt finds its new window handle; every UI action switches to that window,
//   acts and switches back to the page's window (b.mainHandle).
// * Extension pages run WebDriver scripts without a sandbox: `browser.*` is reachable directly
//   (extEval, storage helpers). Accessible names come from WebDriver's "Get Computed Label".
//
// Env: GECKODRIVER (default /opt/latchkey-tools/bin/geckodriver), FIREFOX (default /usr/bin/firefox-esr).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Builder, By, Key } from 'selenium-webdriver';
import { PROMPT_PATH, ALERTS_SRC, FIELD_STATE_SRC, extensionHelpers } from './prompt.mjs';
import firefox from 'selenium-webdriver/firefox.js';
import { PAGE_WEBAUTHN_SRC } from './page-webauthn.mjs';
import { pidsWhere, withTimeout } from './chromium.mjs';

export const GECKODRIVER = process.env.GECKODRIVER || '/opt/latchkey-tools/bin/geckodriver';
export const FIREFOX_BIN = process.env.FIREFOX || '/usr/bin/firefox-esr';
const CALL_TIMEOUT_MS = 30000;
const HOLDING_PAGE = 'data:text/html;charset=utf-8,<!doctype html><title>Latchkey e2e</title><p>Latchkey e2e harness';
// Firefox's own chatter in an offline headless profile (not about Latchkey): left out of dumps.
const FIREFOX_NOISE =
  /Marionette\s+(TRACE|DEBUG)|RSLoader|nimbus|Remote Settings|RemoteSettings|getRecipesFromCollection|^\s+Stack:|^\s+Message: Error: Could not sync|FaviconLoader|BackupService|GFX1-|Polling for changes failed/;

// Marionette runs WebDriver scripts in a sandbox: the page's globals are reachable, but the
// sandbox has its own built-ins (e.g. `x instanceof ArrayBuffer` is false for the page's
// ArrayBuffers). A site calls navigator.credentials from the page's own realm, so the harness does
// too: it injects a <script> element (the test pages have no CSP) and gets the JSON result back in
// a CustomEvent.
const PAGE_REALM_WRAPPER = `const done = arguments[arguments.length - 1];
const [src, kind, options, opts] = arguments;
const key = '__latchkey_e2e_' + Math.random().toString(36).slice(2);
window.addEventListener(key, (e) => {
  try { done(JSON.parse(e.detail)); } catch (err) { done({ error: { name: 'HarnessError', message: String(err) } }); }
}, { once: true });
const s = document.createElement('script');
s.textContent = '(' + src + ')(' + JSON.stringify(kind) + ', ' + JSON.stringify(options) + ', ' + JSON.stringify(opts) + ')' +
  '.catch((e) => ({ error: { name: "HarnessError", message: String(e && e.stack || e) } }))' +
  '.then((r) => window.dispatchEvent(new CustomEvent(' + JSON.stringify(key) + ', { detail: JSON.stringify(r) })));';
(document.head || document.documentElement).append(s);
s.remove();`;

// Non-blocking variant: the result is written to an attribute of <html> (readable from WebDriver's
// sandbox as a plain string).
const PAGE_REALM_START = `const [src, kind, options, opts, key] = arguments;
if (!/^https?:$/.test(location.protocol)) return 'the site page is gone: the window shows ' + location.href;
document.documentElement.setAttribute(key, 'pending');
const startedAt = Date.now();
const s = document.createElement('script');
s.textContent = '(' + src + ')(' + JSON.stringify(kind) + ', ' + JSON.stringify(options) + ', ' + JSON.stringify(opts) + ')' +
  '.catch((e) => ({ error: { name: "HarnessError", message: String(e && e.stack || e) } }))' +
  '.then((r) => document.documentElement.setAttribute(' + JSON.stringify(key) + ', JSON.stringify(r)));';
(document.head || document.documentElement).append(s);
s.remove();
return startedAt;`;

/**
 * Call navigator.credentials.create/get in the driver's current page (the page's own realm) with
 * JSON options. Same result shape as chromium.mjs's webauthnInPage.
 */
export async function webauthnInPage(driver, kind, optionsJSON, opts = {}) {
  if (kind !== 'create' && kind !== 'get') throw new Error(`kind must be create|get, got ${kind}`);
  return withTimeout(
    driver.executeAsyncScript(PAGE_REALM_WRAPPER, PAGE_WEBAUTHN_SRC, kind, optionsJSON, opts),
    opts.nodeTimeoutMs ?? CALL_TIMEOUT_MS,
    `navigator.credentials.${kind} in Firefox`,
  );
}

export async function launchFirefox({
  extensionDir = null,
  profileDir = null,
  headless = !process.env.HEADED,
  homeDir = null,
  // Hostile suite: more prefs (e.g. network.dns.localDomains) and accepting the local test RP's
  // self-signed certificate (the page's origin stays the real https one).
  extraPrefs = {},
  acceptInsecureCerts = false,
} = {}) {
  if (!fs.existsSync(GECKODRIVER)) {
    throw new Error(`geckodriver not found at ${GECKODRIVER} (set GECKODRIVER, or run scripts/setup.sh)`);
  }
  if (!fs.existsSync(FIREFOX_BIN)) throw new Error(`Firefox not found at ${FIREFOX_BIN} (apt-get install firefox-esr)`);
  if (extensionDir) {
    extensionDir = path.resolve(extensionDir);
    if (!fs.existsSync(path.join(extensionDir, 'manifest.json'))) {
      throw new Error(`no extension at ${extensionDir} (run \`node scripts/build.mjs\` first)`);
    }
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-firefox-'));
  if (!profileDir) profileDir = path.join(tmp, 'profile');
  fs.mkdirSync(profileDir, { recursive: true });
  // homeDir: a caller's HOME (e.g. with a registered native host, harness/native-host.mjs).
  const home = homeDir ?? path.join(tmp, 'home');
  if (!homeDir) fs.mkdirSync(home);
  const logFile = path.join(tmp, 'geckodriver.log');
  const harnessLog = [];
  const note = (t) => harnessLog.push(`${new Date().toISOString().slice(11, 23)} [harness] ${t}`);

  let driver = null;
  let addonId = null;
  let uuid = null;
  let logFd = null;
  let mainHandle = null; // the window the tests' site page lives in
  let known = new Set(); // window handles that are not (new) prompts
  let harnessTab = null; // the extension tab extEval runs in (opened lazily)
  let callSeq = 0;

  async function start() {
    const opts = new firefox.Options().setBinary(FIREFOX_BIN).addArguments('-profile', profileDir);
    if (headless) opts.addArguments('-headless');
    const prefs = {
      'extensions.webextensions.keepStorageOnUninstall': true,
      'extensions.webextensions.keepUuidOnUninstall': true,
      'devtools.console.stdout.content': true,
      'devtools.console.stdout.chrome': true,
      'browser.shell.checkDefaultBrowser': false,
      'browser.aboutwelcome.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'app.update.auto': false,
      // Full-resolution performance.now() for the (informational) latency numbers.
      'privacy.reduceTimerPrecision': false,
    };
    for (const [k, v] of Object.entries({ ...prefs, ...extraPrefs })) opts.setPreference(k, v);
    if (acceptInsecureCerts) opts.setAcceptInsecureCerts(true);
    logFd = fs.openSync(logFile, 'a');
    const svc = new firefox.ServiceBuilder(GECKODRIVER)
      .addArguments('--allow-system-access')
      .setEnvironment({ ...process.env, HOME: home, MOZ_CRASHREPORTER_DISABLE: '1' })
      .setStdio(['ignore', logFd, logFd]);
    driver = await withTimeout(
      new Builder().forBrowser('firefox').setFirefoxOptions(opts).setFirefoxService(svc).build(),
      60000,
      'launching Firefox through geckodriver',
    );
    await driver.manage().setTimeouts({ script: CALL_TIMEOUT_MS, pageLoad: 20000, implicit: 0 });
    if (extensionDir) {
      // Firefox loads a page the add-on opens on install (the normal flavor's first-run options
      // page) into the current tab when that tab is blank — which could be the page under test a
      // moment later. A non-blank page first makes it open in a tab of its own.
      await withTimeout(driver.get(HOLDING_PAGE), 10000, 'loading the holding page');
      addonId = await withTimeout(driver.installAddon(extensionDir, true), 30000, 'installing the temporary add-on');
      uuid = await b.chrome(
        `return WebExtensionPolicy.getByID(arguments[0])?.mozExtensionHostname ?? null;`,
        addonId,
      );
      note(`temporary add-on ${addonId} installed, moz-extension://${uuid}/`);
    }
    mainHandle = await driver.getWindowHandle();
    known = new Set([mainHandle]);
    harnessTab = null;
  }

  /** Run fn with the driver switched to `handle`; always switches back to the site page's window. */
  async function inWindow(handle, fn) {
    await driver.switchTo().window(handle);
    try {
      return await fn();
    } finally {
      await driver.switchTo().window(mainHandle).catch((e) => note(`switching back to the main window failed: ${e.message}`));
    }
  }

  /** Visible elements matching css whose accessible name is `name` (WebDriver Get Computed Label). */
  async function findByName(css, name) {
    const out = [];
    for (const el of await driver.findElements(By.css(css))) {
      try {
        if (!(await el.isDisplayed())) continue;
        if ((await el.getAccessibleName()) === name) out.push(el);
      } catch {
        // stale element: the page re-rendered; the caller polls again
      }
    }
    return out;
  }
  const BUTTONS = 'button, [role=button], input[type=submit], input[type=button]';
  const FIELDS = 'input:not([type=hidden]):not([type=radio]):not([type=checkbox]), textarea, select';

  /** A UI handle (same interface as harness/prompt.mjs chromiumUi) on a window/tab of this browser. */
  function firefoxUi(handle) {
    const evaluateHere = async (fnSource, args) => {
      const r = await withTimeout(
        driver.executeAsyncScript(
          `const done = arguments[arguments.length - 1];
           (${fnSource})(...arguments[0]).then(
             (r) => done(JSON.stringify({ v: r === undefined ? null : r })),
             (e) => done(JSON.stringify({ e: String(e && e.message || e) })));`,
          args,
        ),
        20000,
        `extension page evaluate: ${fnSource.slice(0, 60)}`,
      );
      const parsed = JSON.parse(r);
      if ('e' in parsed) throw new Error(`in ${handle}: ${parsed.e}`);
      return parsed.v;
    };
    const textHere = () => driver.executeScript('return document.body ? document.body.innerText : ""');
    const namesHere = async () => {
      const names = { buttons: [], fields: [] };
      for (const [kind, css] of [['buttons', BUTTONS], ['fields', FIELDS]]) {
        for (const el of await driver.findElements(By.css(css))) {
          try {
            if (await el.isDisplayed()) names[kind].push(await el.getAccessibleName());
          } catch {}
        }
      }
      return names;
    };
    const waitHere = async (css, name, what, timeoutMs, wantEnabled) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const els = await findByName(css, name);
        for (const el of els) {
          if (!wantEnabled) return el;
          try {
            if (await el.isEnabled()) return el;
          } catch {}
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      let names = '(window closed)';
      let text = '';
      try {
        names = JSON.stringify(await namesHere());
        text = JSON.stringify(await textHere());
      } catch {}
      throw new Error(`no visible${wantEnabled ? ', enabled' : ''} ${what} "${name}" within ${timeoutMs} ms; visible: ${names}; text: ${text}`);
    };
    const ui = {
      kind: 'firefox',
      handle,
      url: () => inWindow(handle, () => driver.getCurrentUrl()),
      names: () => inWindow(handle, namesHere),
      hasButton: (name) => inWindow(handle, async () => (await findByName(BUTTONS, name)).length > 0),
      hasField: (label) => inWindow(handle, async () => (await findByName(FIELDS, label)).length > 0),
      waitForButton: (name, timeoutMs = 10000) => inWindow(handle, () => waitHere(BUTTONS, name, 'button', timeoutMs, false)).then(() => {}),
      waitForField: (label, timeoutMs = 10000) => inWindow(handle, () => waitHere(FIELDS, label, 'field labelled', timeoutMs, false)).then(() => {}),
      fill: (label, text) =>
        inWindow(handle, async () => {
          const el = await waitHere(FIELDS, label, 'field labelled', 10000, true);
          await el.clear();
          await el.sendKeys(text);
        }),
      click: (name, timeoutMs = 10000) =>
        inWindow(handle, async () => {
          const el = await waitHere(BUTTONS, name, 'button', timeoutMs, true);
          await el.click();
        }),
      /** Tick the checkbox / choose the radio button with that label (a real click). */
      check: (label, on = true, timeoutMs = 10000) =>
        inWindow(handle, async () => {
          const el = await waitHere('input[type=checkbox], input[type=radio]', label, 'checkbox or radio labelled', timeoutMs, true);
          if ((await el.isSelected()) !== on) await el.click();
        }),
      /** A real key press in this window ('ArrowDown', 'Enter', …). */
      press: (key) =>
        inWindow(handle, async () => {
          const map = { ArrowDown: Key.ARROW_DOWN, ArrowUp: Key.ARROW_UP, Enter: Key.ENTER, Escape: Key.ESCAPE, Tab: Key.TAB };
          await driver.actions().sendKeys(map[key] ?? key).perform();
        }),
      text: () => inWindow(handle, textHere),
      async waitForText(re, timeoutMs = 10000) {
        const deadline = Date.now() + timeoutMs;
        let t = '';
        while (Date.now() < deadline) {
          t = await ui.text().catch(() => '(closed)');
          if (re.test(t)) return t;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`window ${handle} never showed ${re} within ${timeoutMs} ms; text is ${JSON.stringify(t)}`);
      },
      fieldState: (label) => inWindow(handle, () => evaluateHere(FIELD_STATE_SRC, [label])),
      alerts: () => inWindow(handle, () => evaluateHere(ALERTS_SRC, [])),
      evaluate: (fnSource, ...args) => inWindow(handle, () => evaluateHere(fnSource, args)),
      isClosed: async () => !(await driver.getAllWindowHandles()).includes(handle),
      async waitForClose(timeoutMs = 10000) {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          if (await ui.isClosed()) return;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`window ${handle} still open after ${timeoutMs} ms`);
      },
      async close() {
        if (await ui.isClosed()) return;
        await inWindow(handle, () => driver.close());
      },
      reload: () => inWindow(handle, () => withTimeout(driver.navigate().refresh(), 15000, 'reloading an extension page')),
    };
    return ui;
  }

  const b = {
    name: 'firefox',
    kind: 'firefox',
    profileDir,
    extensionDir,
    logFile,
    latencies: { create: [], get: [] },
    get extensionId() {
      return addonId;
    },
    get extensionUuid() {
      return uuid;
    },
    get driver() {
      return driver;
    },

    /** Run a synchronous script in Firefox's privileged chrome context; back to content afterwards. */
    async chrome(script, ...args) {
      await driver.setContext(firefox.Context.CHROME);
      try {
        return await withTimeout(driver.executeScript(script, ...args), 15000, 'chrome-context script');
      } finally {
        await driver.setContext(firefox.Context.CONTENT);
      }
    },
    /** Same, asynchronous (the script calls arguments[arguments.length-1] with the result). */
    async chromeAsync(script, ...args) {
      await driver.setContext(firefox.Context.CHROME);
      try {
        return await withTimeout(driver.executeAsyncScript(script, ...args), 20000, 'chrome-context script');
      } finally {
        await driver.setContext(firefox.Context.CONTENT);
      }
    },

    logs() {
      let text = '';
      try {
        text = fs.readFileSync(logFile, 'utf8');
      } catch {}
      return [...harnessLog, ...text.split('\n').filter(Boolean)];
    },
    dumpLogs(header = 'Firefox console + geckodriver log') {
      const lines = b.logs().filter((l) => !/^\s*$/.test(l) && !FIREFOX_NOISE.test(l));
      return `----- ${header} (${logFile}) -----\n${lines.slice(-200).join('\n')}\n-----`;
    },

    async goto(url) {
      await withTimeout(driver.get(url), 25000, `loading ${url} in Firefox`);
    },

    async webauthn(kind, options, opts = {}) {
      const r = await webauthnInPage(driver, kind, options, opts);
      if (r.ok) b.latencies[kind].push(r.ms);
      return r;
    },

    get mainHandle() {
      return mainHandle;
    },

    /** moz-extension://<uuid>/<rel> */
    extensionUrl(rel) {
      return `moz-extension://${uuid}/${rel.replace(/^\//, '')}`;
    },

    /**
     * Start navigator.credentials.create/get in the site page WITHOUT waiting for it, so the prompt
     * window can be driven meanwhile. `call.result(timeoutMs)` polls for what b.webauthn() returns.
     */
    async startWebauthn(kind, options, opts = {}) {
      if (kind !== 'create' && kind !== 'get') throw new Error(`kind must be create|get, got ${kind}`);
      const key = `data-lk-e2e-call-${++callSeq}`;
      const handle = mainHandle;
      const startedAt = await driver.executeScript(PAGE_REALM_START, PAGE_WEBAUTHN_SRC, kind, options, opts, key);
      if (typeof startedAt !== 'number') throw new Error(`could not start the in-page call (${startedAt})`);
      return {
        /** When the page made the call (epoch ms). */
        startedAt,
        /** The result if the call has settled by now, else null (one look, no waiting). */
        async peek() {
          const v = await inWindow(handle, () => driver.executeScript('return document.documentElement.getAttribute(arguments[0])', key));
          return v === null || v === 'pending' ? null : JSON.parse(v);
        },
        async result(timeoutMs = opts.nodeTimeoutMs ?? CALL_TIMEOUT_MS) {
          const deadline = Date.now() + timeoutMs;
          while (Date.now() < deadline) {
            const v = await inWindow(handle, () => driver.executeScript('return document.documentElement.getAttribute(arguments[0])', key));
            if (v === null) throw new Error('the page that made the call navigated away (its result is lost)');
            if (v !== 'pending') return JSON.parse(v);
            await new Promise((r) => setTimeout(r, 25));
          }
          throw new Error(`timed out after ${timeoutMs} ms: navigator.credentials.${kind} in Firefox (started with startWebauthn)`);
        },
      };
    },

    /** Wait for a NEW window showing the prompt (moz-extension://…/extension/ui/prompt.html). */
    async waitForPrompt({ timeoutMs = 15000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      const seenUrls = [];
      while (Date.now() < deadline) {
        const found = await b.findNewPrompt(seenUrls);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no new Latchkey prompt window within ${timeoutMs} ms; other windows showed: ${JSON.stringify(seenUrls)}`);
    },

    /** One look for a new prompt window; marks it seen and returns its UI handle, else null. */
    async findNewPrompt(seenUrls = []) {
      for (const h of await driver.getAllWindowHandles()) {
        if (known.has(h)) continue;
        let url = '';
        try {
          url = await inWindow(h, () => driver.getCurrentUrl());
        } catch {
          continue; // closed meanwhile
        }
        if (url.startsWith(`moz-extension://${uuid}/${PROMPT_PATH}`)) {
          // Wait until the page has loaded (its script asks the worker for the details then).
          await inWindow(h, async () => {
            const until = Date.now() + 10000;
            while (Date.now() < until && (await driver.executeScript('return document.readyState')) !== 'complete') {
              await new Promise((r) => setTimeout(r, 25));
            }
          });
          known.add(h);
          note(`prompt window ${h} ${url}`);
          return firefoxUi(h);
        }
        if (url && url !== 'about:blank') {
          known.add(h);
          seenUrls.push(url);
        }
      }
      return null;
    },

    /** Open an extension page (e.g. 'extension/ui/options.html') in a new tab; a UI handle. */
    async openExtensionPage(rel) {
      await driver.switchTo().newWindow('tab');
      const h = await driver.getWindowHandle();
      known.add(h);
      try {
        await withTimeout(driver.get(b.extensionUrl(rel)), 15000, `loading ${rel}`);
      } finally {
        await driver.switchTo().window(mainHandle);
      }
      return firefoxUi(h);
    },

    /** Run an async function's source with JSON-able args in the harness's extension tab (popup.html). */
    async extEval(fnSource, ...args) {
      if (!harnessTab || (await harnessTab.isClosed())) harnessTab = await b.openExtensionPage('extension/ui/popup.html');
      return harnessTab.evaluate(fnSource, ...args);
    },

    /** Terminate the background at once (the crash tests call it at a random moment). */
    async killBackground() {
      return b.restartBackground();
    },

    /**
     * Arm a background kill `delayMs` from now, timed inside Firefox (chrome-context timer), and
     * return at once: WebDriver runs one command at a time, so a node-side timer could only kill
     * after the next command. killReport() then tells when it fired (epoch ms, the machine's clock).
     */
    async armKill(delayMs) {
      const r = await b.chrome(
        `const [id, delay] = arguments;
         const { ExtensionParent } = ChromeUtils.importESModule('resource://gre/modules/ExtensionParent.sys.mjs');
         const { setTimeout } = ChromeUtils.importESModule('resource://gre/modules/Timer.sys.mjs');
         const ext = ExtensionParent.GlobalManager.getExtension(id);
         if (!ext) return { error: 'extension ' + id + ' not found' };
         const k = { armedAt: Date.now(), firedAt: null, doneAt: null, error: null };
         ext.__lkE2EKill = k;
         setTimeout(() => {
           k.firedAt = Date.now();
           Promise.resolve().then(() => ext.terminateBackground()).then(
             () => { k.doneAt = Date.now(); }, (e) => { k.error = String(e); k.doneAt = Date.now(); });
         }, delay);
         return { armedAt: k.armedAt };`,
        addonId,
        delayMs,
      );
      if (r?.error) throw new Error(`armKill: ${r.error}`);
      return r;
    },
    /** Wait (bounded) until the armed kill has run; {armedAt, firedAt, doneAt, error}. */
    async killReport(timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const k = await b.chrome(
          `const { ExtensionParent } = ChromeUtils.importESModule('resource://gre/modules/ExtensionParent.sys.mjs');
           const ext = ExtensionParent.GlobalManager.getExtension(arguments[0]);
           return ext && ext.__lkE2EKill ? { ...ext.__lkE2EKill } : null;`,
          addonId,
        );
        if (!k) throw new Error('killReport: no kill was armed (or the extension was reloaded)');
        if (k.doneAt) {
          if (k.error) throw new Error(`the armed terminateBackground failed: ${k.error}`);
          note(`armed kill fired ${k.firedAt - k.armedAt} ms after arming, took ${k.doneAt - k.firedAt} ms`);
          return k;
        }
        if (Date.now() > deadline) throw new Error(`the armed kill did not finish within ${timeoutMs} ms: ${JSON.stringify(k)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },

    /** Evaluate a JS expression (string) in the current page. */
    evaluate(expr, timeoutMs = 15000) {
      return withTimeout(driver.executeScript(`return (${expr});`), timeoutMs, `evaluate in Firefox: ${expr.slice(0, 80)}`);
    },

    async fill(selector, text) {
      const el = await driver.findElement(By.css(selector));
      await el.clear();
      await el.sendKeys(text);
    },
    async click(selector) {
      await (await driver.findElement(By.css(selector))).click();
    },
    /** Click `selector` inside the iframe `frameSelector` of the current page (a real click). */
    async clickInFrame(frameSelector, selector) {
      const frame = await driver.findElement(By.css(frameSelector));
      await driver.switchTo().frame(frame);
      try {
        const deadline = Date.now() + 10000;
        let el = null;
        while (!el && Date.now() < deadline) {
          el = (await driver.findElements(By.css(selector)))[0] ?? null;
          if (!el) await new Promise((r) => setTimeout(r, 50));
        }
        if (!el) throw new Error(`no ${selector} in ${frameSelector}`);
        await el.click();
      } finally {
        await driver.switchTo().defaultContent();
      }
    },
    /** A real key press (trusted events) in the current page: 'ArrowDown', 'ArrowUp', 'Enter', 'Escape', 'Tab'. */
    async press(key) {
      const map = { ArrowDown: Key.ARROW_DOWN, ArrowUp: Key.ARROW_UP, Enter: Key.ENTER, Escape: Key.ESCAPE, Tab: Key.TAB };
      await driver.actions().sendKeys(map[key] ?? key).perform();
    },
    async textOf(selector) {
      return driver.executeScript('return document.querySelector(arguments[0])?.textContent ?? ""', selector);
    },
    async waitForText(selector, re, timeoutMs = 20000) {
      const deadline = Date.now() + timeoutMs;
      let text = '';
      while (Date.now() < deadline) {
        text = await b.textOf(selector);
        if (re.test(text)) return text;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${selector} never matched ${re} within ${timeoutMs} ms; text is ${JSON.stringify(text)}`);
    },

    /** Terminate the extension's background (what about:debugging's "Terminate background script" does). */
    async restartBackground() {
      const r = await b.chromeAsync(
        `const done = arguments[arguments.length - 1];
         (async () => {
           const { ExtensionParent } = ChromeUtils.importESModule('resource://gre/modules/ExtensionParent.sys.mjs');
           const ext = ExtensionParent.GlobalManager.getExtension(arguments[0]);
           if (!ext) throw new Error('extension ' + arguments[0] + ' not found');
           const before = ext.backgroundState;
           await ext.terminateBackground();
           return { before, after: ext.backgroundState };
         })().then(done, (e) => done({ error: String(e) }));`,
        addonId,
      );
      if (r?.error) throw new Error(`terminateBackground failed: ${r.error}`);
      note(`background terminated (${r.before} → ${r.after})`);
      return r;
    },

    /** Quit Firefox and start it again with the same profile, re-installing the temporary add-on. */
    async restartBrowser() {
      const oldUuid = uuid;
      await withTimeout(driver.quit(), 20000, 'quitting Firefox').catch((e) => note(String(e)));
      fs.closeSync(logFd);
      note('browser quit; relaunching with the same profile');
      await start();
      if (extensionDir && oldUuid !== uuid) note(`moz-extension UUID changed ${oldUuid} → ${uuid}`);
    },

    /**
     * Hard crash: SIGKILL the Firefox process using this profile (no graceful shutdown), then
     * start again with the same profile, as restartBrowser does. The process is found by its own
     * `-profile <dir>` arguments in /proc (never by name).
     */
    async killBrowser() {
      const pids = pidsWhere((argv) => {
        const i = argv.indexOf('-profile');
        return i >= 0 && argv[i + 1] === profileDir && !argv.includes('-contentproc');
      });
      if (pids.length === 0) throw new Error(`killBrowser: no Firefox process for ${profileDir}`);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      note(`killBrowser: SIGKILL ${pids.join(',')}`);
      await withTimeout(driver.quit(), 10000, 'ending the killed session').catch(() => {});
      fs.closeSync(logFd);
      await start();
    },

    async close() {
      if (driver) await withTimeout(driver.quit(), 20000, 'quitting Firefox').catch(() => {});
      driver = null;
      if (logFd !== null) {
        try {
          fs.closeSync(logFd);
        } catch {}
        logFd = null;
      }
      // tmp holds home, the log and (unless the caller gave one) the profile.
      if (!process.env.KEEP_PROFILES) fs.rmSync(tmp, { recursive: true, force: true });
    },
  };

  Object.assign(b, extensionHelpers(b));

  try {
    await start();
  } catch (e) {
    const dump = b.dumpLogs('Firefox failed to start');
    await b.close();
    e.message += `\n${dump}`;
    throw e;
  }
  return b;
}
