// The wasm core's compile, started as early as it pays (docs/design.md "Service worker behaviour",
// cold start). sw.js imports this module first, so in the bundle it runs before every other module.
// In Firefox's background page the compile starts at once: the file read and the compile (helper
// threads) overlap the rest of the page's start-up and the ~5–10 ms Firefox takes to deliver the
// waking event, instead of starting at the first vault use. In Chromium's service worker it starts
// at the first vault use, as before: there a compile started during the script's evaluation delayed
// the event's dispatch by about as much as it saved (cold-start marks, README "Benchmarks"), and
// Chromium's compile is short (~2 ms after a ~4.5 ms read). Only the compile happens here;
// instantiating (the core's memory and state) waits for a vault use (vault.js `ready`). A wake-up
// that never uses the vault (the auto-lock alarm, a site-status question) costs Firefox the
// compile's CPU time on a helper thread and nothing else.

const WASM_URL = new URL("../../pkg/latchkey_wasm_bg.wasm", import.meta.url).href;

/** Fetches and compiles the core: streaming where the browser can, else from the whole file. */
async function compile() {
  const response = await fetch(WASM_URL);
  if (!response.ok) throw new Error(`could not read the authenticator (${response.status})`);
  if (typeof WebAssembly.compileStreaming === "function") {
    try {
      return await WebAssembly.compileStreaming(response);
    } catch (e) {
      // A type other than application/wasm is refused before the body is read: compile the bytes.
      if (response.bodyUsed) throw e;
    }
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

/** @type {Promise<WebAssembly.Module> | null} */
let started = null;
function start() {
  const p = compile();
  started = p;
  // A failure surfaces at the next use, which starts a new attempt.
  p.catch(() => {
    if (started === p) started = null;
  });
  return p;
}
const inServiceWorker = typeof ServiceWorkerGlobalScope === "function" && globalThis instanceof ServiceWorkerGlobalScope;
if (!inServiceWorker) start();

/**
 * The compiled module: the one started with the background (Firefox), else a new compile (the first
 * use in Chromium, or after a failed attempt).
 * @returns {Promise<WebAssembly.Module>}
 */
export const compiledWasm = () => started ?? start();
