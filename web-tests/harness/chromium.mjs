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
// Env: CHROMIUM (binary, default /usr/bin/chromium), HEADED=1 to watch.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PAGE_WEBAUTHN_SRC } from './page-webauthn.mjs';

export const CHROMIUM_BIN = process.env.CHROMIUM || '/usr/bin/chromium';
const CALL_TIMEOUT_MS = 30000; // node-side bound on any single in-page WebAuthn call

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

export async function launchChromium({
  extensionDir = null,
  userDataDir = null,
  headless = !process.env.HEADED,
  viewport = { width: 1000, height: 800 }, // null: follow the window (headed demo)
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
        args: chromiumArgs(extensionDir),
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
    if (extensionDir) {
      const sw = ctx.serviceWorkers().find((w) => w.url().startsWith('chrome-extension://'))
        || (await ctx.waitForEvent('serviceworker', { timeout: 20000 }));
      extensionId = new URL(sw.url()).host;
    }
    page = ctx.pages()[0] || (await ctx.newPage());
    watchPage(page);
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
      await page.goto(url, { waitUntil: 'load', timeout: 20000 });
    },

    async webauthn(kind, options, opts = {}) {
      const r = await webauthnInPage(page, kind, options, opts);
      if (r.ok) b.latencies[kind].push(r.ms);
      return r;
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

    async close() {
      if (ctx) await withTimeout(ctx.close(), 20000, 'closing Chromium').catch(() => {});
      ctx = null;
      if (ownDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  return b;
}
