#!/usr/bin/env node
// Compiles the Public Suffix List into the DAFSA that core/src/psl.rs searches (format: core/README.md,
// "Public Suffix List DAFSA").
//
// Usage: node scripts/psl.mjs [list.dat]
//   list.dat  a list in the publicsuffix.org format (default core/src/psl/public_suffix_list.dat).
//             To update: download https://publicsuffix.org/list/public_suffix_list.dat over that file,
//             run this script, then `cargo test -p latchkey-core psl` (see core/README.md, "Public Suffix
//             List automaton", about the test that pins the old crate's answers).
// Writes core/src/psl/psl.dafsa. The output depends only on the list (deterministic).
//
// The set stored: every node of the list's label trie (every rule and every parent of a rule, e.g.
// "com", "example.com" for the rule "*.example.com"), each with a value
//   type | wildcard << 2,  type: 0 a rule, 1 an exception rule ("!"), 2 only a parent of rules;
//   wildcard: a "*." rule exists directly under this name.
// That is exactly the table the public-suffix crate (Go's x/net/publicsuffix) walks, so the lookup in
// psl.rs can walk it the same way. Names are stored reversed ("moc.elpmaxe"): a lookup reads the host from
// its end, and the minimised automaton shares both the common tails (TLDs) and the common heads.

import fs from "node:fs";
import path from "node:path";
import { domainToASCII } from "node:url";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_LIST = path.join(ROOT, "core/src/psl/public_suffix_list.dat");
const OUT = path.join(ROOT, "core/src/psl/psl.dafsa");

const NORMAL = 0;
const EXCEPTION = 1;
const PARENT_ONLY = 2;
const WILDCARD = 4;
const NO_VALUE = 7;
/** How many nodes get a one-byte pointer (64: 52.5 → 48.5 KB; 32 and 121 both do worse). */
const HUBS = 64;

/** The list's rules as { name (ASCII, lower case), kind: "normal" | "exception" | "wildcard" }. */
export function parseList(text) {
  const rules = [];
  for (const raw of text.split("\n")) {
    // publicsuffix.org: each line is only read up to the first whitespace; "//" starts a comment.
    const line = raw.trim().split(/\s/)[0];
    if (line === "" || line.startsWith("//")) continue;
    let kind = "normal";
    let name = line;
    if (name.startsWith("!")) {
      kind = "exception";
      name = name.slice(1);
    } else if (name.startsWith("*.")) {
      kind = "wildcard";
      name = name.slice(2);
    }
    const ascii = domainToASCII(name);
    if (ascii === "" || !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(ascii)) {
      throw new Error(`unsupported rule ${JSON.stringify(line)} (only a leading "*." or "!" is supported)`);
    }
    if (kind === "exception" && !ascii.includes(".")) {
      throw new Error(`unsupported rule ${JSON.stringify(line)} (an exception names a label below a suffix)`);
    }
    rules.push({ name: ascii, kind });
  }
  return rules;
}

/** Map: trie node name → value (see the header). */
export function nodeValues(rules) {
  const nodes = new Map();
  const ensure = (name) => {
    const labels = name.split(".");
    for (let k = 1; k <= labels.length; k++) {
      const n = labels.slice(-k).join(".");
      if (!nodes.has(n)) nodes.set(n, { type: PARENT_ONLY, wildcard: false });
    }
    return nodes.get(name);
  };
  for (const { name, kind } of rules) {
    const node = ensure(name);
    if (kind === "exception") node.type = EXCEPTION;
    else if (kind === "wildcard") node.wildcard = true;
    else node.type = NORMAL;
  }
  return new Map([...nodes].map(([n, v]) => [n, v.type | (v.wildcard ? WILDCARD : 0)]));
}

function leb128(x) {
  const out = [];
  for (;;) {
    if (x < 0x80) {
      out.push(x);
      return out;
    }
    out.push((x & 0x7f) | 0x80);
    x = Math.floor(x / 128);
  }
}

/** The encoded DAFSA of { reversed name → value }. */
export function compile(values) {
  // 1. A trie of the reversed names.
  const newNode = () => ({ value: NO_VALUE, kids: new Map() });
  let root = newNode();
  for (const [name, value] of values) {
    let n = root;
    for (const c of [...name].reverse()) {
      if (!n.kids.has(c)) n.kids.set(c, newNode());
      n = n.kids.get(c);
    }
    n.value = value;
  }
  // 2. Minimise: merge equal subtrees (same value, same edges to the same merged nodes).
  const registry = new Map();
  let nextId = 0;
  const minimise = (n) => {
    for (const [c, k] of n.kids) n.kids.set(c, minimise(k));
    const key = `${n.value}|${[...n.kids].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, k]) => c + k.id).join(",")}`;
    const seen = registry.get(key);
    if (seen) return seen;
    n.id = nextId++;
    registry.set(key, n);
    return n;
  };
  root = minimise(root);
  // 3. In-degrees; a node with no value, one edge and one parent is folded into its parent's edge label.
  const indegree = new Map();
  const all = new Set();
  const collect = (n) => {
    if (all.has(n)) return;
    all.add(n);
    for (const k of n.kids.values()) {
      indegree.set(k, (indegree.get(k) ?? 0) + 1);
      collect(k);
    }
  };
  collect(root);
  const isChain = (n) => n.value === NO_VALUE && n.kids.size === 1 && indegree.get(n) === 1;
  const isLeaf = (n) => n.kids.size === 0;
  const edgesOf = new Map();
  const edges = (n) => {
    if (!edgesOf.has(n)) {
      const out = [];
      for (const c of [...n.kids.keys()].sort()) {
        let label = c;
        let t = n.kids.get(c);
        while (isChain(t)) {
          const [[c2, t2]] = [...t.kids];
          label += c2;
          t = t2;
        }
        out.push({ label, target: t });
      }
      edgesOf.set(n, out);
    }
    return edgesOf.get(n);
  };
  // 4. Layout: reverse post-order (every edge points forward); leaves are not laid out (their value is
  //    the pointer). A node's edge to the node laid out right after it is put last and left implicit.
  const order = [];
  const visited = new Set();
  const dfs = (n) => {
    visited.add(n);
    for (const { target } of edges(n)) if (!isLeaf(target) && !visited.has(target)) dfs(target);
    order.push(n);
  };
  dfs(root);
  order.reverse();
  const arranged = new Map();
  order.forEach((n, i) => {
    const es = [...edges(n)];
    const next = order[i + 1];
    const j = es.findIndex((e) => e.target === next);
    let follow = false;
    if (j >= 0) {
      es.push(es.splice(j, 1)[0]);
      follow = true;
    }
    arranged.set(n, { es, follow });
  });
  // 5. Hubs: the HUBS nodes most pointed at get a one-byte pointer through a table of their offsets.
  const refs = new Map();
  for (const n of order) {
    const { es, follow } = arranged.get(n);
    es.forEach(({ target }, i) => {
      if ((follow && i === es.length - 1) || isLeaf(target)) return;
      refs.set(target, (refs.get(target) ?? 0) + 1);
    });
  }
  const position = new Map(order.map((n, i) => [n, i]));
  const hubs = [...refs]
    .sort(([a, x], [b, y]) => y - x || position.get(a) - position.get(b))
    .slice(0, HUBS)
    .map(([n]) => n);
  const hubIndex = new Map(hubs.map((n, i) => [n, i]));
  // 6. Encode; relative pointers are varints, so iterate until the offsets stop moving.
  let offsets = new Map(order.map((n) => [n, 0]));
  for (let round = 0; round < 100; round++) {
    const bytes = [];
    const next = new Map();
    for (const n of order) {
      next.set(n, bytes.length);
      const { es, follow } = arranged.get(n);
      bytes.push(...leb128(es.length * 16 + (follow ? 8 : 0) + n.value));
      es.forEach(({ label, target }, i) => {
        const codes = [...label].map((c) => c.charCodeAt(0));
        codes[codes.length - 1] |= 0x80;
        bytes.push(...codes);
        if (follow && i === es.length - 1) return;
        if (isLeaf(target)) bytes.push(...leb128(target.value));
        else if (hubIndex.has(target)) bytes.push(...leb128(NO_VALUE + hubIndex.get(target)));
        else bytes.push(...leb128(Math.max(offsets.get(target) - bytes.length, 0) + NO_VALUE + hubs.length));
      });
    }
    if (order.every((n) => next.get(n) === offsets.get(n))) {
      if (bytes.length > 0xffff) throw new Error("the DAFSA outgrew 16-bit hub offsets");
      const table = hubs.flatMap((n) => [offsets.get(n) & 0xff, offsets.get(n) >> 8]);
      return Uint8Array.from([hubs.length, ...table, ...bytes]);
    }
    offsets = next;
  }
  throw new Error("the DAFSA layout did not converge");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const list = process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_LIST;
  const rules = parseList(fs.readFileSync(list, "utf8"));
  const values = nodeValues(rules);
  const dafsa = compile(values);
  fs.writeFileSync(OUT, dafsa);
  console.log(
    `[psl] ${rules.length} rules, ${values.size} names → ${path.relative(ROOT, OUT)} (${dafsa.length} bytes)`,
  );
}
