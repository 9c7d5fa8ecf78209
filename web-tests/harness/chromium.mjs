// Headless Chromium (playwright-core, Debian's /usr/bin/chromium) with or without an unpacked
// extension, launched as shared/notes/browser-facts.md says. Never downloads a browser.
//
//   const b = await launchChromium({ extensionDir: 'dist/chrome-test' });   // or no extensionDir
//   await b.goto(rp.url + '/raw.html');
//   const r = await b.webauthn('create', optionsJSON);   // {ok, instanceOf, ms, info} | {error, ms}
//   await b.restartBackground();   // CDP ServiceWorker.stopAllWorkers
//   await b.restartBrowser();      // close + relaunch with the same user-data-dir
//   await b.close();               // also removes the temp user-data-dir it created
//
// Vault / prompt helpers (the interface is the same in harness/firefox.mjs):
//   const call = b.startWebauthn('create', options);   // does not wait: the prompt can be driven
//   const prompt = await b.waitForPrompt();            // the prompt page (see harness/prompt.mjs)
//   await prompt.fill('New PIN', '2468'); await prompt.click('Create PIN');
//   const r = await call.result();                     // same shape as b.webauthn()
//   const page = await b.openExtensionPage('extension/ui/options.html');   // a tab
//   await b.extEval(fnSource, ...args);   // run an async function in a harness extension tab
//   await b.killBackground();             // stop the worker NOW (no settle wait; crash tests)
//
// Env: CHROMIUM (binary, default /usr/bin/chromium), HEADED=1 to watch.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PAGE_WEBAUTHN_SRC } from './page-webauthn.mjs';
import { PROMPT_PATH, chromiumPrompt, chromiumExtPage, extensionHelpers } from './prompt.mjs';

export const CHROMIUM_BIN = process.env.CHROMIUM || '/usr/bin/chromium';
const CALL_TIMEOUT_MS = 30000; // node-side bound on any single in-page WebAuthn call
const HOLDING_PAGE = 'data:text/html;charset=utf-8,<!doctype html><title>Latchkey e2e</title><p>Latchkey e2e harness';

/** Reject after `ms` with a readable message, so nothing can hang forever. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Call navigator.credentials.create/get in `page` (main world) with JSON options.
 * Returns {ok: cred.toJSON(), instanceOf, ms, info} or {error: {name, message, ...}, ms}.
 */
export async function webauthnInPage(page, kind, optionsJSON, opts = {}) {
  if (kind !== 'create' && kind !== 'get') throw new Error(`kind must be create|get, got ${kind}`);
  const expr = `(${PAGE_WEBAUTHN_SRC})(${JSON.stringify(kind)}, ${JSON.stringify(optionsJSON)}, ${JSON.stringify(opts)})`;
  return withTimeout(page.evaluate(expr), opts.nodeTimeoutMs ?? CALL_TIMEOUT_MS, `navigator.credentials.${kind} in Chromium`);
}

function chromiumArgs(extensionDir) {
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--password-store=basic',
  ];
  if (extensionDir) args.push(`--disable-extensions-except=${extensionDir}`, `--load-extension=${extensionDir}`);
  return args;
}

/** Pids of the processes whose argv (from /proc) satisfies `match` (never found by name). */
export function pidsWhere(match) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv;
    try {
      argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (match(argv)) out.push(Number(name));
  }
  return out;
}

/** The main browser process(es) started with `--user-data-dir=<dir>` (not its --type= children). */
const browserPids = (dir) =>
  pidsWhere((argv) => argv.includes(`--user-data-dir=${dir}`) && !argv.some((a) => a.startsWith('--type=')));

export async function launchChromium({
  extensionDir = null,
  userDataDir = null,
  headless = !process.env.HEADED,
  viewport = { width: 1000, height: 800 }, // null: follow the window (headed demo)
  // Hostile suite: more command-line switches (e.g. --host-resolver-rules) and accepting the local
  // test RP's self-signed certificate (the page's origin stays the real https one).
  extraArgs = [],
  ignoreHTTPSErrors = false,
} = {}) {
  if (extensionDir) {
    extensionDir = path.resolve(extensionDir);
    if (!fs.existsSync(path.join(extensionDir, 'manifest.json'))) {
      throw new Error(`no extension at ${extensionDir} (run \`node scripts/build.mjs\` first)`);
    }
  }
  if (!fs.existsSync(CHROMIUM_BIN)) throw new Error(`Chromium not found at ${CHROMIUM_BIN} (apt-get install chromium)`);
  const ownDir = !userDataDir;
  if (!userDataDir) userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-chromium-'));

  const logs = [];
  const stamp = () => new Date().toISOString().slice(11, 23);
  const log = (src, text) => logs.push(`${stamp()} [${src}] ${text}`);

  let ctx = null;
  let page = null;
  let extensionId = null;
  let seenPrompts = new Set(); // prompt pages already handed out by waitForPrompt
  let harnessTab = null; // the extension tab extEval runs in (opened lazily)
  let killCdp = null; // CDP session kept open for killBackground
  let armed = null; // the kill armKill scheduled

  const watchWorker = (w) => {
    // Playwright reports service-worker console messages on the worker (and the context).
    w.on?.('console', (m) => log(`sw:${m.type()}`, m.text()));
    w.on?.('close', () => log('sw', `worker closed ${w.url()}`));
  };

  const watchPage = (p) => {
    p.setDefaultTimeout(15000);
    p.on('console', (m) => log(`page:${m.type()}`, m.text()));
    p.on('pageerror', (e) => log('page:error', e.stack || String(e)));
    p.on('crash', () => log('page', 'CRASHED'));
  };

  async function start() {
    ctx = await withTimeout(
      chromium.launchPersistentContext(userDataDir, {
        headless,
        executablePath: CHROMIUM_BIN,
        ignoreDefaultArgs: ['--disable-extensions'],
        args: [...chromiumArgs(extensionDir), ...extraArgs],
        ignoreHTTPSErrors,
        viewport,
        timeout: 30000,
      }),
      45000,
      'launching Chromium',
    );
    ctx.on('serviceworker', (w) => {
      log('sw', `worker started ${w.url()}`);
      watchWorker(w);
    });
    ctx.on('page', (p) => {
      log('ctx', `page opened ${p.url()}`);
      watchPage(p);
    });
    for (const w of ctx.serviceWorkers()) watchWorker(w);
    page = ctx.pages()[0] || (await ctx.newPage());
    watchPage(page);
    // A page the extension opens on install (the normal flavor's first-run options page) takes over
    // the active tab while it is blank ("singleton tab overwriting the NTP"), which could be the
    // page under test a moment later. A non-blank page at once makes it open in a tab of its own.
    await page.goto(HOLDING_PAGE, { timeout: 10000 }).catch((e) => log('harness', `holding page: ${e.message.split('\n')[0]}`));
    if (extensionDir) {
      const sw = ctx.serviceWorkers().find((w) => w.url().startsWith('chrome-extension://'))
        || (await ctx.waitForEvent('serviceworker', { timeout: 20000 }));
      extensionId = new URL(sw.url()).host;
    }
    seenPrompts = new Set();
    harnessTab = null;
    killCdp = null;
  }

  await start();

  const b = {
    name: 'chromium',
    kind: 'chromium',
    userDataDir,
    extensionDir,
    latencies: { create: [], get: [] },
    get extensionId() {
      return extensionId;
    },
    get context() {
      return ctx;
    },
    get page() {
      return page;
    },
    logs: () => logs.slice(),
    dumpLogs(header = 'Chromium console') {
      return `----- ${header} (${logs.length} lines) -----\n${logs.slice(-200).join('\n')}\n-----`;
    },

    /** The extension's service worker (waits for it to run). */
    async serviceWorker() {
      const found = ctx.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${extensionId}/`));
      return found || ctx.waitForEvent('serviceworker', { timeout: 15000 });
    },

    async goto(url) {
      for (let attempt = 0; ; attempt++) {
        try {
          await page.goto(url, { waitUntil: 'load', timeout: 20000 });
          return;
        } catch (e) {
          // Only if the extension's first-run page (or the holding page it interrupted) raced the
          // page under test in this tab.
          if (attempt >= 3 || !/interrupted by another navigation to "(chrome-extension:|data:)/.test(e.message)) throw e;
          log('harness', `goto ${url} interrupted by another navigation; loading it again`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },

    async webauthn(kind, options, opts = {}) {
      const r = await webauthnInPage(page, kind, options, opts);
      if (r.ok) b.latencies[kind].push(r.ms);
      return r;
    },

    /** chrome-extension://<id>/<rel> */
    extensionUrl(rel) {
      return `chrome-extension://${extensionId}/${rel.replace(/^\//, '')}`;
    },

    /**
     * Start navigator.credentials.create/get in the current page WITHOUT waiting for it (so a
     * prompt can be driven meanwhile). `call.result()` resolves to what b.webauthn() resolves to;
     * `call.peek()` to that result if it is already there, else null.
     */
    startWebauthn(kind, options, opts = {}) {
      const startedAt = Date.now();
      const p = webauthnInPage(page, kind, options, opts);
      let settled = null;
      p.then((r) => (settled = r), (e) => (settled = { error: { name: 'HarnessError', message: e.message } }));
      return {
        /** When the call was made (epoch ms; node's clock = the page's, same machine). */
        startedAt,
        result: () => p,
        /** The result if the call has settled by now, else null (no waiting). */
        peek: async () => settled,
      };
    },

    /**
     * Wait for a prompt page (chrome-extension://<id>/extension/ui/prompt.html?…) not handed out
     * before; returns a prompt handle (harness/prompt.mjs).
     */
    async waitForPrompt({ timeoutMs = 15000 } = {}) {
      const prefix = `chrome-extension://${extensionId}/${PROMPT_PATH}`;
      const isNew = (p) => !seenPrompts.has(p) && !p.isClosed() && p.url().startsWith(prefix);
      const deadline = Date.now() + timeoutMs;
      let found = null;
      while (!found && Date.now() < deadline) {
        found = ctx.pages().find(isNew) ?? null;
        if (!found) await new Promise((r) => setTimeout(r, 25));
      }
      if (!found) {
        throw new Error(`no new Latchkey prompt (${prefix}…) within ${timeoutMs} ms; pages: ${ctx.pages().map((p) => p.url()).join(', ')}`);
      }
      seenPrompts.add(found);
      await found.waitForLoadState('domcontentloaded', { timeout: 10000 });
      log('harness', `prompt found ${found.url()}`);
      return chromiumPrompt(found);
    },

    /** Open an extension page (e.g. 'extension/ui/options.html') in a new tab; an ext-page handle. */
    async openExtensionPage(rel) {
      for (let attempt = 0; ; attempt++) {
        const p = await ctx.newPage();
        try {
          await p.goto(b.extensionUrl(rel), { waitUntil: 'load', timeout: 15000 });
          return chromiumExtPage(p);
        } catch (e) {
          // The normal flavor's first-run options page (runtime.openOptionsPage at install) may take
          // over the fresh tab: leave it to the options page and open another one.
          if (attempt >= 2 || !/interrupted by another navigation/.test(e.message)) throw e;
          log('harness', `opening ${rel} was interrupted by an extension page; trying a new tab`);
        }
      }
    },

    /**
     * Run `fnSource` (an async function's source) with JSON-able args in an extension tab the
     * harness keeps open (extension/ui/popup.html); resolves to its JSON-able result.
     */
    async extEval(fnSource, ...args) {
      if (!harnessTab || harnessTab.page.isClosed()) harnessTab = await b.openExtensionPage('extension/ui/popup.html');
      return harnessTab.evaluate(fnSource, ...args);
    },

    /**
     * Stop the extension's service worker at once (CDP ServiceWorker.stopAllWorkers on a session kept
     * open, no settle delay): the crash tests call it at a random moment inside a request.
     */
    /**
     * Arm a kill (stopAllWorkers) `delayMs` from now and return at once; killReport() waits for it
     * and tells when it fired (epoch ms). Same interface as the Firefox harness.
     */
    async armKill(delayMs) {
      await b.killBackground({ prepareOnly: true });
      const k = { armedAt: Date.now(), firedAt: null, doneAt: null, error: null };
      k.promise = new Promise((resolve) => {
        setTimeout(() => {
          k.firedAt = Date.now();
          killCdp.send('ServiceWorker.stopAllWorkers').then(
            () => { k.doneAt = Date.now(); resolve(); },
            (e) => { k.error = e.message; k.doneAt = Date.now(); resolve(); });
        }, delayMs);
      });
      armed = k;
      return { armedAt: k.armedAt };
    },
    async killReport(timeoutMs = 10000) {
      if (!armed) throw new Error('killReport: no kill was armed');
      await withTimeout(armed.promise, timeoutMs, 'the armed kill');
      if (armed.error) throw new Error(`the armed stopAllWorkers failed: ${armed.error}`);
      const { promise, ...k } = armed;
      return k;
    },

    async killBackground({ prepareOnly = false } = {}) {
      if (!killCdp) {
        killCdp = await ctx.newCDPSession(page);
        await killCdp.send('ServiceWorker.enable');
      }
      if (prepareOnly) return;
      const t0 = performance.now();
      await withTimeout(killCdp.send('ServiceWorker.stopAllWorkers'), 10000, 'ServiceWorker.stopAllWorkers');
      log('harness', `killBackground: stopAllWorkers answered after ${(performance.now() - t0).toFixed(1)} ms`);
    },

    /** Evaluate a JS expression (string) in the current page. */
    evaluate(expr, timeoutMs = 15000) {
      return withTimeout(page.evaluate(expr), timeoutMs, `evaluate in Chromium: ${expr.slice(0, 80)}`);
    },

    async fill(selector, text) {
      await page.fill(selector, text);
    },
    async click(selector) {
      await page.click(selector);
    },
    /** Click `selector` inside the iframe `frameSelector` of the current page (a real click). */
    async clickInFrame(frameSelector, selector) {
      await page.frameLocator(frameSelector).locator(selector).click({ timeout: 10000 });
    },
    /** A real key press (trusted events) in the current page: 'ArrowDown', 'ArrowUp', 'Enter', 'Escape', 'Tab'. */
    async press(key) {
      await page.keyboard.press(key);
    },
    async textOf(selector) {
      return (await page.textContent(selector)) ?? '';
    },
    /** Wait until the element's text matches `re`; returns the text. */
    async waitForText(selector, re, timeoutMs = 20000) {
      try {
        await page.waitForFunction(
          ([sel, src, flags]) => new RegExp(src, flags).test(document.querySelector(sel)?.textContent ?? ''),
          [selector, re.source, re.flags],
          { timeout: timeoutMs },
        );
      } catch (e) {
        throw new Error(`${selector} never matched ${re} within ${timeoutMs} ms; text is ${JSON.stringify(await b.textOf(selector))}`);
      }
      return b.textOf(selector);
    },

    /**
     * Stop every service worker (CDP ServiceWorker.stopAllWorkers) and wait until CDP reports the
     * extension's worker "stopped"; the next request wakes a fresh instance (in-memory state gone).
     * Resolves to {before, after} running statuses. (Playwright keeps listing the old Worker object;
     * CDP's ServiceWorker.workerVersionUpdated is the reliable signal.)
     */
    async restartBackground() {
      const cdp = await ctx.newCDPSession(page);
      const prefix = `chrome-extension://${extensionId}/`;
      let status = null;
      let before = null;
      let resolveStopped;
      const stopped = new Promise((r) => (resolveStopped = r));
      cdp.on('ServiceWorker.workerVersionUpdated', (e) => {
        for (const v of e.versions) {
          if (!v.scriptURL.startsWith(prefix)) continue;
          status = v.runningStatus;
          before ??= status;
          if (status === 'stopped') resolveStopped();
        }
      });
      try {
        await cdp.send('ServiceWorker.enable');
        await new Promise((r) => setTimeout(r, 100)); // let the initial version report arrive
        if (before === null) before = 'not reported';
        await cdp.send('ServiceWorker.stopAllWorkers');
        if (before !== 'stopped') await withTimeout(stopped, 10000, 'waiting for the extension service worker to stop');
      } finally {
        await cdp.send('ServiceWorker.disable').catch(() => {});
        await cdp.detach().catch(() => {});
      }
      log('harness', `service worker stopped (${before} → ${status})`);
      return { before, after: status };
    },

    /** Close the browser and launch it again with the same user-data-dir (the profile survives). */
    async restartBrowser() {
      const oldId = extensionId;
      await withTimeout(ctx.close(), 20000, 'closing Chromium').catch((e) => log('harness', String(e)));
      log('harness', 'browser closed; relaunching with the same profile');
      await start();
      if (extensionDir && oldId !== extensionId) log('harness', `extension id changed ${oldId} → ${extensionId}`);
    },

    /**
     * Hard crash: SIGKILL the browser process of this user-data-dir (no graceful shutdown, no
     * flush), then launch again with the same profile. The process is found by its own
     * `--user-data-dir=` argument in /proc (never by name).
     */
    async killBrowser() {
      const oldCtx = ctx;
      const pids = browserPids(userDataDir);
      if (pids.length === 0) throw new Error(`killBrowser: no Chromium process for ${userDataDir}`);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      log('harness', `killBrowser: SIGKILL ${pids.join(',')}`);
      await withTimeout(oldCtx.close(), 10000, 'closing the killed context').catch(() => {});
      await start();
    },

    async close() {
      if (ctx) await withTimeout(ctx.close(), 20000, 'closing Chromium').catch(() => {});
      ctx = null;
      if (ownDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  Object.assign(b, extensionHelpers(b));
  return b;
}
