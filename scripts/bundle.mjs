// A small ES-module bundler (no dependencies) for the background: one entry module and everything it
// imports become ONE ES module file (docs/design.md "Cold start": Firefox spends ~15 ms fetching and
// parsing a dozen modules at each wake-up).
//
// What it does:
//   * Each module keeps its own scope: its source (import/export statements removed) runs inside an
//     arrow function, which returns a frozen object of its exports. Top-level names cannot collide.
//   * Modules run in ES module order (depth-first post-order from the entry, each once), all in the
//     bundle's first synchronous evaluation, so top-level listeners are still registered at once.
//   * `import.meta.url` is rewritten to the module's ORIGINAL url (resolved against the bundle's own
//     import.meta.url), so e.g. wasm-bindgen's `new URL('x_bg.wasm', import.meta.url)` still works.
//
// What it supports (the forms our code and wasm-bindgen's `--target web` glue use) — anything else
// FAILS the build (BundleError), never a silently different bundle:
//   import d from "./x.js";   import { a, b as c } from "./x.js";   import d, { a } from "./x.js";
//   import * as ns from "./x.js";   import d, * as ns from "./x.js";   import "./x.js";
//   export const|function|async function|function*|class NAME ...;   export { a, b as c };
//   export { a, b as c } from "./x.js";   export default function|class NAME ...
// Rejected: dynamic import(), `import.meta` other than `.url`, import attributes, bare specifiers,
// `export let/var` and exports of `let`/`var` bindings (imports are snapshots taken after the
// dependency ran: only constant bindings keep ES semantics), `export *`, `export default <expr>`,
// destructuring exports, exports from the entry module, import cycles, a top-level `await` (the
// bundle is parsed by V8 before it is written: a wrapper cannot hold one), and any identifier
// starting with `__lkb_` (reserved for the bundle).
//
// Two checks by V8 itself guard this file's own small parser: every module's import specifiers and
// export names as V8 sees them (node:vm SourceTextModule, linked against stubs that export only the
// names this parser found) must equal what this parser found, and the finished bundle must parse
// (node --check). A disagreement fails the build.
//
// Usage: import { bundle } from "./bundle.mjs";
//   bundle({ entry, outFile }) → { code, modules: [relative paths in evaluation order] } (and writes
//   outFile). Or: node scripts/bundle.mjs <entry> <outFile>

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

export class BundleError extends Error {}

// LATCHKEY_MARKS=1: the bundle sets performance marks `lk:top` (its first statement) and
// `lk:m:<file>` after each module ran, read by scripts/bench/cold-marks.mjs. Off by default.
const MARKS = process.env.LATCHKEY_MARKS === "1";

// ---- a JavaScript tokenizer (enough to find import/export statements) ---------------------------

const ID_START = /[A-Za-z_$\u0080-\uffff]/;
const ID_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
/** After these keywords a `/` starts a regular expression, not a division. */
const REGEX_AFTER_WORD = new Set([
  "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else",
  "yield", "await", "extends",
]);
const PUNCT3 = [">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??="];
const PUNCT2 = ["=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", ">>", "**"];

/**
 * Tokens of `src`: {type: "word"|"string"|"template"|"number"|"regex"|"punct", value, start, end}.
 * Comments and whitespace are skipped. Template literals are one token each (their `${}` code is
 * skipped over with brace matching; the statements we look for cannot occur in there).
 */
export function tokenize(src, file = "<input>") {
  const tokens = [];
  let i = 0;
  const n = src.length;
  const fail = (msg, at = i) => {
    const line = src.slice(0, at).split("\n").length;
    throw new BundleError(`${file}:${line}: ${msg}`);
  };
  const regexAllowed = () => {
    const t = tokens[tokens.length - 1];
    if (!t) return true;
    if (t.type === "word") return REGEX_AFTER_WORD.has(t.value);
    if (t.type === "punct") return !(t.value === ")" || t.value === "]" || t.value === "++" || t.value === "--");
    return false;
  };
  const skipString = (q) => {
    i++;
    while (i < n && src[i] !== q) {
      if (src[i] === "\\") i++;
      else if (src[i] === "\n") fail("unterminated string");
      i++;
    }
    if (i >= n) fail("unterminated string");
    i++;
  };
  const skipTemplate = () => {
    i++; // `
    while (i < n && src[i] !== "`") {
      if (src[i] === "\\") i += 2;
      else if (src[i] === "$" && src[i + 1] === "{") {
        i += 2;
        skipCode("}");
      } else i++;
    }
    if (i >= n) fail("unterminated template literal");
    i++;
  };
  // Inside `${ … }`: tokenizes into a throwaway list (for regex detection) until the matching `}`.
  const skipCode = (close) => {
    let depth = 0;
    const saved = tokens.length;
    for (;;) {
      const t = next();
      if (!t) fail("unterminated template substitution");
      if (t.type === "punct" && (t.value === "{" || t.value === "(" || t.value === "[")) depth++;
      else if (t.type === "punct" && (t.value === "}" || t.value === ")" || t.value === "]")) {
        if (depth === 0 && t.value === close) break;
        depth--;
      }
      tokens.push(t);
    }
    tokens.length = saved;
  };
  const next = () => {
    for (;;) {
      while (i < n && /\s/.test(src[i])) i++;
      if (src.startsWith("//", i)) {
        while (i < n && src[i] !== "\n") i++;
      } else if (src.startsWith("/*", i)) {
        const e = src.indexOf("*/", i + 2);
        if (e < 0) fail("unterminated comment");
        i = e + 2;
      } else break;
    }
    if (i >= n) return null;
    const start = i;
    const c = src[i];
    if (c === '"' || c === "'") {
      skipString(c);
      return { type: "string", value: src.slice(start, i), start, end: i };
    }
    if (c === "`") {
      skipTemplate();
      return { type: "template", value: src.slice(start, i), start, end: i };
    }
    if (ID_START.test(c) || c === "\\" || (c === "#" && ID_START.test(src[i + 1] ?? ""))) {
      i++;
      while (i < n && (ID_PART.test(src[i]) || src[i] === "\\")) i++;
      return { type: "word", value: src.slice(start, i), start, end: i };
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      i++;
      while (i < n && /[0-9A-Za-z_.]/.test(src[i])) {
        if ((src[i] === "e" || src[i] === "E") && (src[i + 1] === "+" || src[i + 1] === "-")) i++;
        i++;
      }
      return { type: "number", value: src.slice(start, i), start, end: i };
    }
    if (c === "/" && regexAllowed()) {
      i++;
      let inClass = false;
      while (i < n) {
        const d = src[i];
        if (d === "\\") i++;
        else if (d === "\n") fail("unterminated regular expression");
        else if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        i++;
      }
      if (i >= n) fail("unterminated regular expression");
      i++;
      while (i < n && ID_PART.test(src[i])) i++; // flags
      return { type: "regex", value: src.slice(start, i), start, end: i };
    }
    for (const p of [...PUNCT3, ...PUNCT2]) {
      if (src.startsWith(p, i)) {
        // `?.5` is `? .5`, not optional chaining
        if (p === "?." && /[0-9]/.test(src[i + 2] ?? "")) break;
        i += p.length;
        return { type: "punct", value: p, start, end: i };
      }
    }
    i++;
    return { type: "punct", value: c, start, end: i };
  };
  for (;;) {
    const t = next();
    if (!t) break;
    tokens.push(t);
  }
  return tokens;
}

// ---- one module: its imports, exports and the source without them --------------------------------

const isWord = (t, v) => t && t.type === "word" && (v === undefined || t.value === v);
const isPunct = (t, v) => t && t.type === "punct" && t.value === v;
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED = new Set(["default", "function", "class", "const", "let", "var", "async", "await", "yield", "import", "export"]);

function stringValue(tok) {
  // Our specifiers are plain ASCII paths: reject escapes rather than half-decoding them.
  const inner = tok.value.slice(1, -1);
  if (inner.includes("\\")) return null;
  return inner;
}

/**
 * Parses one module's source. Returns { imports: [{spec, named: [{imported, local}], namespace (a
 * local name or null), reexport?}], exports: Map(exported name → {local} | {from, imported}), edits:
 * [{start, end, text}] (what to blank or rewrite in the source), usesMeta }.
 */
export function parseModule(src, file = "<input>") {
  const tokens = tokenize(src, file);
  const lineOf = (at) => src.slice(0, at).split("\n").length;
  const fail = (msg, tok) => {
    throw new BundleError(`${file}:${tok ? lineOf(tok.start) : "?"}: ${msg}`);
  };
  const imports = []; // { spec, named: [{imported, local}], namespace: local|null, tok }
  const exports = new Map(); // exported name → { local } | { from: spec, imported }
  const edits = [];
  const declared = new Map(); // top-level names → "const"|"let"|"var"|"function"|"class"
  let usesMeta = false;
  let depth = 0;

  const addExport = (name, value, tok) => {
    if (exports.has(name)) fail(`duplicate export '${name}'`, tok);
    exports.set(name, value);
  };
  const needIdent = (t, what) => {
    if (!isWord(t) || !IDENT.test(t.value) || RESERVED.has(t.value)) fail(`expected ${what}, found '${t ? t.value : "end of file"}'`, t);
    return t.value;
  };
  const needSpec = (t) => {
    if (!t || t.type !== "string") fail(`expected a module specifier string, found '${t ? t.value : "end of file"}'`, t);
    const s = stringValue(t);
    if (s === null) fail(`escaped characters in the specifier ${t.value}`, t);
    return s;
  };
  // `{ a, b as c, default as d }` starting at tokens[k] (the `{`); returns [list, index after `}`].
  const braceList = (k) => {
    const list = [];
    if (!isPunct(tokens[k], "{")) fail(`expected '{'`, tokens[k]);
    k++;
    while (!isPunct(tokens[k], "}")) {
      const a = tokens[k];
      if (!isWord(a)) fail(`unsupported name in an import/export list: '${a ? a.value : "end of file"}'`, a);
      let local = a.value;
      k++;
      let alias = local;
      if (isWord(tokens[k], "as")) {
        const b = tokens[k + 1];
        if (!isWord(b)) fail(`unsupported alias '${b ? b.value : "end of file"}'`, b);
        alias = b.value;
        k += 2;
      }
      list.push({ name: local, alias, tok: a });
      if (isPunct(tokens[k], ",")) k++;
      else if (!isPunct(tokens[k], "}")) fail(`expected ',' or '}' in an import/export list`, tokens[k]);
    }
    return [list, k + 1];
  };
  // The statement ends after the specifier; an optional `;`. Import attributes are refused.
  const endAfterSpec = (k) => {
    if ((isWord(tokens[k], "with") || isWord(tokens[k], "assert")) && isPunct(tokens[k + 1], "{")) {
      fail("import attributes are not supported", tokens[k]);
    }
    return isPunct(tokens[k], ";") ? k + 1 : k;
  };
  const erase = (fromTok, toIndex) => {
    const end = toIndex > 0 ? tokens[toIndex - 1].end : fromTok.end;
    edits.push({ start: fromTok.start, end, text: blankLike(src.slice(fromTok.start, end)) });
  };

  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    const prev = tokens[k - 1];
    if (t.type === "punct") {
      if (t.value === "{" || t.value === "(" || t.value === "[") depth++;
      else if (t.value === "}" || t.value === ")" || t.value === "]") depth--;
      continue;
    }
    if (t.type !== "word") continue;
    if (t.value.startsWith("__lkb_")) fail(`the identifier '${t.value}' is reserved for the bundle`, t);
    const isProperty = isPunct(prev, ".") || isPunct(prev, "?.") || isPunct(tokens[k + 1], ":");
    if (isProperty) continue;

    // Top-level declarations (for the kinds of exported bindings).
    if (depth === 0 && (t.value === "const" || t.value === "let" || t.value === "var" || t.value === "class")) {
      if (isWord(tokens[k + 1]) && IDENT.test(tokens[k + 1].value)) declared.set(tokens[k + 1].value, t.value);
    }
    if (depth === 0 && t.value === "function") {
      const nameTok = isPunct(tokens[k + 1], "*") ? tokens[k + 2] : tokens[k + 1];
      if (isWord(nameTok)) declared.set(nameTok.value, "function");
    }

    if (t.value === "import") {
      if (isPunct(tokens[k + 1], "(")) fail("dynamic import() is not supported in the bundle", t);
      if (isPunct(tokens[k + 1], ".")) {
        if (isWord(tokens[k + 2], "meta") && isPunct(tokens[k + 3], ".") && isWord(tokens[k + 4], "url")) {
          usesMeta = true;
          edits.push({ start: t.start, end: tokens[k + 2].end, text: "__lkb_meta" });
          k += 2;
          continue;
        }
        fail("only import.meta.url is supported", t);
      }
      if (depth !== 0) fail("an import statement inside a block", t);
      let j = k + 1;
      const imp = { spec: null, named: [], namespace: null, tok: t };
      if (tokens[j]?.type === "string") {
        imp.spec = needSpec(tokens[j]);
        j = endAfterSpec(j + 1);
      } else {
        if (isWord(tokens[j]) && (isPunct(tokens[j + 1], ",") || isWord(tokens[j + 1], "from"))) {
          // default import
          imp.named.push({ imported: "default", local: needIdent(tokens[j], "a default import name") });
          j++;
          if (isPunct(tokens[j], ",")) j++;
          else if (!isWord(tokens[j], "from")) fail(`expected ',' or 'from' after the default import`, tokens[j]);
        }
        if (isPunct(tokens[j], "*")) {
          if (!isWord(tokens[j + 1], "as")) fail("expected 'as' after 'import *'", tokens[j + 1]);
          imp.namespace = needIdent(tokens[j + 2], "a namespace name");
          j += 3;
        } else if (isPunct(tokens[j], "{")) {
          const [list, after] = braceList(j);
          for (const { name, alias, tok } of list) {
            if (name === alias && (!IDENT.test(name) || RESERVED.has(name))) fail(`'${name}' cannot be imported without 'as'`, tok);
            imp.named.push({ imported: name, local: needIdent({ ...tok, value: alias }, "a local name") });
          }
          j = after;
        }
        if (!isWord(tokens[j], "from")) fail(`unsupported import form (expected 'from', found '${tokens[j] ? tokens[j].value : "end of file"}')`, tokens[j]);
        imp.spec = needSpec(tokens[j + 1]);
        j = endAfterSpec(j + 2);
      }
      imports.push(imp);
      erase(t, j);
      k = j - 1;
      continue;
    }

    if (t.value === "export") {
      if (depth !== 0) fail("an export statement inside a block", t);
      const a = tokens[k + 1];
      if (isPunct(a, "*")) fail("'export *' is not supported", t);
      if (isPunct(a, "{")) {
        const [list, after] = braceList(k + 1);
        let j = after;
        if (isWord(tokens[j], "from")) {
          const spec = needSpec(tokens[j + 1]);
          j = endAfterSpec(j + 2);
          imports.push({ spec, named: [], namespace: null, tok: t, reexport: true });
          for (const { name, alias, tok } of list) addExport(alias, { from: spec, imported: name }, tok);
        } else {
          if (isPunct(tokens[j], ";")) j++;
          for (const { name, alias, tok } of list) addExport(alias, { local: name, tok }, tok);
        }
        erase(t, j);
        k = j - 1;
        continue;
      }
      if (isWord(a, "let") || isWord(a, "var")) {
        fail(`'export ${a.value}' is not supported (the bundle's imports are snapshots; export a const or a function)`, t);
      }
      if (isWord(a, "default")) {
        const b = tokens[k + 2];
        let nameTok = null;
        if (isWord(b, "class")) nameTok = tokens[k + 3];
        else if (isWord(b, "function")) nameTok = isPunct(tokens[k + 3], "*") ? tokens[k + 4] : tokens[k + 3];
        else if (isWord(b, "async") && isWord(tokens[k + 3], "function")) nameTok = isPunct(tokens[k + 4], "*") ? tokens[k + 5] : tokens[k + 4];
        else fail("'export default <expression>' is not supported (export a named function or class)", t);
        const name = needIdent(nameTok, "a name (anonymous default exports are not supported)");
        addExport("default", { local: name, tok: nameTok }, t);
        edits.push({ start: t.start, end: a.end, text: blankLike(src.slice(t.start, a.end)) });
        continue;
      }
      let nameTok;
      if (isWord(a, "const") || isWord(a, "class")) nameTok = tokens[k + 2];
      else if (isWord(a, "function")) nameTok = isPunct(tokens[k + 2], "*") ? tokens[k + 3] : tokens[k + 2];
      else if (isWord(a, "async") && isWord(tokens[k + 2], "function")) nameTok = isPunct(tokens[k + 3], "*") ? tokens[k + 4] : tokens[k + 3];
      else fail(`unsupported export form 'export ${a ? a.value : ""}'`, t);
      if (!isWord(nameTok)) fail(`unsupported export form (destructuring or a missing name after 'export ${a.value}')`, t);
      const name = needIdent(nameTok, "a declared name");
      addExport(name, { local: name, tok: nameTok }, nameTok);
      edits.push({ start: t.start, end: t.end, text: "      " });
      continue;
    }
  }
  if (depth !== 0) fail("unbalanced brackets (the tokenizer lost its way)", tokens[tokens.length - 1]);

  // `export { x }` of a binding that could change after the module ran would be frozen at that
  // moment by the bundle: refuse exports of let/var (and names this parser cannot see declared).
  const importedLocals = new Set(imports.flatMap((i) => [...i.named.map((b) => b.local), ...(i.namespace ? [i.namespace] : [])]));
  for (const [name, v] of exports) {
    if (!v.local) continue;
    const kind = declared.get(v.local);
    if (kind === "let" || kind === "var") {
      fail(`export of the ${kind} binding '${v.local}' is not supported (the bundle's imports are snapshots)`, v.tok);
    }
    if (!kind && !importedLocals.has(v.local)) {
      fail(`export '${name}': no top-level const, function or class '${v.local}' found`, v.tok);
    }
  }
  return { imports, exports, edits, usesMeta };
}

/** `text` with everything but its line breaks turned into spaces (keeps line numbers). */
function blankLike(text) {
  return text.replace(/[^\n]/g, " ");
}

function applyEdits(src, edits) {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const e of sorted) {
    out += src.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + src.slice(at);
}

// ---- the graph and the bundle ----------------------------------------------------------------------

function resolveSpec(spec, fromFile, root) {
  if (!spec.startsWith("./") && !spec.startsWith("../") && !spec.startsWith("/")) {
    throw new BundleError(`${path.relative(root, fromFile)}: bare or URL specifier '${spec}' is not supported`);
  }
  const resolved = spec.startsWith("/") ? path.join(root, spec) : path.resolve(path.dirname(fromFile), spec);
  if (!fs.existsSync(resolved) || !fs.statSync(resolved).isFile()) {
    throw new BundleError(`${path.relative(root, fromFile)}: '${spec}' does not exist (${resolved})`);
  }
  return resolved;
}

/**
 * Bundles `entry` (a file path) and its static imports into one ES module written to `outFile`.
 * `root` (default: the entry's directory; pass the extension's root) is where absolute specifiers
 * ("/x.js") resolve, and what the module names in errors, comments and `modules` are relative to.
 * `check` (default true): parse the result with V8 (`node --check`) before writing it.
 */
export function bundle({ entry, outFile, root = path.dirname(path.resolve(entry)), check = true }) {
  entry = path.resolve(entry);
  outFile = path.resolve(outFile);
  const modules = new Map(); // file → { id, parsed, src }
  const order = [];
  const visiting = [];

  const visit = (file) => {
    const cycleAt = visiting.indexOf(file);
    if (cycleAt >= 0) {
      const chain = [...visiting.slice(cycleAt), file].map((f) => path.relative(root, f)).join(" → ");
      throw new BundleError(`import cycle: ${chain}`);
    }
    if (modules.has(file)) return;
    if (path.resolve(file) === outFile) throw new BundleError(`the bundle's own output ${outFile} is imported`);
    visiting.push(file);
    const rel = path.relative(root, file);
    const src = fs.readFileSync(file, "utf8");
    const parsed = parseModule(src, rel);
    for (const imp of parsed.imports) {
      imp.file = resolveSpec(imp.spec, file, root);
      visit(imp.file);
    }
    visiting.pop();
    modules.set(file, { id: order.length, parsed, src, rel });
    order.push(file);
  };
  visit(entry);
  if (check) crossCheck(order.map((f) => modules.get(f)));

  const entryMod = modules.get(entry);
  if (entryMod.parsed.exports.size > 0) {
    throw new BundleError(`${entryMod.rel}: the entry module's exports are not supported in the bundle`);
  }

  const varOf = (file) => `__lkb_m${modules.get(file).id}`;
  const outDir = path.dirname(outFile);
  let code =
    `// Generated by scripts/bundle.mjs from ${path.relative(root, entry)} and the ${order.length - 1} modules it imports.\n` +
    `// Do not edit: each module below runs in its own function scope, in ES module order.\n` +
    (MARKS ? `performance.mark("lk:top");\n` : "");
  for (const file of order) {
    const m = modules.get(file);
    const { parsed } = m;
    // Imported bindings, checked against what the dependency exports.
    const decls = [];
    const byFile = new Map();
    for (const imp of parsed.imports) {
      const dep = modules.get(imp.file);
      for (const b of imp.named) {
        if (!dep.parsed.exports.has(b.imported)) {
          throw new BundleError(`${m.rel}: '${imp.spec}' (${dep.rel}) has no export '${b.imported}'`);
        }
        const list = byFile.get(imp.file) ?? [];
        list.push(b.imported === b.local ? b.local : `${JSON.stringify(b.imported)}: ${b.local}`);
        byFile.set(imp.file, list);
      }
      if (imp.namespace) decls.push(`const ${imp.namespace} = ${varOf(imp.file)};`);
    }
    for (const [file, list] of byFile) decls.push(`const { ${list.join(", ")} } = ${varOf(file)};`);
    if (parsed.usesMeta) {
      const relUrl = path.relative(outDir, file).split(path.sep).join("/");
      decls.push(`const __lkb_meta = Object.freeze({ url: new URL(${JSON.stringify(relUrl.startsWith(".") ? relUrl : `./${relUrl}`)}, import.meta.url).href });`);
    }
    // Exports: local names, or re-exports from a dependency (checked too).
    const props = [];
    for (const [name, v] of parsed.exports) {
      const key = JSON.stringify(name);
      if (v.local) props.push(`${key}: ${v.local}`);
      else {
        const depFile = parsed.imports.find((i) => i.reexport && i.spec === v.from).file;
        const dep = modules.get(depFile);
        if (!dep.parsed.exports.has(v.imported)) {
          throw new BundleError(`${m.rel}: '${v.from}' (${dep.rel}) has no export '${v.imported}'`);
        }
        props.push(`${key}: ${varOf(depFile)}[${JSON.stringify(v.imported)}]`);
      }
    }
    const body = applyEdits(m.src, parsed.edits).replace(/\s+$/, "");
    code +=
      `\n// ---- ${m.rel}\n` +
      `const ${varOf(file)} = (() => { ${decls.join(" ")}\n` +
      `${body}\n` +
      `return Object.freeze({ __proto__: null${props.map((p) => `, ${p}`).join("")} });\n` +
      `})();\n` +
      (MARKS ? `performance.mark(${JSON.stringify(`lk:m:${path.basename(m.rel)}`)});\n` : "");
  }

  if (check) checkSyntax(code, outFile);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(outFile, code);
  return { code, modules: order.map((f) => path.relative(root, f)) };
}

// Runs in a child node (node:vm's SourceTextModule needs --experimental-vm-modules): for each module,
// V8's import specifiers and, after linking against stubs that export exactly the names our parser
// says the module takes from each, V8's export names. Reads [{rel, src, needs}] on stdin.
const V8_VIEW = `
const vm = require("node:vm");
let input = "";
process.stdin.on("data", (d) => (input += d)).on("end", async () => {
  const out = [];
  for (const { rel, src, needs } of JSON.parse(input)) {
    try {
      const m = new vm.SourceTextModule(src, { identifier: rel });
      const deps = [...m.dependencySpecifiers];
      await m.link((spec) => new vm.SyntheticModule(needs[spec] ?? [], () => {}));
      out.push({ rel, deps, exports: Reflect.ownKeys(m.namespace).filter((k) => typeof k === "string") });
    } catch (e) {
      out.push({ rel, error: String(e && e.message) });
    }
  }
  process.stdout.write(JSON.stringify(out));
});`;

/** Compares our parse of every module with V8's (see V8_VIEW); throws BundleError on a difference. */
function crossCheck(mods) {
  const input = mods.map(({ rel, src, parsed }) => {
    const needs = {};
    for (const imp of parsed.imports) {
      const names = (needs[imp.spec] ??= []);
      for (const b of imp.named) if (!names.includes(b.imported)) names.push(b.imported);
    }
    for (const v of parsed.exports.values()) {
      if (v.from && !needs[v.from].includes(v.imported)) needs[v.from].push(v.imported);
    }
    return { rel, src, needs };
  });
  const r = spawnSync(process.execPath, ["--experimental-vm-modules", "--no-warnings", "-e", V8_VIEW], {
    input: JSON.stringify(input),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error || r.status !== 0) throw new BundleError(`could not check the modules with V8: ${r.error?.message ?? r.stderr}`);
  const same = (a, b) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
  for (const v8 of JSON.parse(r.stdout)) {
    const { parsed } = mods.find((m) => m.rel === v8.rel);
    if (v8.error) throw new BundleError(`${v8.rel}: V8 does not accept this module as parsed by scripts/bundle.mjs: ${v8.error}`);
    const ours = [...new Set(parsed.imports.map((i) => i.spec))];
    if (!same(ours, v8.deps)) {
      throw new BundleError(`${v8.rel}: scripts/bundle.mjs found the imports [${ours}] but V8 finds [${v8.deps}]`);
    }
    const ourExports = [...parsed.exports.keys()];
    if (!same(ourExports, v8.exports)) {
      throw new BundleError(`${v8.rel}: scripts/bundle.mjs found the exports [${ourExports}] but V8 finds [${v8.exports}]`);
    }
  }
}

/** Parses `code` as an ES module with V8 (node --check); throws BundleError on a syntax error. */
function checkSyntax(code, outFile) {
  const r = spawnSync(process.execPath, ["--input-type=module", "--check"], { input: code, encoding: "utf8" });
  if (r.error) throw new BundleError(`could not run node --check: ${r.error.message}`);
  if (r.status !== 0) {
    throw new BundleError(`the bundle for ${outFile} does not parse as an ES module:\n${(r.stderr || "").trim()}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [entry, out] = process.argv.slice(2);
  if (!entry || !out) {
    console.error("usage: node scripts/bundle.mjs <entry.js> <out.js>");
    process.exit(2);
  }
  try {
    const r = bundle({ entry, outFile: out, root: process.cwd() });
    console.log(`[bundle] ${out}: ${r.modules.length} modules, ${r.code.length} bytes`);
  } catch (e) {
    if (e instanceof BundleError) {
      console.error(`[bundle] ERROR: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}
