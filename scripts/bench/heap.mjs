// The extension service worker's JS heap in Chromium: CDP Runtime.getHeapUsage on the worker's
// target (performance.memory does not exist in workers). Playwright opens CDP sessions on pages
// only, so the worker target is attached from a page session with the (non-flat) Target domain.

/** {usedSize, totalSize} in bytes after a forced GC, or null when the worker is not running. */
export async function swHeapChromium(b) {
  const cdp = await b.context.newCDPSession(b.page);
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const t = targetInfos.find((x) => x.type === 'service_worker' && x.url.startsWith(`chrome-extension://${b.extensionId}/`));
    if (!t) return null;
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false });
    let seq = 0;
    const waiting = new Map();
    cdp.on('Target.receivedMessageFromTarget', (e) => {
      if (e.sessionId !== sessionId) return;
      const m = JSON.parse(e.message);
      const resolve = waiting.get(m.id);
      if (resolve) resolve(m);
    });
    const call = (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++seq;
        const timer = setTimeout(() => reject(new Error(`${method}: no answer from the worker target`)), 10000);
        waiting.set(id, (m) => {
          clearTimeout(timer);
          if (m.error) reject(new Error(`${method}: ${m.error.message}`));
          else resolve(m.result);
        });
        cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
      });
    await call('HeapProfiler.collectGarbage');
    const usage = await call('Runtime.getHeapUsage');
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {});
    return { usedSize: usage.usedSize, totalSize: usage.totalSize };
  } finally {
    await cdp.detach().catch(() => {});
  }
}
