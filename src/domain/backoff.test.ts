import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, backoffDelay, retry, type BackoffPolicy } from './backoff.js';

const p = (jitter: BackoffPolicy['jitter']): BackoffPolicy => ({ baseMs: 100, maxMs: 1000, jitter });

test('exponential from the base, capped at the max', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 60, 2000].map((r) => backoffDelay(r, p('none'))), [100, 200, 400, 800, 1000, 1000, 1000, 1000]);
});

test('full jitter spans [0, d], equal jitter [d/2, d]; a fixed random makes it deterministic', () => {
  assert.equal(backoffDelay(2, p('full'), () => 0), 0);
  assert.equal(backoffDelay(2, p('full'), () => 0.5), 200);
  assert.equal(backoffDelay(2, p('full'), () => 0.999999), 399);
  assert.equal(backoffDelay(2, p('equal'), () => 0), 200);
  assert.equal(backoffDelay(2, p('equal'), () => 0.999999), 399);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(3, p('full'));
    assert.ok(d >= 0 && d <= 800, String(d));
  }
});

test('Backoff counts failures and starts over after reset', () => {
  const b = new Backoff({ baseMs: 1000, maxMs: 30_000, jitter: 'none' });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [1000, 2000, 4000, 8000, 16_000, 30_000]);
  assert.equal(b.failures, 6);
  b.reset();
  assert.equal(b.next(), 1000);
});

test('retry: retries what shouldRetry accepts, waits the policy between attempts, rethrows the last error', async () => {
  const waits: number[] = [];
  let calls = 0;
  const err = new Error('busy');
  await assert.rejects(retry(async () => { calls++; throw err; },
    { policy: p('none'), attempts: 4, shouldRetry: () => true, sleep: async (ms) => void waits.push(ms) }), (e) => e === err);
  assert.equal(calls, 4);
  assert.deepEqual(waits, [100, 200, 400]);
});

test('retry: succeeds after failures; an error not worth retrying is thrown at once; shouldStop ends it', async () => {
  let n = 0;
  const noWait = async () => {};
  assert.equal(await retry(async () => (++n < 3 ? Promise.reject(new Error('x')) : n), { policy: p('full'), attempts: Infinity, shouldRetry: () => true, sleep: noWait }), 3);
  n = 0;
  await assert.rejects(retry(async () => { n++; throw new TypeError('bad'); }, { policy: p('full'), attempts: 9, shouldRetry: (e) => !(e instanceof TypeError), sleep: noWait }), TypeError);
  assert.equal(n, 1);
  n = 0;
  await assert.rejects(retry(async () => { n++; throw new Error('down'); }, { policy: p('full'), attempts: Infinity, shouldRetry: () => true, shouldStop: () => n >= 2, sleep: noWait }), /down/);
  assert.equal(n, 2);
});
