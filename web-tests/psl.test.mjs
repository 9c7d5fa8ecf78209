// scripts/psl.mjs (the Public Suffix List automaton's writer), run in node: the committed
// core/src/psl/psl.dafsa is exactly what the script writes for the committed list, and the output is
// deterministic. What the automaton answers is tested in Rust (core/src/psl.rs). No browser.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, nodeValues, parseList } from '../scripts/psl.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIST = path.join(REPO, 'core/src/psl/public_suffix_list.dat');
const DAFSA = path.join(REPO, 'core/src/psl/psl.dafsa');

describe('scripts/psl.mjs', () => {
  it('writes the committed psl.dafsa, the same bytes on every run', () => {
    const values = nodeValues(parseList(fs.readFileSync(LIST, 'utf8')));
    const first = compile(values);
    assert.deepEqual(Buffer.from(compile(values)), Buffer.from(first), 'two runs differ');
    assert.ok(
      Buffer.from(first).equals(fs.readFileSync(DAFSA)),
      'core/src/psl/psl.dafsa is stale: run node scripts/psl.mjs',
    );
  });

  it('reads rules up to the first whitespace and refuses the ones it cannot store', () => {
    assert.throws(() => parseList('*.*.example\n'), /unsupported rule/);
    assert.throws(() => parseList('!com\n'), /an exception names a label below a suffix/);
    assert.deepEqual(parseList('// c\n\nco.uk whatever\n*.ck\n!www.ck\n'), [
      { name: 'co.uk', kind: 'normal' },
      { name: 'ck', kind: 'wildcard' },
      { name: 'www.ck', kind: 'exception' },
    ]);
  });
});
