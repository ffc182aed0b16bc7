import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, table } from './output.js';

test('tables align columns, show "-" for empty cells and cut long ones', () => {
  const rows = [{ a: 'x', b: null, c: 1 }, { a: 'longer', b: 'y'.repeat(12), c: 22 }];
  const out = table(rows, [
    { header: 'A', value: (r) => r.a },
    { header: 'B', value: (r) => r.b, max: 5 },
    { header: 'C', value: (r) => r.c },
  ]);
  assert.equal(out, ['A       B      C', 'x       -      1', 'longer  yyyy…  22'].join('\n'));
});

test('ages read as people say them', () => {
  assert.equal(ago(1_000, 13_000), '12s ago');
  assert.equal(ago(0, 5_000), '-');
  assert.equal(ago(1, 1 + 3 * 3600_000 + 5), '3h ago');
});
