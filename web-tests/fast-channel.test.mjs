// The fast channel (docs/design.md "The fast channel"), TEST flavor. Chromium: after a frame's
// first request its relay gets a MessagePort straight to the service worker (bound to the relay's
// runtime port through Latchkey's channel page); later requests travel on it, and the RP verifies
// them. A page cannot bind a port of its own (a made-up token gets nothing, and nothing it posts on
// such a port is handled); a page that removes the channel's <iframe> at once keeps being served
// over the runtime port; after a worker restart the channel is bound again. Firefox: no channel
// page in the manifest, requests use the runtime port.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRp, rpClient } from './rp/server.mjs';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, register, signIn } from './harness/support.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function channelOf(b) {
  return (await b.vaultStatus()).channel;
}

async function waitBound(b, atLeast) {
  for (let i = 0; i < 100; i++) {
    const c = await channelOf(b);
    if (c.bound >= atLeast) return c;
    await sleep(50);
  }
  throw new Error(`no fast port was bound: ${JSON.stringify(await channelOf(b))}`);
}

for (const B of BROWSERS) {
  describe(`fast channel [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let rp, b, client;
    const ctx = () => ({ b, rp });

    before(async () => {
      rp = await startRp({ port: 0 });
      client = rpClient(rp.url);
      b = await B.launch();
      await b.goto(`${rp.url}/raw.html`);
    });
    after(async () => {
      await b?.close();
      await rp?.close();
    });

    if (B.name !== 'chromium') {
      it('Firefox: no channel page; requests use the runtime port and verify', withLogs(ctx, async () => {
        await register(b, client, 'fox');
        await signIn(b, client, 'fox');
        const c = await channelOf(b);
        assert.deepEqual(c, { available: false, bound: 0, messages: 0 });
      }));
      return;
    }

    it('binds after the first request; later requests travel on it and the RP verifies them', withLogs(ctx, async () => {
      await register(b, client, 'alice'); // opens the runtime port, which asks for the channel
      const before = await waitBound(b, 1);
      assert.equal(before.available, true);
      await signIn(b, client, 'alice');
      await signIn(b, client, null); // discoverable
      const afterwards = await channelOf(b);
      assert.ok(afterwards.messages >= before.messages + 2, `requests on the fast port: ${JSON.stringify({ before, afterwards })}`);
      // The <iframe> was only there for the hand-over.
      assert.equal(await b.evaluate(`document.querySelectorAll('iframe').length`), 0);
    }));

    it('a page cannot bind a port: its own channel frame with a made-up token gets nothing', withLogs(ctx, async () => {
      const url = b.extensionUrl('extension/channel/channel.html');
      const before = await channelOf(b);
      const heard = await b.evaluate(`(async () => {
        const f = document.createElement('iframe');
        f.src = ${JSON.stringify(url)};
        const loaded = new Promise((r) => f.addEventListener('load', r, { once: true }));
        document.body.append(f);
        await loaded;
        const heard = [];
        const ch = new MessageChannel();
        ch.port1.onmessage = (e) => heard.push(e.data);
        // A guessed token, then a request and a channel-open on the port anyway.
        f.contentWindow.postMessage({ type: 'channel-bind', token: '00'.repeat(16) }, '*', [ch.port2]);
        await new Promise((r) => setTimeout(r, 300));
        ch.port1.postMessage({ seq: 1, message: { type: 'site-status' } });
        ch.port1.postMessage({ seq: 2, message: { type: 'channel-open' } });
        await new Promise((r) => setTimeout(r, 700));
        f.remove();
        return heard;
      })()`);
      assert.deepEqual(heard, [], 'the worker answered a port it never bound');
      const afterwards = await channelOf(b);
      assert.equal(afterwards.bound, before.bound, 'no new fast port');
      assert.equal(afterwards.messages, before.messages, 'nothing from the page was handled');
      await signIn(b, client, 'alice');
    }));

    it('a page that removes the channel frame at once is still served (runtime port)', withLogs(ctx, async () => {
      await b.goto(`${rp.url}/raw.html?remove-frames`);
      await b.evaluate(`(() => {
        new MutationObserver((records) => {
          for (const r of records) for (const n of r.addedNodes) if (n.nodeName === 'IFRAME') n.remove();
        }).observe(document, { childList: true, subtree: true });
        return true;
      })()`);
      // The old document's ports closed with it.
      for (let i = 0; i < 50 && (await channelOf(b)).bound !== 0; i++) await sleep(50);
      assert.equal((await channelOf(b)).bound, 0);
      await signIn(b, client, 'alice');
      await register(b, client, 'bob');
      await signIn(b, client, 'bob');
      assert.equal((await channelOf(b)).bound, 0, 'no fast port without the frame');
    }));

    it('after a worker restart the channel is bound again', withLogs(ctx, async () => {
      await b.goto(`${rp.url}/raw.html`);
      await signIn(b, client, 'alice');
      await waitBound(b, 1);
      await b.restartBackground();
      await signIn(b, client, 'alice'); // the relay's port was lost: a new port, a new channel
      const c = await waitBound(b, 1);
      const m = c.messages;
      await signIn(b, client, 'bob');
      assert.ok((await channelOf(b)).messages > m, 'the new worker gets requests on the new fast port');
    }));
  });
}
