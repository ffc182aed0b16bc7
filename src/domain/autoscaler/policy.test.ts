import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppConfigSchema, type AppConfig, type AppConfigInput } from './config.js';
import { plan, type Action, type InstanceView, type Snapshot } from './policy.js';
import type { Offering } from './offering.js';

const S = 1000;
const NOW = 10_000 * S;

function config(over: Partial<AppConfigInput> = {}): AppConfig {
  return AppConfigSchema.parse({
    name: 'app',
    provider: { kind: 'simulated' },
    resources: [
      { name: 'r1', instanceType: 't1', pricePerHour: 10, maxInstances: 5 },
      { name: 'r2', instanceType: 't2', pricePerHour: 20, maxInstances: 5 },
    ],
    queues: { q1: ['r1'], q2: ['r2'] },
    timings: { idleTimeoutS: 120, bootTimeoutS: 600, capacityCooldownS: 300 },
    ...over,
  });
}

function inst(id: string, resource: string, over: Partial<InstanceView> = {}): InstanceView {
  const type = resource === 'r1' ? 't1' : resource === 'r2' ? 't2' : 'tx';
  return {
    id, resource, state: 'ready', offering: { instanceType: type, market: 'on-demand' }, launchedAt: NOW - 3600 * S,
    busy: true, registered: true, ...over,
  };
}
const idle = (id: string, resource: string, idleForS: number) => inst(id, resource, { busy: false, idleSince: NOW - idleForS * S });
const booting = (id: string, resource: string, ageS = 30) =>
  inst(id, resource, { state: 'booting', registered: false, busy: false, launchedAt: NOW - ageS * S });

function snap(waiting: Record<string, number | [number, number]>, instances: InstanceView[] = [], capacityFailures: Snapshot['capacityFailures'] = []): Snapshot {
  const queues: Snapshot['queues'] = Object.fromEntries(
    Object.entries(waiting).map(([q, w]) => [q, Array.isArray(w) ? { waiting: w[0], oldestAt: w[1] } : { waiting: w }]),
  );
  return { queues, instances, capacityFailures };
}

const od = (instanceType: string, zone?: string) => (zone ? { instanceType, zone, market: 'on-demand' as const } : { instanceType, market: 'on-demand' as const });
const spot = (instanceType: string, zone: string) => ({ instanceType, zone, market: 'spot' as const });
const launch = (resource: string, queue: string, reason: string, offering: Offering = od(resource === 'r1' ? 't1' : 't2')): Action => ({ kind: 'launch', resource, offering, queue, reason });

interface Case {
  name: string;
  cfg?: Partial<AppConfigInput>;
  snap: Snapshot;
  want: Action[];
}

const launching: Case[] = [
  { name: 'nothing waiting, nothing running: nothing to do', snap: snap({}), want: [] },
  {
    name: 'three tasks wait, nothing up: three launches',
    snap: snap({ q1: 3 }),
    want: [launch('r1', 'q1', '3 task(s) waiting on q1'), launch('r1', 'q1', '2 task(s) waiting on q1'), launch('r1', 'q1', '1 task(s) waiting on q1')],
  },
  {
    name: 'idle workers and booting instances are counted before launching',
    snap: snap({ q1: 3 }, [idle('i-idle', 'r1', 5), booting('i-boot', 'r1')]),
    want: [{ kind: 'wait', queue: 'q1', reason: 'waiting for instance i-boot to boot' }, launch('r1', 'q1', '1 task(s) waiting on q1')],
  },
  {
    name: 'all waiting tasks covered by a booting instance: only a wait note',
    snap: snap({ q1: 1 }, [booting('i-boot', 'r1')]),
    want: [{ kind: 'wait', queue: 'q1', reason: 'waiting for instance i-boot to boot' }],
  },
  {
    name: 'a resource shared by two queues is one pool: no double launch',
    cfg: { queues: { qa: ['r1'], qb: ['r1'] } },
    snap: snap({ qa: 1, qb: 1 }, [booting('i-boot', 'r1')]),
    want: [{ kind: 'wait', queue: 'qa', reason: 'waiting for instance i-boot to boot' }, launch('r1', 'qb', '1 task(s) waiting on qb')],
  },
  {
    name: 'busy instances are not free capacity',
    snap: snap({ q1: 1 }, [inst('i-busy', 'r1')]),
    want: [launch('r1', 'q1', '1 task(s) waiting on q1')],
  },
];

const limits: Case[] = [
  {
    name: 'per-resource max holds',
    cfg: { resources: [{ name: 'r1', instanceType: 't1', pricePerHour: 10, maxInstances: 2 }], queues: { q1: ['r1'] } },
    snap: snap({ q1: 3 }, [inst('a', 'r1'), inst('b', 'r1')]),
    want: [{ kind: 'refuse', queue: 'q1', reason: 'r1 at its max of 2' }],
  },
  {
    name: 'a full first resource falls back to the next in the queue list',
    cfg: { queues: { q1: ['r1', 'r2'] }, resources: [{ name: 'r1', instanceType: 't1', pricePerHour: 10, maxInstances: 1 }, { name: 'r2', instanceType: 't2', pricePerHour: 20, maxInstances: 5 }] },
    snap: snap({ q1: 1 }, [inst('a', 'r1')]),
    want: [launch('r2', 'q1', '1 task(s) waiting on q1; r1 at its max of 1; next: r2')],
  },
  {
    name: 'app-wide max holds',
    cfg: { budget: { maxInstances: 2 } },
    snap: snap({ q1: 2 }, [inst('a', 'r1')]),
    want: [launch('r1', 'q1', '2 task(s) waiting on q1'), { kind: 'refuse', queue: 'q1', reason: 'app at its max of 2 instances' }],
  },
  {
    name: '$/h cap counts requested, booting and ready instances',
    cfg: { budget: { maxPerHour: 45 } },
    snap: snap({ q1: 1 }, [inst('a', 'r1'), inst('b', 'r1', { state: 'requested', registered: false, busy: false, launchedAt: NOW }), inst('c', 'r2', { busy: true })]),
    want: [{ kind: 'wait', queue: 'q1', reason: 'waiting for instance b to boot' }],
  },
  {
    name: '$/h cap refuses the launch that would cross it',
    cfg: { budget: { maxPerHour: 45 } },
    snap: snap({ q1: 2 }, [inst('a', 'r1'), inst('c', 'r2')]),
    want: [launch('r1', 'q1', '2 task(s) waiting on q1'), { kind: 'refuse', queue: 'q1', reason: '$/h cap: 2 × $10.00 + 1 × $20.00 running = $40.00 of $45.00; one more r1 adds $10.00' }],
  },
  {
    name: 'terminating instances no longer count against the cap',
    cfg: { budget: { maxPerHour: 10 } },
    snap: snap({ q1: 1 }, [inst('a', 'r2', { state: 'terminating', busy: false })]),
    want: [launch('r1', 'q1', '1 task(s) waiting on q1')],
  },
  {
    name: 'under the cap, an idle instance nobody waits for is stopped to make room',
    cfg: { budget: { maxPerHour: 25 } },
    snap: snap({ q1: 1 }, [inst('a', 'r1'), idle('b', 'r2', 5)]),
    want: [
      { kind: 'terminate', instanceId: 'b', reason: 'budget-reclaim', detail: 'idle and no waiting task can use it; its budget goes to a waiting task ($/h cap of $25.00 reached)' },
      launch('r1', 'q1', '1 task(s) waiting on q1'),
    ],
  },
  {
    name: 'the queue with the oldest waiting task gets the budget first; younger queues wait behind it',
    cfg: { budget: { maxPerHour: 30 } },
    snap: snap({ q1: [1, 500], q2: [2, 100] }),
    want: [
      launch('r2', 'q2', '2 task(s) waiting on q2'),
      { kind: 'refuse', queue: 'q2', reason: '$/h cap: 1 × $20.00 running = $20.00 of $30.00; one more r2 adds $20.00' },
      { kind: 'refuse', queue: 'q1', reason: 'older tasks of other queues wait for the budget first' },
    ],
  },
];

const stopping: Case[] = [
  { name: 'a busy instance is never stopped', snap: snap({}, [inst('a', 'r1', { idleSince: NOW - 99_999 * S })]), want: [] },
  { name: 'idle shorter than the timeout: kept', snap: snap({}, [idle('a', 'r1', 119)]), want: [] },
  {
    name: 'idle for the timeout: stopped',
    snap: snap({}, [idle('a', 'r1', 120)]),
    want: [{ kind: 'terminate', instanceId: 'a', reason: 'idle', detail: 'idle for 120 s (idle timeout 120 s)' }],
  },
  {
    name: 'idle long but a waiting task could use it: kept (and counted)',
    snap: snap({ q1: 1 }, [idle('a', 'r1', 9999)]),
    want: [],
  },
  {
    name: 'worker not registered within the boot timeout: terminated, and replaced for the waiting task',
    snap: snap({ q1: 1 }, [booting('slow', 'r1', 600)]),
    want: [
      { kind: 'terminate', instanceId: 'slow', reason: 'boot-timeout', detail: 'worker did not register within the boot timeout of 600 s' },
      launch('r1', 'q1', '1 task(s) waiting on q1'),
    ],
  },
  { name: 'still inside the boot timeout: left to boot', snap: snap({}, [booting('b', 'r1', 599)]), want: [] },
];

const spotCfg: Partial<AppConfigInput> = {
  resources: [
    { name: 'r1', instanceType: 'p4d', pricePerHour: 10, maxInstances: 5, spot: true, zones: ['za', 'zb'] },
    { name: 'r2', instanceType: 't2', pricePerHour: 20, maxInstances: 5 },
  ],
  queues: { q1: ['r1', 'r2'] },
};
const failedAt = (o: Offering, agoS: number) => ({ offering: o, at: NOW - agoS * S });

const capacity: Case[] = [
  {
    name: 'no capacity errors: first zone, spot',
    cfg: spotCfg,
    snap: snap({ q1: 1 }),
    want: [launch('r1', 'q1', '1 task(s) waiting on q1', spot('p4d', 'za'))],
  },
  {
    name: 'capacity error in the first zone: next zone',
    cfg: spotCfg,
    snap: snap({ q1: 1 }, [], [failedAt(spot('p4d', 'za'), 10)]),
    want: [launch('r1', 'q1', '1 task(s) waiting on q1; capacity error for p4d in za (spot); next: p4d in zb (spot)', spot('p4d', 'zb'))],
  },
  {
    name: 'no spot in any zone: on-demand',
    cfg: spotCfg,
    snap: snap({ q1: 1 }, [], [failedAt(spot('p4d', 'za'), 10), failedAt(spot('p4d', 'zb'), 10)]),
    want: [launch('r1', 'q1', '1 task(s) waiting on q1; capacity error for p4d in za (spot), p4d in zb (spot); next: p4d in za (on-demand)', od('p4d', 'za'))],
  },
  {
    name: 'every offering of the first resource cooling down: the next resource in the list',
    cfg: spotCfg,
    snap: snap({ q1: 1 }, [], ['za', 'zb'].flatMap((z) => [failedAt(spot('p4d', z), 10), failedAt(od('p4d', z), 10)])),
    want: [launch('r2', 'q1', '1 task(s) waiting on q1; every offering of p4d had a capacity error; capacity cool-down until 1970-01-01T02:51:30.000Z; next: r2')],
  },
  {
    name: 'a capacity error older than the cool-down is forgotten',
    cfg: spotCfg,
    snap: snap({ q1: 1 }, [], [failedAt(spot('p4d', 'za'), 300)]),
    want: [launch('r1', 'q1', '1 task(s) waiting on q1', spot('p4d', 'za'))],
  },
];

// What the journal says must be what happened (issue 12, fault 5).
const smallLarge: Partial<AppConfigInput> = {
  resources: [
    { name: 'small', instanceType: 't3.small', pricePerHour: 1.5, maxInstances: 2 },
    { name: 'large', instanceType: 't3.large', pricePerHour: 4, maxInstances: 5 },
  ],
  queues: { q1: ['small'], q2: ['small', 'large'] },
  budget: { maxPerHour: 3 },
};
const truth: Case[] = [
  {
    name: 'a registered worker that exited is "worker exited", not a boot timeout (idle timeout = boot timeout)',
    cfg: { timings: { idleTimeoutS: 60, bootTimeoutS: 60, capacityCooldownS: 300 } },
    snap: snap({}, [inst('a', 'r1', { registered: false, busy: false, workerGone: 'exited' })]),
    want: [{ kind: 'terminate', instanceId: 'a', reason: 'worker-exited', detail: 'its worker exited (signed off); nothing runs there any more' }],
  },
  {
    name: 'a registered worker that went offline is "worker lost", even before the boot timeout',
    snap: snap({}, [inst('a', 'r1', { registered: false, busy: false, workerGone: 'lost', launchedAt: NOW - 30 * S })]),
    want: [{ kind: 'terminate', instanceId: 'a', reason: 'worker-lost', detail: 'its worker was lost (went offline: no heartbeat)' }],
  },
  {
    name: 'a worker that never registered is a boot timeout',
    cfg: { timings: { idleTimeoutS: 60, bootTimeoutS: 60, capacityCooldownS: 300 } },
    snap: snap({}, [booting('a', 'r1', 61)]),
    want: [{ kind: 'terminate', instanceId: 'a', reason: 'boot-timeout', detail: 'worker did not register within the boot timeout of 60 s' }],
  },
  {
    name: 'resource max and $/h cap both hold the task: the cap is named, with its figures',
    cfg: smallLarge,
    snap: snap({ q1: 1 }, [inst('a', 'small'), inst('b', 'small')]),
    want: [{ kind: 'refuse', queue: 'q1', reason: '$/h cap: 2 × $1.50 running = $3.00 of $3.00; small at its max of 2' }],
  },
  {
    name: 'the first resource at its max, the next one over the cap: both limits are named',
    cfg: { ...smallLarge, budget: { maxPerHour: 5 } },
    snap: snap({ q2: 1 }, [inst('a', 'small'), inst('b', 'small')]),
    want: [{ kind: 'refuse', queue: 'q2', reason: '$/h cap: 2 × $1.50 running = $3.00 of $5.00; one more large adds $4.00; small at its max of 2' }],
  },
  {
    name: 'capacity cool-down names when it ends',
    cfg: { resources: [{ name: 'r1', instanceType: 't1', pricePerHour: 10, maxInstances: 5 }], queues: { q1: ['r1'] } },
    snap: snap({ q1: 1 }, [], [{ offering: od('t1'), at: Date.UTC(2025, 0, 1, 12, 0, 0) }]),
    want: [{ kind: 'refuse', queue: 'q1', reason: 'every offering of t1 had a capacity error; capacity cool-down until 2025-01-01T12:05:00.000Z' }],
  },
];

for (const [group, cases] of Object.entries({ launching, limits, stopping, capacity }))
  for (const c of cases)
    test(`plan ${group}: ${c.name}`, () => {
      assert.deepEqual(plan(c.snap, config(c.cfg), NOW), c.want);
    });

for (const c of truth)
  test(`plan journal truth: ${c.name}`, () => {
    const now = c.name.startsWith('capacity cool-down') ? Date.UTC(2025, 0, 1, 12, 1, 0) : NOW;
    assert.deepEqual(plan(c.snap, config(c.cfg), now), c.want);
  });

test('plan is pure: same input, same output, input untouched', () => {
  const s = snap({ q1: 2, q2: 1 }, [idle('a', 'r1', 500), booting('b', 'r2')]);
  const before = JSON.stringify(s);
  const cfg = config({ budget: { maxPerHour: 30 } });
  assert.deepEqual(plan(s, cfg, NOW), plan(s, cfg, NOW));
  assert.equal(JSON.stringify(s), before);
});
