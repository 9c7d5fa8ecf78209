// The native messaging host (native-host/, built with its test verifier) measured from node:
// spawn → `hello` answer, the round trip of a cheap request (`cancel` of nothing), `verify-user`
// answered by the test verifier, and resident memory (/proc/<pid>/status VmRSS, VmHWM).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM_ORIGIN = 'chrome-extension://hpkkpmchehgbcnccfgdfoknecacajhkk/';

function frame(obj) {
  const body = Buffer.from(JSON.stringify(obj));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length); // native byte order (x86/arm: little endian)
  return Buffer.concat([head, body]);
}

function startHost(bin, keyDir) {
  const child = spawn(bin, [CHROMIUM_ORIGIN], {
    stdio: ['pipe', 'pipe', 'ignore'],
    env: { ...process.env, LATCHKEY_TEST_VERIFIER: 'approve', LATCHKEY_TEST_KEY_DIR: keyDir },
  });
  let buf = Buffer.alloc(0);
  const waiting = new Map();
  child.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
      const len = buf.readUInt32LE(0);
      const msg = JSON.parse(buf.subarray(4, 4 + len).toString('utf8'));
      buf = buf.subarray(4 + len);
      const w = waiting.get(msg.id);
      if (w) {
        waiting.delete(msg.id);
        w(msg);
      }
    }
  });
  let seq = 0;
  const request = (body) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      const timer = setTimeout(() => reject(new Error(`the host did not answer ${body.type}`)), 10000);
      waiting.set(id, (m) => {
        clearTimeout(timer);
        if (m.error) reject(new Error(`${body.type}: ${JSON.stringify(m.error)}`));
        else resolve(m.result);
      });
      child.stdin.write(frame({ id, ...body }));
    });
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', resolve);
      child.stdin.end();
      setTimeout(() => child.kill(), 3000).unref();
    });
  return { child, request, stop };
}

function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number((status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm')) ?? [])[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const pct = (list, p) => {
  const s = [...list].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const stats = (l) => ({ n: l.length, p50: pct(l, 50), p95: pct(l, 95) });

export async function benchNativeHost(bin, { starts = 20, trips = 200, verifies = 20 } = {}) {
  if (!fs.existsSync(bin)) throw new Error(`no native host at ${bin}`);
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-bench-host-'));
  try {
    const start = [];
    let hello = null;
    for (let i = 0; i < starts; i++) {
      const t0 = process.hrtime.bigint();
      const h = startHost(bin, keyDir);
      hello = await h.request({ type: 'hello', protocolVersion: 1 });
      start.push(ms(t0));
      await h.stop();
    }
    if (hello.testBuild !== true) throw new Error('the host is not a test-verifier build');
    const h = startHost(bin, keyDir);
    try {
      await h.request({ type: 'hello', protocolVersion: 1 });
      const roundTrip = [];
      for (let i = 0; i < trips; i++) {
        const t0 = process.hrtime.bigint();
        await h.request({ type: 'cancel', requestId: 999_999 });
        roundTrip.push(ms(t0));
      }
      const verifyUser = [];
      for (let i = 0; i < verifies; i++) {
        const t0 = process.hrtime.bigint();
        const r = await h.request({ type: 'verify-user', reason: 'Latchkey benchmark' });
        verifyUser.push(ms(t0));
        if (r.verified !== true) throw new Error(`verify-user answered ${JSON.stringify(r)}`);
      }
      const mem = memory(h.child.pid);
      return { start: stats(start), roundTrip: stats(roundTrip), verifyUser: stats(verifyUser), rssBytes: mem.rss, peakRssBytes: mem.hwm };
    } finally {
      await h.stop();
    }
  } finally {
    fs.rmSync(keyDir, { recursive: true, force: true });
  }
}
