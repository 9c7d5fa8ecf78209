// Firefox: the wasm core's compile, started with the background (docs/design.md "Service worker
// behaviour", cold start). sw.js imports this module first, so in the bundle it runs before every
// other module: in Firefox's background page the file read and the compile (helper threads) overlap
// the rest of the page's start-up and the 5–10 ms Firefox takes to deliver the waking event, instead
// of starting at the first vault use. Chromium's service worker loads the wasm at the first vault
// use, as before (vault.js `ready`): there a compile started while the script was evaluated delayed
// the event's dispatch by about what it saved (cold-start marks, README "Benchmarks"), and its
// compile is short (~2 ms after a ~4.5 ms read). Only the compile happens here; instantiating (the
// core's memory and state) waits for a vault use. A wake-up that never uses the vault (the auto-lock
// alarm, a site-status question) costs Firefox the compile's CPU time and nothing else.

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

const inServiceWorker = typeof ServiceWorkerGlobalScope === "function" && globalThis instanceof ServiceWorkerGlobalScope;
/** @type {Promise<WebAssembly.Module> | null} */
let early = inServiceWorker ? null : compile();
early?.catch(() => {}); // on a failure the first use loads the wasm itself

/**
 * The compile started with the background (Firefox), handed out once; null in Chromium's service
 * worker and after it was taken: vault.js then loads the wasm itself (the wasm-bindgen glue's
 * instantiateStreaming, as before), as it does when the early compile failed.
 * @returns {Promise<WebAssembly.Module> | null}
 */
export function takeEarlyWasm() {
  const p = early;
  early = null;
  return p;
}
