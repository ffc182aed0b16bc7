import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppConfigSchema, type AppConfig, type AppConfigInput } from './config.js';
import { plan, type Action, type InstanceView, type Snapshot } from './policy.js';
import { arrivalRate, warmTarget, type ArrivalHistory } from './warm.js';
import { WarmSchema } from './warm-config.js';

const S = 1000;
const BUCKET = 300 * S;
const NOW = 34 * BUCKET; // the end of bucket 33: the newest bucket is whole

type WarmInput = NonNullable<AppConfigInput['resources'][number]['warm']>;

function config(warm: WarmInput | undefined, over: Partial<AppConfigInput> = {}): AppConfig {
  return AppConfigSchema.parse({
    name: 'app',
    provider: { kind: 'simulated' },
    resources: [
      { name: 'r1', instanceType: 't1', pricePerHour: 10, maxInstances: 5, warm },
      { name: 'r2', instanceType: 't2', pricePerHour: 20, maxInstances: 5 },
    ],
    queues: { q1: ['r1'], q2: ['r2'] },
    timings: { idleTimeoutS: 120, bootTimeoutS: 600, capacityCooldownS: 300 },
    ...over,
  });
}

function inst(id: string, resource: string, over: Partial<InstanceView> = {}): InstanceView {
  return {
    id, resource, state: 'ready', offering: { instanceType: resource === 'r1' ? 't1' : 't2', market: 'on-demand' },
    launchedAt: NOW - 3600 * S, busy: true, registered: true, ...over,
  };
}
const idle = (id: string, resource: string, idleForS: number) => inst(id, resource, { busy: false, idleSince: NOW - idleForS * S });
const booting = (id: string, resource: string) => inst(id, resource, { state: 'booting', registered: false, busy: false, launchedAt: NOW - 30 * S });

/** 72 buckets of 5 min with `perBucket` arrivals each on q1. */
const steady = (perBucket: number): ArrivalHistory => ({ bucketMs: BUCKET, last: 33, counts: { q1: Array(34).fill(perBucket) } });

function snap(waiting: Record<string, number>, instances: InstanceView[] = [], arrivals?: ArrivalHistory): Snapshot {
  const queues = Object.fromEntries(Object.entries(waiting).map(([q, w]) => [q, { waiting: w }]));
  return { queues, instances, capacityFailures: [], ...(arrivals ? { arrivals } : {}) };
}

const launches = (a: Action[]) => a.filter((x) => x.kind === 'launch');
const stops = (a: Action[]) => a.filter((x) => x.kind === 'terminate') as Extract<Action, { kind: 'terminate' }>[];

test('warm off (or omitted) keeps nothing: the plan is the one without warm capacity', () => {
  assert.deepEqual(plan(snap({}), config(undefined), NOW), []);
  assert.deepEqual(plan(snap({}, [idle('a', 'r1', 500)]), config({ mode: 'off' }), NOW).map((a) => a.kind), ['terminate']);
});

test('fixed keeps N ready: launches up to N, journaled as warm, counting idle and booting ones', () => {
  const cfg = config({ mode: 'fixed', size: 2 });
  const got = plan(snap({}), cfg, NOW);
  assert.deepEqual(got, [1, 2].map(() => ({
    kind: 'launch', resource: 'r1', offering: { instanceType: 't1', market: 'on-demand' }, queue: 'q1', reason: 'warm pool: keeping 2 ready for r1',
  })));
  assert.equal(launches(plan(snap({}, [idle('a', 'r1', 10)]), cfg, NOW)).length, 1);
  assert.equal(launches(plan(snap({}, [idle('a', 'r1', 10), booting('b', 'r1')]), cfg, NOW)).length, 0);
  // A waiting task claims the booting one: the pool is one short again.
  assert.equal(launches(plan(snap({ q1: 1 }, [idle('a', 'r1', 10), booting('b', 'r1')]), cfg, NOW)).length, 1);
});

test('the idle timeout does not stop the instances the pool keeps, only the ones beyond it (oldest idle)', () => {
  const got = plan(snap({}, [idle('old', 'r1', 900), idle('new', 'r1', 500)]), config({ mode: 'fixed', size: 1 }), NOW);
  assert.deepEqual(stops(got).map((a) => [a.instanceId, a.reason]), [['old', 'idle']]);
  assert.deepEqual(plan(snap({}, [idle('a', 'r1', 5000)]), config({ mode: 'fixed', size: 1 }), NOW), []);
});

test('warm instances count against every limit: the resource max, the app max and the $/h cap', () => {
  const busy = (n: number) => Array.from({ length: n }, (_, i) => inst(`b${i}`, 'r1'));
  assert.equal(launches(plan(snap({}, busy(4)), config({ mode: 'fixed', size: 2 }), NOW)).length, 1, 'r1 max 5');
  assert.equal(launches(plan(snap({}, busy(2)), config({ mode: 'fixed', size: 2 }, { budget: { maxInstances: 3 } }), NOW)).length, 1, 'app max 3');
  assert.equal(launches(plan(snap({}, busy(2)), config({ mode: 'fixed', size: 2 }, { budget: { maxPerHour: 35 } }), NOW)).length, 1, '$35/h');
  assert.equal(launches(plan(snap({}, busy(2)), config({ mode: 'fixed', size: 2, maxPerHour: 10 }), NOW)).length, 1, 'warm maxPerHour $10');
});

test('real demand first: no warm launch while a task of its queues is refused', () => {
  const cfg = config({ mode: 'fixed', size: 2 }, { budget: { maxPerHour: 10 } });
  const got = plan(snap({ q1: 2 }), cfg, NOW);
  assert.deepEqual(got.map((a) => a.kind), ['launch', 'refuse']);
  assert.match((got[0] as { reason: string }).reason, /task\(s\) waiting on q1/);
});

test('under a tight budget warm instances are the first to stop', () => {
  const cfg = config({ mode: 'fixed', size: 1 }, { budget: { maxPerHour: 30 } });
  // A q2 task needs $20 of the $30 cap: the kept warm r1 makes room for it.
  const got = plan(snap({ q2: 1 }, [inst('busy', 'r1'), idle('warm', 'r1', 10)]), cfg, NOW);
  assert.deepEqual(got.map((a) => a.kind), ['terminate', 'launch']);
  assert.equal(stops(got)[0]!.instanceId, 'warm');
  assert.equal(stops(got)[0]!.reason, 'budget-reclaim');
  // The cap lowered below what runs: the idle warm one stops at once, the busy ones stay.
  const tight = plan(snap({}, [inst('busy', 'r1'), inst('busy2', 'r1'), idle('warm', 'r1', 10)]), config({ mode: 'fixed', size: 1 }, { budget: { maxPerHour: 25 } }), NOW);
  assert.deepEqual(stops(tight).map((a) => [a.instanceId, a.reason]), [['warm', 'budget-reclaim']]);
  assert.match(stops(tight)[0]!.detail, /budget tightened: \$30\.00\/h running is over the \$\/h cap of \$25\.00/);
  assert.equal(launches(tight).length, 0);
});

test('the forecast: an EWMA of arrivals; a steady rate reads as that rate, a short history is not read as quiet', () => {
  assert.equal(arrivalRate(steady(6), ['q1'], NOW) * 3_600_000, 72);
  const short: ArrivalHistory = { bucketMs: BUCKET, last: 33, counts: { q1: [6, 6] } };
  assert.ok(Math.abs(arrivalRate(short, ['q1'], NOW) * 3_600_000 - 72) < 1e-9);
  assert.equal(arrivalRate(undefined, ['q1'], NOW), 0);
  // A burst an hour ago weighs e^-1 of one now.
  const then: ArrivalHistory = { bucketMs: BUCKET, last: 33, counts: { q1: [...Array(21).fill(0), 12, ...Array(12).fill(0)] } };
  const now: ArrivalHistory = { bucketMs: BUCKET, last: 33, counts: { q1: [...Array(33).fill(0), 12] } };
  assert.ok(arrivalRate(then, ['q1'], NOW) < arrivalRate(now, ['q1'], NOW) / 2);
});

test('auto sizes the pool from the forecast, bounded by its share of the $/h cap, and says so', () => {
  const warm = { mode: 'auto', bootS: 30, budgetShare: 0.05 } as const;
  // 31 arrivals per 5 min = 3.1 in a 30-s boot.
  const got = plan(snap({}, [], steady(31)), config(warm, { budget: { maxPerHour: 400 } }), NOW);
  assert.deepEqual(launches(got).map((a) => a.reason), Array(2).fill(
    'warm pool: keeping 2 ready for r1, expected 3.1 arrivals in the next boot time (bounded by 5 % of the $400.00/h cap)'));
  // No cap: the forecast alone. The k-th instance is kept while it would start ≥ 1 task an hour.
  const free = warmTarget(WarmSchema.parse(warm), 10, 31 / 300_000, 30_000, undefined);
  assert.equal(free.size, 10);
  // Rare arrivals (one a day) keep nothing; none keeps nothing.
  assert.equal(warmTarget(WarmSchema.parse(warm), 10, 1 / 86_400_000, 120_000, undefined).size, 0);
  assert.deepEqual(plan(snap({}, [], steady(0)), config(warm), NOW), []);
  assert.equal(launches(plan(snap({}), config({ ...warm, size: 1 }), NOW)).length, 0, 'no history: no forecast');
});

test('the warm setting is strict: fixed needs a size, unknown keys and modes are refused', () => {
  assert.throws(() => config({ mode: 'fixed' } as WarmInput), /mode fixed needs size/);
  assert.throws(() => config({ mode: 'always' } as unknown as WarmInput), /mode/);
  assert.throws(() => config({ mode: 'auto', sise: 2 } as unknown as WarmInput), /sise/);
});
