import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMasker, maskingOutput, MASK } from './mask.js';

const run = (secrets: string[], chunks: string[]) => {
  const m = createMasker(secrets);
  return chunks.map((c) => m.write(c)).join('') + m.flush();
};

test('masks every occurrence of every secret in one chunk', () => {
  assert.equal(run(['s3cret', 'tok'], ['a s3cret b tok c s3cret\n']), `a ${MASK} b ${MASK} c ${MASK}\n`);
});

test('masks a secret split across two chunks', () => {
  assert.equal(run(['hunter2'], ['pass=hun', 'ter2 done']), `pass=${MASK} done`);
});

test('masks a secret split across many one-character chunks', () => {
  const text = 'xx-canary-password-yy canary-password';
  assert.equal(run(['canary-password'], [...text]), `xx-${MASK}-yy ${MASK}`);
});

test('holds back only what could still be a secret and releases it on flush', () => {
  const m = createMasker(['abcdef']);
  assert.equal(m.write('hello abc'), 'hello ');
  assert.equal(m.flush(), 'abc');
});

test('a held prefix that turns out not to be a secret is shown unchanged', () => {
  assert.equal(run(['abcdef'], ['xx abc', 'xyz abcdef']), `xx abcxyz ${MASK}`);
});

test('a secret containing another is masked whole; regex characters are literal', () => {
  assert.equal(run(['pass', 'pass.word*'], ['pass.word* and pass and passXword']), `${MASK} and ${MASK} and ${MASK}Xword`);
});

test('no secrets means output passes through untouched', () => {
  assert.equal(run(['', ''], ['plain ', 'text']), 'plain text');
});

test('maskingOutput keeps stdout and stderr apart', () => {
  const seen: string[] = [];
  const out = maskingOutput(['topsecret'], (stream, text) => seen.push(`${stream}:${text}`));
  out.onOutput('stdout', 'a top');
  out.onOutput('stderr', 'b secret');
  out.onOutput('stdout', 'secret c');
  out.flush();
  // stderr's final "t" could begin the secret, so it waits for flush.
  assert.deepEqual(seen, ['stdout:a ', 'stderr:b secre', `stdout:${MASK} c`, 'stderr:t']);
});
