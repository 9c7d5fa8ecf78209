#!/usr/bin/env node
// Builds Latchkey's browser extension:
//   1. the wasm authenticator: cargo (wasm32, profile wasm-release) → wasm-bindgen --target web → wasm-opt -Oz
//   2. four unpacked extensions: dist/chrome, dist/firefox, dist/chrome-test, dist/firefox-test
//      (extension/ + pkg/ + a per-browser manifest.json + flavor.js + build-info.json).
//      The -test flavors differ ONLY in flavor.js (TEST_FLAVOR = true).
//   3. per extension, the background as ONE ES module: extension/background/sw.bundle.js = sw.js and
//      every module it imports (flavor.js, shared/, the wasm-bindgen glue), by scripts/bundle.mjs; the
//      manifest's background entry points at it (docs/design.md "Cold start"). The pages (popup,
//      options, prompt) still load the unbundled modules, which are copied as they are.
//
// Usage: node scripts/build.mjs [--skip-wasm] [--no-bundle]
//   --skip-wasm  reuse the last wasm build (target/latchkey-pkg/) for fast JS-only iteration
//   --no-bundle  background = extension/background/sw.js and its modules, unbundled (for comparisons)
// Environment: WASM_BINDGEN (default /opt/latchkey-tools/bin/wasm-bindgen), WASM_OPT (default
//   node_modules/.bin/wasm-opt), CARGO (default cargo), CARGO_TARGET_DIR.
//
// Importing this module (e.g. `import { EXTENSION_ID } from "./build.mjs"`) does not build.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import zlib from "node:zlib";
import { BundleError, bundle } from "./bundle.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The Chromium extension id that manifest.json's "key" yields: sha256(DER SPKI)[0..16] in a–p. */
export function extensionIdFromKey(keyBase64) {
  const hex = createHash("sha256").update(Buffer.from(keyBase64, "base64")).digest("hex").slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join("");
}

/** Latchkey's Chromium extension id (fixed by the public key in manifest.json). */
export const EXTENSION_ID = "hpkkpmchehgbcnccfgdfoknecacajhkk";
/** Latchkey's Firefox add-on id. */
export const GECKO_ID = "latchkey@latchkey.app";

export const BROWSERS = ["chrome", "firefox"];
export const FLAVORS = [
  { suffix: "", test: false },
  { suffix: "-test", test: true },
];

const WASM_CRATE = "latchkey-wasm";
const WASM_FILE = "latchkey_wasm";
const PROFILE = "wasm-release";
const TARGET = "wasm32-unknown-unknown";
const WASM_OPT_FEATURES = [
  // What rustc 1.95's wasm32-unknown-unknown target emits by default (its target_features section);
  // wasm-opt refuses instructions from features it has not been told about.
  "--enable-bulk-memory",
  "--enable-bulk-memory-opt",
  "--enable-nontrapping-float-to-int",
  "--enable-sign-ext",
  "--enable-mutable-globals",
  "--enable-multivalue",
  "--enable-reference-types",
  "--enable-call-indirect-overlong",
];

// -Oz, repeated until it stops shrinking the module (--converge, about 0.3 KB). --low-memory-unused
// (about 3 KB) lets wasm-opt fold constant offsets into loads and stores: the only behaviour it changes
// is an address that wraps around 2^32 into the lowest 1 KiB, which Rust pointers never do.
// The producers and target_features custom sections (260 B) are for tools only; browsers ignore them.
const WASM_OPT_PASSES = ["-Oz", "--converge", "--low-memory-unused", "--strip-producers", "--strip-target-features"];

class BuildError extends Error {}

const log = (...args) => console.log("[build]", ...args);
const rel = (p) => path.relative(ROOT, p) || ".";

function run(cmd, args, what) {
  log(`$ ${[cmd, ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit" });
  if (r.error) {
    throw new BuildError(
      r.error.code === "ENOENT" ? `${what}: '${cmd}' was not found.` : `${what}: ${r.error.message}`,
    );
  }
  if (r.status !== 0) throw new BuildError(`${what} failed (exit ${r.status ?? r.signal}).`);
}

function capture(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8" });
  return r.error || r.status !== 0 ? null : r.stdout.trim();
}

function pinnedWasmBindgenVersion() {
  const toml = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8");
  const m = toml.match(/^wasm-bindgen\s*=\s*(?:\{[^}]*version\s*=\s*)?"=?([0-9][^"]*)"/m);
  return m ? m[1] : null;
}

// ---- 1. wasm -------------------------------------------------------------------------------------

/**
 * `--config` rustflags for the wasm build (only: native builds and tests are unaffected). The remaps make
 * the panic locations compiled into the wasm relative: crates.io sources as `argon2-0.6.0/src/…` and
 * ours as `core/src/…`, instead of this machine's absolute paths (about 3 KB smaller, and the module no
 * longer depends on where the checkout and CARGO_HOME are).
 */
function wasmRustflags() {
  const cargoHome = process.env.CARGO_HOME || path.join(process.env.HOME || "", ".cargo");
  const registry = path.join(cargoHome, "registry", "src");
  const prefixes = fs.existsSync(registry) ? fs.readdirSync(registry).map((d) => path.join(registry, d)) : [];
  const flags = [...prefixes, ROOT].map((p) => `--remap-path-prefix=${p}/=`);
  // sha2's rolled-up SHA-256 (7 KB smaller than the unrolled one; ES256 create/get time unchanged
  // within noise: SHA-256 is a few blocks per ceremony, next to the P-256 scalar multiplication).
  flags.push('--cfg=sha2_backend_soft="compact"');
  return ["--config", `target.${TARGET}.rustflags = ${JSON.stringify(flags)}`];
}

function buildWasm(pkgDir) {
  const cargo = process.env.CARGO || "cargo";
  const wasmBindgen = process.env.WASM_BINDGEN || "/opt/latchkey-tools/bin/wasm-bindgen";
  const wasmOpt = process.env.WASM_OPT || path.join(ROOT, "node_modules/.bin/wasm-opt");

  if (capture(cargo, ["--version"]) === null) {
    throw new BuildError(`cargo was not found ('${cargo}'). Install Rust with rustup (scripts/setup.sh).`);
  }
  const bindgenVersion = capture(wasmBindgen, ["--version"]);
  if (bindgenVersion === null) {
    throw new BuildError(
      `wasm-bindgen was not found at ${wasmBindgen}. Run scripts/setup.sh, or point WASM_BINDGEN at the CLI.`,
    );
  }
  const pinned = pinnedWasmBindgenVersion();
  if (pinned && bindgenVersion !== `wasm-bindgen ${pinned}`) {
    throw new BuildError(
      `${wasmBindgen} is '${bindgenVersion}', but Cargo.toml pins wasm-bindgen ${pinned}; they must match ` +
        `(cargo install wasm-bindgen-cli --version ${pinned}).`,
    );
  }
  if (!fs.existsSync(wasmOpt)) {
    throw new BuildError(`wasm-opt was not found at ${wasmOpt}. Run 'npm ci' (npm package binaryen).`);
  }

  run(cargo, ["build", "-p", WASM_CRATE, "--target", TARGET, "--profile", PROFILE, ...wasmRustflags()], "cargo build");
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, "target");
  const wasmIn = path.join(targetDir, TARGET, PROFILE, `${WASM_FILE}.wasm`);
  if (!fs.existsSync(wasmIn)) throw new BuildError(`cargo did not produce ${rel(wasmIn)}.`);

  const tmp = `${pkgDir}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  run(wasmBindgen, ["--target", "web", "--out-dir", tmp, "--out-name", WASM_FILE, wasmIn], "wasm-bindgen");
  const bgWasm = path.join(tmp, `${WASM_FILE}_bg.wasm`);
  const before = fs.statSync(bgWasm).size;
  run(wasmOpt, [...WASM_OPT_PASSES, ...WASM_OPT_FEATURES, bgWasm, "-o", bgWasm], "wasm-opt");
  log(`wasm-opt: ${kb(before)} → ${kb(fs.statSync(bgWasm).size)}`);
  fs.rmSync(pkgDir, { recursive: true, force: true });
  fs.renameSync(tmp, pkgDir);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

function wasmSizes(pkgDir) {
  const bytes = fs.readFileSync(path.join(pkgDir, `${WASM_FILE}_bg.wasm`));
  return { raw: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
}

// ---- 2. dist/ ------------------------------------------------------------------------------------

/** Where the bundled background goes in each dist/<variant>/. */
export const BACKGROUND_BUNDLE = "extension/background/sw.bundle.js";

/**
 * The per-browser manifest, derived from the root manifest.json (the one source). `background`:
 * the background script to use instead of the root manifest's (the bundle).
 */
export function manifestFor(browser, root, { background: override } = {}) {
  const m = structuredClone(root);
  // "chromium_permissions" (not a manifest key): permissions only Chromium knows (e.g.
  // webAuthenticationProxy), added to the Chromium manifest and left out of Firefox's.
  const chromiumOnly = m.chromium_permissions ?? [];
  delete m.chromium_permissions;
  if (browser === "chrome") m.permissions = [...(m.permissions ?? []), ...chromiumOnly];
  // "chromium_web_accessible_resources" (not a manifest key either): the fast channel's page
  // (docs/design.md "The fast channel"), which only Chromium's service worker uses.
  const chromiumResources = m.chromium_web_accessible_resources ?? [];
  delete m.chromium_web_accessible_resources;
  if (browser === "chrome" && chromiumResources.length > 0) {
    m.web_accessible_resources = [...(m.web_accessible_resources ?? []), ...chromiumResources];
  }
  const background = m.background ?? {};
  const script = override ?? background.service_worker ?? background.scripts?.[0];
  if (!script) throw new BuildError("manifest.json has no background script.");
  if (browser === "chrome") {
    m.background = { service_worker: script, type: "module" };
    // Chromium warns about keys it does not know.
    delete m.browser_specific_settings;
  } else {
    m.background = { scripts: [script], type: "module" };
    // Firefox ignores "key" (its id comes from gecko.id) and warns about it on some versions.
    delete m.key;
    const gecko = (m.browser_specific_settings ??= {}).gecko ??= {};
    gecko.id ??= GECKO_ID;
    gecko.strict_min_version ??= "128.0";
  }
  return m;
}

function copyTree(from, to, skip) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (skip(entry.name)) continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst, skip);
    else if (entry.isFile()) fs.copyFileSync(src, dst);
  }
}

function writeDist(pkgDir, sizes, { bundled = true } = {}) {
  const root = JSON.parse(fs.readFileSync(path.join(ROOT, "manifest.json"), "utf8"));
  if (extensionIdFromKey(root.key) !== EXTENSION_ID) {
    throw new BuildError(`manifest.json's key yields id ${extensionIdFromKey(root.key)}, not ${EXTENSION_ID}; update EXTENSION_ID.`);
  }
  const dist = path.join(ROOT, "dist");
  fs.rmSync(dist, { recursive: true, force: true });
  const skip = (name) => name.startsWith(".") || name.endsWith(".md");
  for (const browser of BROWSERS) {
    for (const flavor of FLAVORS) {
      const name = `${browser}${flavor.suffix}`;
      const out = path.join(dist, name);
      copyTree(path.join(ROOT, "extension"), path.join(out, "extension"), skip);
      fs.mkdirSync(path.join(out, "pkg"));
      for (const f of [`${WASM_FILE}.js`, `${WASM_FILE}_bg.wasm`]) {
        fs.copyFileSync(path.join(pkgDir, f), path.join(out, "pkg", f));
      }
      fs.writeFileSync(
        path.join(out, "flavor.js"),
        `// Written by scripts/build.mjs. The test flavor auto-approves consent and verifies the user\n` +
          `// with a built-in test verifier; nothing else differs between flavors.\n` +
          `export const TEST_FLAVOR = ${flavor.test};\n`,
      );
      let bundleInfo = null;
      if (bundled) {
        const entry = manifestFor(browser, root).background;
        const source = entry.service_worker ?? entry.scripts[0];
        let b;
        try {
          b = bundle({ entry: path.join(out, source), outFile: path.join(out, BACKGROUND_BUNDLE), root: out });
        } catch (e) {
          if (e instanceof BundleError) throw new BuildError(`bundling the background of ${rel(out)}: ${e.message}`);
          throw e;
        }
        bundleInfo = { file: BACKGROUND_BUNDLE, modules: b.modules, bytes: Buffer.byteLength(b.code) };
      }
      const manifest = manifestFor(browser, root, bundled ? { background: BACKGROUND_BUNDLE } : {});
      fs.writeFileSync(path.join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
      const info = {
        name: manifest.name,
        version: manifest.version,
        browser,
        testFlavor: flavor.test,
        extensionId: EXTENSION_ID,
        geckoId: GECKO_ID,
        wasm: sizes,
        backgroundBundle: bundleInfo,
      };
      fs.writeFileSync(path.join(out, "build-info.json"), `${JSON.stringify(info, null, 2)}\n`);
      log(`wrote ${rel(out)}/${bundleInfo ? ` (background: ${bundleInfo.modules.length} modules → ${BACKGROUND_BUNDLE}, ${kb(bundleInfo.bytes)})` : ""}`);
    }
  }
}

// ---- main -----------------------------------------------------------------------------------------

export function build({ skipWasm = false, bundled = true } = {}) {
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, "target");
  const pkgDir = path.join(targetDir, "latchkey-pkg");
  if (skipWasm) {
    if (!fs.existsSync(path.join(pkgDir, `${WASM_FILE}_bg.wasm`))) {
      throw new BuildError(`--skip-wasm: there is no earlier wasm build in ${rel(pkgDir)}; run without --skip-wasm once.`);
    }
    log(`reusing the wasm build in ${rel(pkgDir)}/`);
  } else {
    buildWasm(pkgDir);
  }
  const sizes = wasmSizes(pkgDir);
  log(`wasm: ${sizes.raw} bytes (${kb(sizes.raw)}), gzip ${sizes.gzip} bytes (${kb(sizes.gzip)})`);
  writeDist(pkgDir, sizes, { bundled });
  log(`extension id (Chromium): ${EXTENSION_ID}; Firefox: ${GECKO_ID}`);
  return sizes;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--skip-wasm" && a !== "--no-bundle");
  if (unknown.length > 0) {
    console.error(`usage: node scripts/build.mjs [--skip-wasm] [--no-bundle]   (unknown: ${unknown.join(" ")})`);
    process.exit(2);
  }
  try {
    build({ skipWasm: args.includes("--skip-wasm"), bundled: !args.includes("--no-bundle") });
  } catch (e) {
    if (e instanceof BuildError) {
      console.error(`[build] ERROR: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}
