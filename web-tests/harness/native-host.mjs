// The TEST build of the native host (native-host/, `--features test-verifier`) registered for one
// browser profile, with the host's own installer:
//   Chromium: `latchkey-host install --browser chromium --user-data-dir DIR` → DIR/NativeMessagingHosts/
//   Firefox:  `HOME=DIR latchkey-host install --browser firefox` → DIR/.mozilla/native-messaging-hosts/
// The manifest's `path` is then pointed at a small wrapper script that reads the test's settings
// (LATCHKEY_TEST_VERIFIER …) from a file at every start and records the host's pid, so a test can
// change the verifier (it takes effect at the host's next start) and kill the running host.
//
//   const host = await registerNativeHost('chromium');     // builds the host if it is missing
//   const b = await B.launch({ flavor: 'normal', ...host.launchOptions });
//   host.setEnv({ LATCHKEY_TEST_VERIFIER: 'slow', LATCHKEY_TEST_VERIFIER_DELAY_MS: '20000' });
//   host.kill();  // SIGKILL the newest running host process
//   host.cleanup();

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { REPO } from './support.mjs';

export const HOST_BIN = path.join(REPO, 'target', 'debug', 'latchkey-host');
const MANIFEST = 'app.latchkey.host.json';

/** Builds the test host unless a test build is already there (a release/default build is refused). */
export function ensureTestHost() {
  const isTestBuild = () => {
    if (!fs.existsSync(HOST_BIN)) return false;
    // The test build knows LATCHKEY_TEST_VERIFIER; its strings say so (the default build has none).
    return fs.readFileSync(HOST_BIN).includes('LATCHKEY_TEST_VERIFIER');
  };
  if (!isTestBuild()) {
    console.log('[native-host] building the test host: cargo build -p native-host --features test-verifier');
    execFileSync('cargo', ['build', '-p', 'native-host', '--features', 'test-verifier'], { cwd: REPO, stdio: 'inherit' });
  }
  if (!isTestBuild()) throw new Error(`no test build of the native host at ${HOST_BIN} after cargo build`);
  return HOST_BIN;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Registers the test host for `browser` ("chromium" | "firefox") in a new temp dir.
 * @returns {{dir: string, launchOptions: object, manifestPath: string, setEnv: (env: object) => void,
 *   pids: () => number[], runningPids: () => number[], kill: () => number|null, log: () => string, cleanup: () => void}}
 */
export function registerNativeHost(browser) {
  const bin = ensureTestHost();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-host-'));
  const keys = path.join(dir, 'keys');
  fs.mkdirSync(keys);
  const envFile = path.join(dir, 'env.sh');
  const pidFile = path.join(dir, 'pids');
  const logFile = path.join(dir, 'host.log');
  const wrapper = path.join(dir, 'latchkey-host-wrapper.sh');
  const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(
    wrapper,
    `#!/bin/sh\n. ${q(envFile)}\necho $$ >> ${q(pidFile)}\nexec ${q(bin)} "$@" 2>> ${q(logFile)}\n`,
    { mode: 0o755 },
  );
  const setEnv = (env = {}) => {
    const all = { LATCHKEY_TEST_VERIFIER: 'approve', LATCHKEY_TEST_KEY_DIR: keys, RUST_LOG: 'info', ...env };
    fs.writeFileSync(envFile, Object.entries(all).map(([k, v]) => `export ${k}=${q(v)}\n`).join(''));
  };
  setEnv();

  let launchOptions;
  let manifestPath;
  if (browser === 'chromium') {
    const userDataDir = path.join(dir, 'profile');
    fs.mkdirSync(userDataDir);
    execFileSync(bin, ['install', '--browser', 'chromium', '--user-data-dir', userDataDir], { stdio: 'pipe' });
    manifestPath = path.join(userDataDir, 'NativeMessagingHosts', MANIFEST);
    launchOptions = { userDataDir };
  } else if (browser === 'firefox') {
    const home = path.join(dir, 'home');
    fs.mkdirSync(home);
    execFileSync(bin, ['install', '--browser', 'firefox'], { stdio: 'pipe', env: { ...process.env, HOME: home } });
    manifestPath = path.join(home, '.mozilla', 'native-messaging-hosts', MANIFEST);
    launchOptions = { homeDir: home };
  } else {
    throw new Error(`registerNativeHost: unknown browser ${browser}`);
  }
  // The installer wrote the running executable; the wrapper takes its place (same argv).
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  if (manifest.name !== 'app.latchkey.host' || path.resolve(manifest.path) !== path.resolve(bin)) {
    throw new Error(`the installer wrote an unexpected manifest: ${JSON.stringify(manifest)}`);
  }
  manifest.path = wrapper;
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));

  const pids = () =>
    fs.existsSync(pidFile)
      ? fs.readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number)
      : [];
  return {
    dir,
    keys,
    launchOptions,
    manifestPath,
    setEnv,
    pids,
    runningPids: () => pids().filter(alive),
    /** SIGKILLs the newest running host; returns its pid (null when none runs). */
    kill() {
      const running = pids().filter(alive);
      const pid = running.at(-1) ?? null;
      if (pid !== null) process.kill(pid, 'SIGKILL');
      return pid;
    },
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    cleanup() {
      for (const pid of pids().filter(alive)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      if (!process.env.KEEP_PROFILES) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
