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
/**
 * How many nodes get their own target symbol (a hub: its offset is in a table). With the byte format,
 * 64 (52.5 → 48.5 KB); with the Huffman-coded one, 200 (160: +137 B, 220: +295 B; at most 224, the
 * target symbols are bytes).
 */
const HUBS = 200;

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
  // Children with the largest subtrees (counted as trees) are visited first, so the small ones land
  // right after their parent and most pointers stay short (37,649 → 37,149 B against name order).
  const sizes = new Map();
  const size = (n) => {
    if (!sizes.has(n)) sizes.set(n, 1 + edges(n).reduce((sum, e) => sum + size(e.target), 0));
    return sizes.get(n);
  };
  const dfs = (n) => {
    visited.add(n);
    const es = [...edges(n)].sort((x, y) => size(y.target) - size(x.target));
    for (const { target } of es) if (!isLeaf(target) && !visited.has(target)) dfs(target);
    order.push(n);
  };
  dfs(root);
  order.reverse();
  const arranged = new Map();
  // A lookup reads a node's edges in order until the one it needs: the biggest subtrees (com, jp, …)
  // come first.
  order.forEach((n, i) => {
    const es = [...edges(n)].sort((x, y) => size(y.target) - size(x.target));
    const next = order[i + 1];
    const j = es.findIndex((e) => e.target === next);
    let follow = false;
    if (j >= 0) {
      es.push(es.splice(j, 1)[0]);
      follow = true;
    }
    arranged.set(n, { es, follow });
  });
  // 5. Hubs: the HUBS nodes most pointed at get their own target code (through a table of their offsets).
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
  const relBase = NO_VALUE + hubs.length;
  // 6. The symbols, in order, each coded with one of four Huffman codes. A node: its header
  //    `min(edges, 15) << 4 | follow << 3 | value` (code 0; see below for more edges); per edge its
  //    label, one symbol per character `ASCII | last << 7` (code 1 for the first character, code 2 for
  //    the others), then (but for a follow edge) its target (code 3): a leaf's value, a hub, or
  //    `relBase + n` followed by n bits b, for the bit distance d from the target's first bit to the
  //    node: d + 1 = 1 << n | b.
  const symbols = () => {
    const out = []; // [code, symbol, raw bit count, raw bits, node that starts here, pointer target]
    for (const n of order) {
      const { es, follow } = arranged.get(n);
      // Edge counts of 15 and more: 15 in the header, then the rest as further header symbols (their
      // edge field, 15 again while more follow).
      const counts = [];
      for (let left = es.length; ; left -= 15) {
        counts.push(Math.min(left, 15));
        if (left < 15) break;
      }
      out.push([0, counts[0] * 16 + (follow ? 8 : 0) + n.value, 0, 0, n]);
      for (const k of counts.slice(1)) out.push([0, k * 16, 0, 0]);
      es.forEach(({ label, target }, i) => {
        [...label].forEach((c, k) => out.push([k === 0 ? 1 : 2, c.charCodeAt(0) | (k === label.length - 1 ? 0x80 : 0), 0, 0]));
        if (follow && i === es.length - 1) return;
        if (isLeaf(target)) out.push([3, target.value, 0, 0]);
        else if (hubIndex.has(target)) out.push([3, NO_VALUE + hubIndex.get(target), 0, 0]);
        else out.push([3, 0, 0, 0, null, target]); // filled in by the layout
      });
    }
    return out;
  };
  const items = symbols();
  const bitLength = (x) => (x === 0 ? 0 : 32 - Math.clz32(x));
  // 7. Layout: pointer lengths depend on distances and code lengths on symbol counts; iterate both until
  //    the offsets stop moving (every code also covers distance classes it does not use yet). The codes
  //    are re-fitted for the first `refit` rounds only; some schedules end in a cycle, so the next one is
  //    tried, and if none settles the script stops with an error (a new list may need another entry).
  for (const refit of [20, 10, 30, 5, 40]) {
    let lengths = [null, null, null, null];
    let offsets = new Map(order.map((n) => [n, 0]));
    const counts = () => [new Map(), new Map(), new Map(), new Map()];
    for (let round = 0; round < 200; round++) {
      const next = new Map();
      const seen = counts();
      let bits = 0;
      for (const it of items) {
        if (it[4]) next.set(it[4], bits);
        if (it[5]) {
          const d = Math.max(offsets.get(it[5]) - bits, 0);
          const n = bitLength(d + 1) - 1;
          it[1] = relBase + n;
          it[2] = n;
          it[3] = d + 1 - (1 << n);
        }
        seen[it[0]].set(it[1], (seen[it[0]].get(it[1]) ?? 0) + 1);
        bits += (lengths[it[0]]?.get(it[1]) ?? 8) + it[2];
      }
      const stable = lengths[0] && order.every((n) => next.get(n) === offsets.get(n));
      if (stable) return write(hubs.map((n) => offsets.get(n)), lengths, items, bits);
      offsets = next;
      // Re-fit the codes to the counts for the first rounds only, then let the offsets settle.
      if (round < refit) {
        for (let n = 0; n <= 24; n++) seen[3].set(relBase + n, (seen[3].get(relBase + n) ?? 0) + 1);
        lengths = seen.map(huffman);
      }
    }
  }
  throw new Error("the DAFSA layout did not converge");
}

/** Huffman code lengths (Map symbol → length) for counts (Map symbol → count); deterministic. */
function huffman(counts) {
  let nodes = [...counts].sort(([a], [b]) => a - b).map(([s, c], i) => ({ c, order: i, syms: [s] }));
  const depth = new Map(nodes.flatMap((n) => n.syms.map((s) => [s, 0])));
  let order = nodes.length;
  if (nodes.length === 1) depth.set(nodes[0].syms[0], 1);
  while (nodes.length > 1) {
    nodes.sort((x, y) => x.c - y.c || x.order - y.order);
    const [a, b] = nodes.splice(0, 2);
    for (const s of [...a.syms, ...b.syms]) depth.set(s, depth.get(s) + 1);
    nodes.push({ c: a.c + b.c, order: order++, syms: [...a.syms, ...b.syms] });
  }
  return depth;
}

/** Canonical codes: symbols sorted by (length, symbol) count up (as in zlib's puff). */
function canonical(lengths) {
  const sorted = [...lengths].sort(([a, x], [b, y]) => x - y || a - b);
  const codes = new Map();
  let code = 0;
  let len = sorted[0][1];
  for (const [s, l] of sorted) {
    code <<= l - len;
    len = l;
    codes.set(s, code++);
  }
  return { sorted, codes };
}

function write(hubOffsets, lengths, items, totalBits) {
  // The hub table: H, the width W of an offset in bits, then the H offsets as W-bit numbers.
  const width = Math.max(1, ...hubOffsets.map((o) => 32 - Math.clz32(o)));
  const longest = Math.max(...items.map((it) => it[2]));
  // (Distances of more than 24 bits have no code: see the layout.)
  if (width > 25 || longest > 24) throw new Error("an offset outgrew the lookup's 25-bit window");
  const out = [hubOffsets.length, width, ...packBits(hubOffsets.map((o) => [o, width]))];
  const tables = lengths.map(canonical);
  tables.forEach(({ sorted }) => {
    const max = sorted[sorted.length - 1][1];
    const perLength = Array(max).fill(0);
    for (const [, l] of sorted) perLength[l - 1]++;
    if (sorted.length > 255 || sorted.some(([s]) => s > 255)) {
      throw new Error("a code table outgrew its bytes");
    }
    if (max > 25) throw new Error("a code outgrew the lookup's 25-bit window");
    out.push(max, sorted.length, ...perLength);
    for (const [s] of sorted) out.push(s);
  });
  const fields = items.flatMap((it) => [[tables[it[0]].codes.get(it[1]), lengths[it[0]].get(it[1])], [it[3], it[2]]]);
  if (fields.reduce((sum, [, n]) => sum + n, 0) !== totalBits) throw new Error("the DAFSA layout is inconsistent");
  return Uint8Array.from([...out, ...packBits(fields)]);
}

/** [value, bit count] fields as bytes, most significant bit first, the last byte padded with zeros. */
function packBits(fields) {
  const bits = [];
  for (const [value, n] of fields) for (let i = n - 1; i >= 0; i--) bits.push(Math.floor(value / 2 ** i) & 1);
  const bytes = [];
  for (let i = 0; i < bits.length; i += 8) {
    let byte = 0;
    for (let j = 0; j < 8; j++) byte |= (bits[i + j] ?? 0) << (7 - j);
    bytes.push(byte);
  }
  return bytes;
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
