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
// Env: GECKODRIVER (default /opt/latchkey-tools/bin/geckodriver), FIREFOX (default /usr/bin/firefox-esr).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Builder, By } from 'selenium-webdriver';
import firefox from 'selenium-webdriver/firefox.js';
import { PAGE_WEBAUTHN_SRC } from './page-webauthn.mjs';
import { withTimeout } from './chromium.mjs';

export const GECKODRIVER = process.env.GECKODRIVER || '/opt/latchkey-tools/bin/geckodriver';
export const FIREFOX_BIN = process.env.FIREFOX || '/usr/bin/firefox-esr';
const CALL_TIMEOUT_MS = 30000;
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

export async function launchFirefox({ extensionDir = null, profileDir = null, headless = !process.env.HEADED } = {}) {
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
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home);
  const logFile = path.join(tmp, 'geckodriver.log');
  const harnessLog = [];
  const note = (t) => harnessLog.push(`${new Date().toISOString().slice(11, 23)} [harness] ${t}`);

  let driver = null;
  let addonId = null;
  let uuid = null;
  let logFd = null;

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
    for (const [k, v] of Object.entries(prefs)) opts.setPreference(k, v);
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
      addonId = await withTimeout(driver.installAddon(extensionDir, true), 30000, 'installing the temporary add-on');
      uuid = await b.chrome(
        `return WebExtensionPolicy.getByID(arguments[0])?.mozExtensionHostname ?? null;`,
        addonId,
      );
      note(`temporary add-on ${addonId} installed, moz-extension://${uuid}/`);
    }
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
