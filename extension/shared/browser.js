// The one browser-API shim for extension pages and the service worker (ES module).
// Firefox exposes promise-based `browser`; Chromium exposes `chrome`, whose MV3 APIs also return
// promises when no callback is passed. Everything else in the extension uses `api` only.
// (The MAIN-world page shim never touches extension APIs; the classic content script relay.js
// cannot import modules and repeats the one line below.)

/** @type {typeof chrome} */
export const api = globalThis.browser ?? globalThis.chrome;

/**
 * Rejects after `ms` unless `promise` settles first.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what  used in the rejection message
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `runtime.sendMessage` that never throws synchronously (a dead extension context throws in
 * Chromium instead of rejecting).
 * @param {unknown} message
 * @returns {Promise<any>}
 */
export function sendMessage(message) {
  try {
    return Promise.resolve(api.runtime.sendMessage(message));
  } catch (e) {
    return Promise.reject(e);
  }
}
