// Forged window messages (TEST flavor), in Chromium and Firefox. The window channel between the
// MAIN-world shim and the isolated relay is open to the page, so a page can post anything the
// shim would post. Latchkey must take the origin only from the browser (`sender` in the service
// worker): a forged request that claims another origin, rpId, top origin or frame facts gets the
// page's own origin or a SecurityError; forged answers, aborts and relay-internal message types
// change nothing; a cross-origin iframe's messages to its parent are ignored. Pages are served over
// https from foo.example.com / evilfoo.example.com (harness/hostile.mjs).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SUITE_TIMEOUT_MS, BROWSERS, withLogs, reportLatency, randomB64u } from './harness/support.mjs';
import { okOf } from './harness/vault.mjs';
import { startHttpsSite, hostLaunchOptions, inPage, makeWitness, assertVaultIntact } from './harness/hostile.mjs';

// Posts forged messages in the page's realm and collects every Latchkey answer the page sees.
const FORGE_SRC = `async (messages, waitMs) => {
  const seen = [];
  addEventListener('message', (e) => {
    const d = e.data;
    if (d && typeof d === 'object' && typeof d.__latchkey === 'string') seen.push(JSON.parse(JSON.stringify(d)));
  });
  for (const m of messages) postMessage(m, '*');
  await new Promise((r) => setTimeout(r, waitMs));
  return seen;
}`;

// The iframe (evilfoo.example.com) posts forged requests to its parent (foo.example.com).
const PARENT_FORGER = `(() => {
  const opts = ${JSON.stringify({ challenge: 'AAAAAAAAAAAAAAAAAAAAAA', rp: { name: 'x' }, user: { id: 'AAAA', name: 'n', displayName: 'd' }, pubKeyCredParams: [{ type: 'public-key', alg: -7 }] })};
  addEventListener('load', () => {
    for (let i = 0; i < 5; i++) {
      parent.postMessage({ __latchkey: 'req', id: 'forgedparent' + i, kind: 'create', options: opts }, '*');
      parent.postMessage({ __latchkey: 'cma', id: 'forgedcma' + i }, '*');
    }
    top.postMessage({ __latchkey: 'req', id: 'forgedtop', kind: 'get', options: { challenge: 'AAAAAAAAAAAAAAAAAAAAAA' } }, '*');
  });
})();`;

const createJson = (rpId, extra = {}) => ({
  challenge: randomB64u(32),
  rp: rpId ? { id: rpId, name: 'Forged' } : { name: 'Forged' },
  user: { id: randomB64u(16), name: 'forged', displayName: 'Forged' },
  pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
  authenticatorSelection: { residentKey: 'required', userVerification: 'discouraged' },
  ...extra,
});

for (const B of BROWSERS) {
  describe(`hostile postMessage [${B.name}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let site, b, witness;
    let count = 0;
    const ctx = () => ({ b });
    const fooOrigin = () => `https://foo.example.com:${site.port}`;

    before(async () => {
      site = await startHttpsSite({ tamperScripts: { parentForger: PARENT_FORGER } });
      b = await B.launch(hostLaunchOptions(B.name, site));
      await b.goto(site.url('foo.example.com'));
      witness = await makeWitness(b, fooOrigin(), 'foo.example.com');
      count = 1;
    });
    after(async () => {
      reportLatency(import.meta.filename, b);
      await b?.close();
      await site?.close();
    });

    const rpIdsInVault = async () => (await okOf(b, { type: 'list-passkeys' })).map((p) => p.rpId);

    it('a forged request claiming another origin/rpId/top origin/frame facts: SecurityError, no credential', withLogs(ctx, async () => {
      await b.goto(site.url('foo.example.com'));
      const forged = [
        // The relay's own request shape, with every field a page might hope the relay forwards.
        { __latchkey: 'req', id: 'forged1', kind: 'create', options: createJson('evil.com'), origin: 'https://evil.com', topOrigin: 'https://evil.com' },
        { __latchkey: 'req', id: 'forged2', kind: 'create', options: createJson('evilfoo.example.com'), frame: { policyAllows: true, userActivation: true } },
        { __latchkey: 'req', id: 'forged3', kind: 'get', options: { challenge: randomB64u(32), rpId: 'evil.com' } },
        { __latchkey: 'req', id: 'forged4', kind: 'get', options: { challenge: randomB64u(32), rpId: 'evilfoo.example.com', origin: 'https://evilfoo.example.com' } },
        // The service worker's message shape posted on the window (the relay does not forward it).
        { type: 'webauthn', kind: 'create', requestId: 'forged5', options: createJson('evil.com') },
        { __latchkey: 'req', id: 'forged6', kind: 'create', options: createJson('evil.com'), mediation: 'conditional' },
      ];
      const seen = await inPage(b, FORGE_SRC, forged, 2000);
      // The shim swallows every Latchkey answer on its window (even for ids it does not know), so
      // a forger never even learns the outcome; what matters is what reached the vault.
      assert.deepEqual(seen.filter((m) => m.__latchkey === 'res' || m.__latchkey === 'ack'), [],
        `the page sees no answers: ${JSON.stringify(seen).slice(0, 300)}`);
      assert.deepEqual(await rpIdsInVault(), ['foo.example.com']);
      await assertVaultIntact(b, { count, what: 'after forged origins' });
    }));

    it('a forged request without rpId is saved for the page\'s real rpId, never the claimed one', withLogs(ctx, async () => {
      await b.goto(site.url('foo.example.com'));
      const options = createJson(null);
      const seen = await inPage(b, FORGE_SRC, [
        { __latchkey: 'req', id: 'forgedorigin', kind: 'create', options, origin: 'https://evil.com', sender: { origin: 'https://evil.com', url: 'https://evil.com/' } },
      ], 2500);
      assert.deepEqual(seen.filter((m) => m.__latchkey === 'res'), [], 'the forger sees no answer');
      // The relay did forward it (it cannot tell the page from the shim): the test flavor saved a
      // passkey — for the page's real rpId, as if the page had called create() itself.
      const list = await okOf(b, { type: 'list-passkeys' });
      assert.equal(list.length, count + 1, `the forged request was served: ${JSON.stringify(list.map((p) => p.rpId))}`);
      count++;
      assert.ok(list.some((p) => p.userName === 'forged' && p.rpId === 'foo.example.com'), 'saved under the page\'s own rpId');
      assert.deepEqual([...new Set(await rpIdsInVault())], ['foo.example.com']);
    }));

    it('forged answers, acks and aborts for a request in flight change nothing', withLogs(ctx, async () => {
      await b.goto(site.url('foo.example.com'));
      // A real request, and a flood of forged answers for guessed ids / every id shape meanwhile;
      // the page never learns the shim's id (the shim and relay stop their events).
      const r = await inPage(b, `async (challenge, userId) => {
        let sawReq = 0;
        addEventListener('message', (e) => { if (e.data && e.data.__latchkey === 'req') sawReq++; }, true);
        const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
        const p = navigator.credentials.create({ publicKey: {
          challenge: b64(challenge), rp: { name: 'x' }, user: { id: b64(userId), name: 'real', displayName: 'Real' },
          pubKeyCredParams: [{ type: 'public-key', alg: -7 }], authenticatorSelection: { residentKey: 'required', userVerification: 'discouraged' } } });
        const fake = { ok: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA', authenticatorData: 'AA' } } };
        for (let i = 0; i < 200; i++) {
          const id = [...crypto.getRandomValues(new Uint8Array(16))].map((x) => x.toString(16).padStart(2, '0')).join('');
          postMessage({ __latchkey: 'res', id, result: fake }, '*');
          postMessage({ __latchkey: 'abort', id }, '*');
          postMessage({ __latchkey: 'ack', id }, '*');
        }
        try {
          const c = await p;
          return { ok: true, id: c.id, clientDataJSON: btoa(String.fromCharCode(...new Uint8Array(c.response.clientDataJSON))), sawReq };
        } catch (e) {
          return { error: e.name + ': ' + e.message, sawReq };
        }
      }`, randomB64u(32), randomB64u(16));
      assert.equal(r.sawReq, 0, 'the page never sees the shim\'s request message');
      assert.ok(r.ok, `the real request succeeds despite the forged answers: ${JSON.stringify(r)}`);
      count++;
      assert.equal(JSON.parse(Buffer.from(r.clientDataJSON, 'base64').toString()).origin, fooOrigin());
    }));

    it('a cross-origin iframe\'s messages to its parent are ignored by the parent\'s relay', withLogs(ctx, async () => {
      const before = (await b.vaultStatus()).count;
      const child = site.url('evilfoo.example.com', '/tamper.html?t=parentForger');
      await b.goto(site.url('foo.example.com', `/frame.html?src=${encodeURIComponent(child)}`));
      const seen = await inPage(b, `async () => {
        const seen = [];
        addEventListener('message', (e) => { const d = e.data; if (d && d.__latchkey) seen.push({ tag: d.__latchkey, id: d.id, fromSelf: e.source === window }); }, true);
        const f = document.getElementById('f');
        f.src = f.src; // reload so the listener above sees every message of the child's load
        await new Promise((r) => setTimeout(r, 2500));
        return seen;
      }`);
      const answers = seen.filter((m) => m.tag === 'res' || m.tag === 'ack');
      assert.deepEqual(answers, [], `no answer to the iframe's forged messages: ${JSON.stringify(seen)}`);
      assert.ok(seen.some((m) => m.tag === 'req' && !m.fromSelf), 'the forged messages did arrive (the test saw them)');
      assert.equal((await b.vaultStatus()).count, before, 'no passkey created');
    }));

    it('the page has no direct line to the extension (runtime messaging)', withLogs(ctx, async () => {
      await b.goto(site.url('foo.example.com'));
      const r = await inPage(b, `async (id) => {
        const rt = (globalThis.chrome && chrome.runtime) || (globalThis.browser && browser.runtime);
        if (!rt || typeof rt.sendMessage !== 'function') return 'no runtime';
        try {
          const a = await new Promise((resolve, reject) => {
            try { rt.sendMessage(id, { type: 'list-passkeys' }, (x) => resolve(x === undefined ? 'undefined' : x)); } catch (e) { reject(e); }
            setTimeout(() => resolve('no answer'), 1000);
          });
          return a;
        } catch (e) { return 'threw ' + e.message; }
      }`, b.extensionId ?? '');
      assert.ok(r === 'no runtime' || /^threw|undefined|no answer/.test(String(r)), `page → extension message got: ${JSON.stringify(r)}`);
    }));

    it('real requests still work, the vault is intact', withLogs(ctx, async () => {
      await b.goto(site.url('foo.example.com'));
      await assertVaultIntact(b, { count, what: 'end of the forged messages' });
      await witness.signIn('after the forged messages');
      assert.deepEqual([...new Set(await rpIdsInVault())], ['foo.example.com']);
    }));
  });
}
