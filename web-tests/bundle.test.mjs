// scripts/bundle.mjs (the background's one-file bundle), run in node: the import/export forms it
// supports, the ones it must refuse, cycles, evaluation order, import.meta.url, separate scopes, and
// the real background's module graph. No browser.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundle, BundleError, tokenize } from '../scripts/bundle.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let tmp;
let seq = 0;

/** Writes `files` ({relative path: source}) into a fresh directory; returns its path. */
function tree(files) {
  const dir = path.join(tmp, `case-${++seq}`);
  for (const [rel, src] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), src);
  }
  return dir;
}

/** Bundles dir/main.js into dir/out/bundle.js (a different directory, for import.meta.url). */
function bundleTree(dir, entry = 'main.js') {
  return bundle({ entry: path.join(dir, entry), outFile: path.join(dir, 'out', 'bundle.js'), root: dir });
}

/** Imports the written bundle (a fresh URL each time: every import runs it anew). */
async function run(dir) {
  globalThis.bundleTestLog = [];
  await import(`${pathToFileURL(path.join(dir, 'out', 'bundle.js')).href}?run=${++seq}`);
  return globalThis.bundleTestLog;
}

function assertRejected(files, pattern) {
  const dir = tree(files);
  assert.throws(() => bundleTree(dir), (e) => e instanceof BundleError && pattern.test(e.message), `expected ${pattern}`);
  assert.equal(fs.existsSync(path.join(dir, 'out', 'bundle.js')), false, 'nothing is written for a refused bundle');
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-bundle-test-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  delete globalThis.bundleTestLog;
});

describe('scripts/bundle.mjs', () => {
  it('supports every import/export form our code and the wasm-bindgen glue use', async () => {
    const dir = tree({
      'a.js': `
        export const A = "a";
        export function fa() { return "fa"; }
        export async function afa() { return "afa"; }
        export function* gen() { yield 1; }
        export class CA { static who() { return "CA"; } }
        const hidden = "hidden";
        function initImpl() { return "default"; }
        export { hidden as renamed, initImpl as default };
      `,
      'd.js': `export default function named() { return "named default"; }\n`,
      'side.js': `bundleTestLog.push("side");\n`,
      'sub/b.js': `
        import init, { A, fa as renamedFa, CA } from "../a.js";
        import * as ns from "../a.js";
        import named from "../d.js";
        import def2, * as ns2 from "../a.js";
        import "../side.js";
        export { A as fromA, gen } from "../a.js";
        export const B = [init(), A, renamedFa(), ns.renamed, CA.who(), named(), def2 === init, ns2 === ns].join(",");
        export const url = import.meta.url;
        export const wasmUrl = new URL("x_bg.wasm", import.meta.url).href;
        const collide = "b";
        export const bCollide = () => collide;
      `,
      'main.js': `
        // import { nothing } from "./nowhere.js";   /* export const notAnExport = 1; */
        import { B, url, wasmUrl, fromA, gen, bCollide } from "./sub/b.js";
        const collide = "main";
        const s = "import x from './nowhere.js'"; const s2 = 'export *';
        const t = \`export \${1 + 2} { import \${"}"} \`;
        const r = /export \\/ import("x")/g; const half = 4 / 2 / 1;
        const obj = { import: 1, export: 2 }; obj.import += obj.export;
        bundleTestLog.push({ B, url, wasmUrl, fromA, gens: [...gen()], collide, bCollide: bCollide(), s, s2, t, r: r.source, half, obj });
      `,
    });
    const r = bundleTree(dir);
    assert.deepEqual(r.modules, ['a.js', 'd.js', 'side.js', 'sub/b.js', 'main.js']);
    const log = await run(dir);
    assert.equal(log[0], 'side');
    const v = log[1];
    assert.equal(v.B, 'default,a,fa,hidden,CA,named default,true,true');
    assert.equal(v.url, pathToFileURL(path.join(dir, 'sub/b.js')).href, 'import.meta.url is the module\'s own url');
    assert.equal(v.wasmUrl, pathToFileURL(path.join(dir, 'sub/x_bg.wasm')).href);
    assert.equal(v.fromA, 'a');
    assert.deepEqual(v.gens, [1]);
    assert.equal(v.collide, 'main', 'each module keeps its own top-level names');
    assert.equal(v.bCollide, 'b');
    assert.equal(v.s, "import x from './nowhere.js'");
    assert.equal(v.s2, 'export *');
    assert.equal(v.t, 'export 3 { import } ');
    assert.equal(v.r, 'export \\/ import("x")');
    assert.equal(v.half, 2);
    assert.deepEqual(v.obj, { import: 3, export: 2 });
    // Line numbers inside a module survive (import statements are blanked, not removed).
    const code = fs.readFileSync(path.join(dir, 'out', 'bundle.js'), 'utf8');
    const mainAt = code.indexOf('// ---- main.js');
    const mainLines = code.slice(mainAt).split('\n');
    const srcLines = fs.readFileSync(path.join(dir, 'main.js'), 'utf8').split('\n');
    assert.equal(mainLines[2 + srcLines.findIndex((l) => l.includes('const collide'))].trim(), 'const collide = "main";');
  });

  it('evaluates modules once each, in ES module order (depth-first post-order)', async () => {
    const mod = (name, ...deps) => `${deps.map((d) => `import "./${d}.js";`).join('\n')}\nbundleTestLog.push("${name}");\n`;
    const dir = tree({
      'main.js': mod('main', 'x', 'y'),
      'x.js': mod('x', 'z'),
      'y.js': mod('y', 'z', 'w'),
      'z.js': mod('z'),
      'w.js': mod('w', 'v'),
      'v.js': mod('v'),
    });
    const r = bundleTree(dir);
    const expected = ['z', 'x', 'v', 'w', 'y', 'main'];
    assert.deepEqual(r.modules, expected.map((n) => `${n}.js`));
    assert.deepEqual(await run(dir), expected);
  });

  it('refuses an import cycle', () => {
    assertRejected(
      { 'main.js': 'import "./a.js";\n', 'a.js': 'import { b } from "./b.js";\nexport const a = 1;\n', 'b.js': 'import { a } from "./a.js";\nexport const b = 2;\n' },
      /import cycle: a\.js → b\.js → a\.js/,
    );
    assertRejected({ 'main.js': 'import "./main.js";\n' }, /import cycle: main\.js → main\.js/);
  });

  it('refuses every form it does not support, and writes nothing', () => {
    const dep = 'export const a = 1;\nexport function f() {}\n';
    const cases = [
      [{ 'main.js': 'const m = import("./dep.js");\n', 'dep.js': dep }, /dynamic import\(\)/],
      [{ 'main.js': 'import "./dep.js";\n', 'dep.js': 'export let x = 1;\n' }, /'export let' is not supported/],
      [{ 'main.js': 'import "./dep.js";\n', 'dep.js': 'export var x = 1;\n' }, /'export var' is not supported/],
      [{ 'main.js': 'import "./dep.js";\n', 'dep.js': 'let x = 1;\nexport { x };\n' }, /let binding 'x'/],
      [{ 'main.js': 'import "./dep.js";\n', 'dep.js': 'const { x } = {};\nexport { x };\n' }, /no top-level const, function or class 'x'/],
      [{ 'main.js': 'import "./dep.js";\n', 'dep.js': 'export const { x } = {};\n' }, /destructuring/],
      [{ 'main.js': 'export * from "./dep.js";\n', 'dep.js': dep }, /'export \*' is not supported/],
      [{ 'main.js': 'import "./dep.js";\n', 'dep.js': 'export default 42;\n' }, /export default <expression>/],
      [{ 'main.js': 'import "./dep.js";\n', 'dep.js': 'export default function () {}\n' }, /anonymous default exports/],
      [{ 'main.js': 'import x from "lodash";\n' }, /bare or URL specifier 'lodash'/],
      [{ 'main.js': 'import { f } from "./missing.js";\n' }, /does not exist/],
      [{ 'main.js': 'import { nope } from "./dep.js";\n', 'dep.js': dep }, /has no export 'nope'/],
      [{ 'main.js': 'export { nope } from "./dep.js";\n', 'dep.js': dep }, /entry module's exports/],
      [{ 'main.js': 'import "./dep.js";\n', 'dep.js': 'export { nope as a } from "./x.js";\n', 'x.js': dep }, /has no export 'nope'/],
      [{ 'main.js': 'const u = import.meta.resolve("./dep.js");\n' }, /only import\.meta\.url/],
      [{ 'main.js': 'import d from "./d.json" with { type: "json" };\n', 'd.json': '{}' }, /import attributes/],
      [{ 'main.js': 'import { a } from "./dep.js";\nexport const b = a;\n', 'dep.js': dep }, /entry module's exports/],
      [{ 'main.js': 'const __lkb_m0 = 1;\n' }, /reserved for the bundle/],
      // Forms the parser passes on but a function scope cannot hold: V8 refuses the result.
      [{ 'main.js': 'import "./dep.js";\n', 'dep.js': 'export const a = await Promise.resolve(1);\n' }, /does not parse as an ES module/],
      [{ 'main.js': 'const s = "unterminated;\n' }, /unterminated string/],
      // A regex after ')' that this file's tokenizer takes for a division: it then sees an export
      // inside a string (and would blank it). V8's view of the module disagrees: refused.
      [{ 'main.js': 'import "./dep.js";\n', 'dep.js': 'const ok = 0;\nif (ok) /"/.test("x"); const s = "export const fake = 1; /"; /x/;\n' }, /exports \[fake\] but V8 finds \[\]/],
    ];
    for (const [files, pattern] of cases) assertRejected(files, pattern);
    // The same module parses and runs as plain ES: it is the bundler's parse that is wrong there.
    const dir = tree({ 'dep.mjs': 'const ok = 0;\nif (ok) /"/.test("x"); export const s = "export const fake = 1; /"; /x/;\n' });
    return import(pathToFileURL(path.join(dir, 'dep.mjs')).href).then((m) => assert.equal(m.s, 'export const fake = 1; /'));
  });

  it('tokenizes regular expressions and divisions apart', () => {
    const kinds = (src) => tokenize(src).filter((t) => t.type === 'regex').map((t) => t.value);
    assert.deepEqual(kinds('a = b / c / d;'), []);
    assert.deepEqual(kinds('x = f(a) / 2; y = a[1] / 3; z = i++ / 2;'), []);
    assert.deepEqual(kinds('if (ok) { x = 1 } /ab"c/.test(s); return /[/]"/g;'), ['/ab"c/', '/[/]"/g']);
    assert.deepEqual(kinds('const s = `${a / b}` + `${/x/.source}`;'), []);
  });

  it("bundles the real background (sw.js, shared/, flavor.js, the wasm-bindgen glue)", (t) => {
    const glue = path.join(REPO, 'target/latchkey-pkg/latchkey_wasm.js');
    if (!fs.existsSync(glue)) {
      t.skip('no wasm build yet (target/latchkey-pkg/): run node scripts/build.mjs');
      return;
    }
    const dir = path.join(tmp, 'real');
    fs.cpSync(path.join(REPO, 'extension'), path.join(dir, 'extension'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'pkg'));
    fs.copyFileSync(glue, path.join(dir, 'pkg/latchkey_wasm.js'));
    fs.writeFileSync(path.join(dir, 'flavor.js'), 'export const TEST_FLAVOR = false;\n');
    const out = path.join(dir, 'extension/background/sw.bundle.js');
    const r = bundle({ entry: path.join(dir, 'extension/background/sw.js'), outFile: out, root: dir });
    const background = fs.readdirSync(path.join(REPO, 'extension/background')).filter((f) => f.endsWith('.js'));
    assert.deepEqual(
      [...r.modules].sort(),
      [...background.map((f) => `extension/background/${f}`), 'extension/shared/browser.js', 'extension/shared/messages.js', 'flavor.js', 'pkg/latchkey_wasm.js'].sort(),
    );
    assert.equal(r.modules.at(-1), 'extension/background/sw.js', 'the entry runs last');
    const code = fs.readFileSync(out, 'utf8');
    assert.match(code, /new URL\("\.\.\/\.\.\/pkg\/latchkey_wasm\.js", import\.meta\.url\)\.href/, 'the glue finds its .wasm next to itself');
    assert.doesNotMatch(code, /^\s*(import|export)\s/m, 'no import/export statement is left');
  });
});
