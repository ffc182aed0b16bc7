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
    want: [launch('r2', 'q1', '1 task(s) waiting on q1; r1 at its max of 1, trying r2')],
  },
  {
    name: 'app-wide max holds',
    cfg: { budget: { maxInstances: 2 } },
    snap: snap({ q1: 2 }, [inst('a', 'r1')]),
    want: [launch('r1', 'q1', '2 task(s) waiting on q1'), { kind: 'refuse', queue: 'q1', reason: 'app at its max of 2 instances' }],
  },
  {
    name: '$/h cap counts requested, booting, ready and draining instances',
    cfg: { budget: { maxPerHour: 45 } },
    snap: snap({ q1: 1 }, [inst('a', 'r1', { state: 'draining' }), inst('b', 'r1', { state: 'requested', registered: false, busy: false, launchedAt: NOW }), inst('c', 'r2', { busy: true })]),
    want: [{ kind: 'wait', queue: 'q1', reason: 'waiting for instance b to boot' }],
  },
  {
    name: '$/h cap refuses the launch that would cross it',
    cfg: { budget: { maxPerHour: 45 } },
    snap: snap({ q1: 2 }, [inst('a', 'r1', { state: 'draining' }), inst('c', 'r2')]),
    want: [launch('r1', 'q1', '2 task(s) waiting on q1'), { kind: 'refuse', queue: 'q1', reason: '$/h cap of 45 reached' }],
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
      { kind: 'terminate', instanceId: 'b', reason: 'budget-reclaim', detail: 'idle and no waiting task can use it; its budget goes to a waiting task ($/h cap of 25 reached)' },
      launch('r1', 'q1', '1 task(s) waiting on q1'),
    ],
  },
  {
    name: 'the queue with the oldest waiting task gets the budget first; younger queues wait behind it',
    cfg: { budget: { maxPerHour: 30 } },
    snap: snap({ q1: [1, 500], q2: [2, 100] }),
    want: [
      launch('r2', 'q2', '2 task(s) waiting on q2'),
      { kind: 'refuse', queue: 'q2', reason: '$/h cap of 30 reached' },
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
    want: [launch('r1', 'q1', '1 task(s) waiting on q1; capacity error for p4d in za (spot), trying p4d in zb (spot)', spot('p4d', 'zb'))],
  },
  {
    name: 'no spot in any zone: on-demand',
    cfg: spotCfg,
    snap: snap({ q1: 1 }, [], [failedAt(spot('p4d', 'za'), 10), failedAt(spot('p4d', 'zb'), 10)]),
    want: [launch('r1', 'q1', '1 task(s) waiting on q1; capacity error for p4d in za (spot), trying p4d in za', od('p4d', 'za'))],
  },
  {
    name: 'every offering of the first resource cooling down: the next resource in the list',
    cfg: spotCfg,
    snap: snap({ q1: 1 }, [], ['za', 'zb'].flatMap((z) => [failedAt(spot('p4d', z), 10), failedAt(od('p4d', z), 10)])),
    want: [launch('r2', 'q1', '1 task(s) waiting on q1; every offering of p4d had a capacity error (cool-down 300 s), trying r2')],
  },
  {
    name: 'a capacity error older than the cool-down is forgotten',
    cfg: spotCfg,
    snap: snap({ q1: 1 }, [], [failedAt(spot('p4d', 'za'), 300)]),
    want: [launch('r1', 'q1', '1 task(s) waiting on q1', spot('p4d', 'za'))],
  },
];

for (const [group, cases] of Object.entries({ launching, limits, stopping, capacity }))
  for (const c of cases)
    test(`plan ${group}: ${c.name}`, () => {
      assert.deepEqual(plan(c.snap, config(c.cfg), NOW), c.want);
    });

test('plan is pure: same input, same output, input untouched', () => {
  const s = snap({ q1: 2, q2: 1 }, [idle('a', 'r1', 500), booting('b', 'r2')]);
  const before = JSON.stringify(s);
  const cfg = config({ budget: { maxPerHour: 30 } });
  assert.deepEqual(plan(s, cfg, NOW), plan(s, cfg, NOW));
  assert.equal(JSON.stringify(s), before);
});
