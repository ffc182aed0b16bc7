import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TIMINGS, TimingsOverrideSchema, heartbeatFor, parseTimingsOverride, resolveTimings, sweepEveryFor } from './timings.js';

test('the defaults agree with the rules that derive them from the lease', () => {
  assert.equal(DEFAULT_TIMINGS.heartbeatMs, heartbeatFor(DEFAULT_TIMINGS.leaseTtlMs));
  assert.equal(DEFAULT_TIMINGS.sweepEveryMs, sweepEveryFor(DEFAULT_TIMINGS.leaseTtlMs));
  assert.ok(DEFAULT_TIMINGS.agentPollMs < DEFAULT_TIMINGS.maxWaitMs);
  assert.deepEqual(Object.keys(TimingsOverrideSchema.shape).sort(), Object.keys(DEFAULT_TIMINGS).sort(), 'every timing can be set');
});

test('resolveTimings: later overrides win, undefined is ignored, heartbeat and sweeper follow the lease', () => {
  assert.deepEqual(resolveTimings(), { ...DEFAULT_TIMINGS });
  const t = resolveTimings({ tickMs: 200, leaseTtlMs: 2000 }, { tickMs: undefined, listEveryMs: 100 });
  assert.equal(t.tickMs, 200);
  assert.equal(t.listEveryMs, 100);
  assert.equal(t.heartbeatMs, 500);
  assert.equal(t.sweepEveryMs, 500);
  assert.equal(resolveTimings({ leaseTtlMs: 2000, heartbeatMs: 300 }).heartbeatMs, 300);
});

test('FLOTILLA_TIMINGS: JSON, strict, a misspelt key is named with the nearest known one', () => {
  assert.deepEqual(parseTimingsOverride('{"tickMs":200,"listEveryMs":100}'), { tickMs: 200, listEveryMs: 100 });
  assert.throws(() => parseTimingsOverride('{"tick":1}'), /^Error: FLOTILLA_TIMINGS: unknown key "tick"; did you mean "tickMs"\?/);
  assert.throws(() => parseTimingsOverride('{"orphanGrceMs":1}'), /did you mean "orphanGraceMs"/);
  assert.throws(() => parseTimingsOverride('{"tickMs":-1}'), /FLOTILLA_TIMINGS: tickMs: /);
  assert.throws(() => parseTimingsOverride('tickMs=1'), /FLOTILLA_TIMINGS: not JSON/);
});
