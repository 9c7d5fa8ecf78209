// Unit test (node, no browser) of extension/background/host.js — the native host port — against a
// fake `runtime.connectNative` port: hello first, u32 ids, answers routed by id in any order, typed
// errors, every pending call rejected on disconnect, reconnect after the backoff, a missing host
// reported as "not installed", `cancel {requestId}` on abort, timeouts. The real host in real
// browsers: native-host.test.mjs.

import { describe, it, beforeEach, mock } from 'node:test';
import assert from 'node:assert/strict';

/** The fake browser: each connectNative makes a FakePort the test drives. */
const fake = { ports: [], mode: 'ok', lastError: undefined };
class FakePort {
  constructor() {
    this.sent = [];
    this.msgListeners = [];
    this.discListeners = [];
    this.disconnected = false;
    this.error = null;
  }
  postMessage(m) {
    if (this.disconnected) throw new Error('Attempting to use a disconnected port object');
    this.sent.push(structuredClone(m));
    if (m.type === 'hello' && fake.mode === 'ok') {
      queueMicrotask(() => this.answer({ id: m.id, result: HELLO }));
    }
  }
  disconnect() {
    this.disconnected = true;
  }
  answer(frame) {
    for (const l of this.msgListeners) l(frame);
  }
  /** The host went away; `why` as Chromium reports it (runtime.lastError during the callback). */
  die(why) {
    this.disconnected = true;
    fake.lastError = { message: why };
    for (const l of this.discListeners) l(this);
    fake.lastError = undefined;
  }
  onMessage = { addListener: (l) => this.msgListeners.push(l) };
  onDisconnect = { addListener: (l) => this.discListeners.push(l) };
}
const HELLO = {
  protocolVersion: 1,
  hostVersion: '0.1.0',
  os: 'linux',
  capabilities: { userVerification: 'available', osKey: 'available', platformAuthenticator: 'unsupported' },
  testBuild: true,
};
globalThis.chrome = {
  runtime: {
    get lastError() {
      return fake.lastError;
    },
    connectNative(name) {
      assert.equal(name, 'app.latchkey.host');
      const p = new FakePort();
      fake.ports.push(p);
      if (fake.mode === 'missing') {
        queueMicrotask(() => p.die('Specified native messaging host not found.'));
      }
      return p;
    },
  },
};

let seq = 0;
/** A fresh copy of host.js (its state is module-level). */
const freshHost = () => import(`../extension/background/host.js?case=${++seq}`);
const tick = () => new Promise((r) => setTimeout(r, 0));
const lastPort = () => fake.ports.at(-1);
const lastSent = (type) => lastPort().sent.filter((m) => m.type === type).at(-1);

describe('extension/background/host.js (fake port)', () => {
  beforeEach(() => {
    fake.ports = [];
    fake.mode = 'ok';
  });

  it('connects lazily, sends hello {protocolVersion: 1} first, reports the handshake in hostStatus', async () => {
    const h = await freshHost();
    assert.equal(fake.ports.length, 0, 'no port before the first need');
    const st0 = await h.hostStatus();
    assert.equal(st0.found, null);
    assert.equal(fake.ports.length, 0, 'hostStatus without probe does not connect');
    const st = await h.hostStatus({ probe: true });
    assert.equal(fake.ports.length, 1);
    assert.deepEqual(lastPort().sent[0], { id: 1, type: 'hello', protocolVersion: 1 });
    assert.equal(st.found, true);
    assert.equal(st.hostVersion, '0.1.0');
    assert.equal(st.testBuild, true);
    assert.equal(h.hostCan('userVerification'), true);
    assert.equal(h.hostCan('platformAuthenticator'), false);
    assert.equal(h.hostMethodName(), 'test verifier');
  });

  it('routes answers by id in any order; a host error is a typed HostError', async () => {
    const h = await freshHost();
    const a = h.callHost('verify-user', { reason: 'Sign in to a.example with Latchkey' });
    const b = h.callHost('os-key-release', { keyId: 'k1' });
    await tick();
    await tick();
    const va = lastSent('verify-user');
    const vb = lastSent('os-key-release');
    assert.ok(Number.isInteger(va.id) && va.id > 0 && va.id <= 0xffffffff);
    assert.notEqual(va.id, vb.id);
    lastPort().answer({ id: vb.id, error: { code: 'key-not-found', message: 'no key' } });
    lastPort().answer({ id: va.id, result: { verified: true, method: 'test' } });
    assert.deepEqual(await a, { verified: true, method: 'test' });
    await assert.rejects(b, (e) => e instanceof h.HostError && e.code === 'key-not-found');
    assert.equal(fake.ports.length, 1, 'one port for both calls');
  });

  it('disconnect rejects every pending call with "disconnected"; the next call reconnects after the backoff', async () => {
    const h = await freshHost();
    const a = h.callHost('verify-user', { reason: 'r' });
    const b = h.callHost('verify-user', { reason: 'r2' });
    await tick();
    await tick();
    lastPort().die('Native host has exited.');
    await assert.rejects(a, (e) => e instanceof h.HostError && e.code === 'disconnected');
    await assert.rejects(b, (e) => e instanceof h.HostError && e.code === 'disconnected');
    const st = await h.hostStatus();
    assert.equal(st.found, true, 'it was found before; it stopped');
    assert.equal(st.connected, false);
    const t0 = Date.now();
    const c = h.callHost('verify-user', { reason: 'again' });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(fake.ports.length, 2, 'a new port');
    assert.ok(Date.now() - t0 >= 250, 'after the backoff');
    const v = lastSent('verify-user');
    assert.ok(v, 'hello, then the call on the new port');
    assert.equal(lastPort().sent[0].type, 'hello');
    lastPort().answer({ id: v.id, result: { verified: true, method: 'test' } });
    assert.equal((await c).verified, true);
  });

  it('a missing host: status {found: false, error "not installed"}, calls reject with "not-installed"', async () => {
    fake.mode = 'missing';
    const h = await freshHost();
    const st = await h.hostStatus({ probe: true });
    assert.equal(st.found, false);
    assert.match(st.error, /not installed/);
    assert.equal(h.hostCan('userVerification'), false);
    await assert.rejects(h.callHost('verify-user', { reason: 'r' }), (e) => e instanceof h.HostError && e.code === 'not-installed');
    // A status query does not respawn a missing host at every call.
    const n = fake.ports.length;
    await h.hostStatus({ probe: true });
    assert.equal(fake.ports.length, n);
  });

  it('abort sends cancel {requestId} for that request and rejects with "cancelled"', async () => {
    const h = await freshHost();
    const ac = new AbortController();
    const p = h.callHost('verify-user', { reason: 'r' }, { signal: ac.signal });
    await tick();
    await tick();
    const v = lastSent('verify-user');
    ac.abort();
    await assert.rejects(p, (e) => e instanceof h.HostError && e.code === 'cancelled');
    const c = lastSent('cancel');
    assert.deepEqual({ type: c.type, requestId: c.requestId }, { type: 'cancel', requestId: v.id });
    // The host's late answer for it is ignored.
    lastPort().answer({ id: v.id, error: { code: 'cancelled', message: 'cancelled' } });
  });

  it('timeouts: hello 5 s (the port is closed), verify-user 2 min (then cancelled on the host)', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      fake.mode = 'silent';
      const h = await freshHost();
      const s = h.hostStatus({ probe: true });
      await Promise.resolve();
      mock.timers.tick(5000);
      const st = await s;
      assert.equal(st.found, false);
      assert.match(st.error, /did not answer/);
      assert.equal(fake.ports[0].disconnected, true, 'a host that does not greet is disconnected');

      fake.mode = 'ok';
      const h2 = await freshHost();
      const p = h2.callHost('verify-user', { reason: 'r' });
      for (let i = 0; i < 5; i++) await Promise.resolve();
      await new Promise((r) => queueMicrotask(r));
      for (let i = 0; i < 5; i++) await Promise.resolve();
      const v = lastSent('verify-user');
      assert.ok(v, `verify-user sent: ${JSON.stringify(lastPort().sent)}`);
      mock.timers.tick(119_999);
      assert.equal(lastSent('cancel'), undefined, 'not yet');
      mock.timers.tick(1);
      await assert.rejects(p, (e) => e instanceof h2.HostError && e.code === 'timeout');
      assert.equal(lastSent('cancel').requestId, v.id);
    } finally {
      mock.timers.reset();
    }
  });
});
