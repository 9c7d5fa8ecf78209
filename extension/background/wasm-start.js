// The wasm core's compile, started the moment the background starts (docs/design.md "Service worker
// behaviour", cold start). sw.js imports this module first, so in the bundle it runs before every
// other module: the file read and the compile (off the main thread in both browsers) overlap the
// rest of the background's start-up, the message's delivery and the settings read, instead of
// starting at the first vault use. Only the compile happens here; instantiating (the core's memory
// and state) waits for a vault use (vault.js `ready`). A wake-up that never uses the vault (an
// alarm, a site-status question) costs the compile's CPU time on a helper thread and nothing else.

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
start();

/**
 * The compiled module: the one started with the background, or a new attempt if that one failed.
 * @returns {Promise<WebAssembly.Module>}
 */
export const compiledWasm = () => started ?? start();
