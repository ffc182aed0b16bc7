// How the log store keeps U+0000 (PostgreSQL cannot hold it in text): every text reads back exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLogText, encodeLogText } from './logs.js';

test('encodeLogText: no U+0000 left, and decodeLogText gives back the very same text', () => {
  const texts = ['', 'plain\n', '\0', 'a\0b\n', '\\0 \\u0000 "\\u0000"', '\uFFFF', '\uFFFF"\\u0000"', '\uFFFF"\0"', 'x\uFFFF', 'é ✓ 😀'];
  for (const t of texts) {
    const stored = encodeLogText(t);
    assert.ok(!stored.includes('\0'), JSON.stringify(t));
    assert.equal(decodeLogText(stored), t, JSON.stringify(t));
  }
  assert.equal(encodeLogText('plain\n'), 'plain\n', 'a line without U+0000 is stored as it is');
});

test('decodeLogText leaves a stored line that encodeLogText did not write as it is', () => {
  assert.equal(decodeLogText('\uFFFFnot json'), '\uFFFFnot json');
});
