import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcile, reconcileSync, type LaunchAction, type LaunchOutcome } from './act-loop.js';
import type { Action } from '../domain/autoscaler/policy.js';

const at = (zone: string) => ({ instanceType: 'g5', zone, market: 'spot' as const });
const launch = (zone: string): LaunchAction => ({ kind: 'launch', resource: 'r', offering: at(zone), queue: 'q', reason: 'r' });

/** A planner that puts every launch on the first zone not known dead, like the policy's cool-down. */
function world(deadZones: string[], want = 3) {
  const dead = new Set<string>();
  const calls: string[] = [];
  let up = 0;
  const planNow = (): Action[] => {
    const zone = ['a', 'b', 'c'].find((z) => !dead.has(z))!;
    return Array.from({ length: want - up }, () => launch(zone));
  };
  const act = (a: LaunchAction): LaunchOutcome => {
    calls.push(a.offering.zone!);
    if (deadZones.includes(a.offering.zone!)) {
      dead.add(a.offering.zone!);
      return 'capacity-error';
    }
    up++;
    return 'launched';
  };
  return { planNow, act, calls };
}

test('sync: three launches on a dead zone make one call there, then the re-plan falls back', () => {
  const w = world(['a']);
  const sum = reconcileSync(w.planNow, { launch: w.act, terminate: () => {} });
  assert.deepEqual(w.calls, ['a', 'b', 'b', 'b']);
  assert.deepEqual(sum, { passes: 2, launched: 3, capacityErrors: 1, failed: 0, held: 2 });
});

test('async: the same steps; launches on different offerings go as one probe each first', async () => {
  const w = world(['a', 'b']);
  const sum = await reconcile(async () => w.planNow(), { launch: async (a) => w.act(a), terminate: async () => {} });
  assert.deepEqual(w.calls, ['a', 'b', 'c', 'c', 'c']);
  assert.equal(sum.capacityErrors, 2);
  const mixed: string[] = [];
  await reconcile(() => [launch('a'), launch('a'), launch('b')], {
    launch: async (a) => (mixed.push(a.offering.zone!), 'launched'), terminate: async () => {},
  });
  assert.deepEqual(mixed, ['a', 'b', 'a'], 'probe a and b, then the rest of a');
});

test('terminations go before launches; a pass without a capacity error is the last', () => {
  const order: string[] = [];
  const sum = reconcileSync(() => [launch('a'), { kind: 'terminate', instanceId: 'i-1', reason: 'budget-reclaim', detail: '' }], {
    launch: () => (order.push('launch'), 'launched'), terminate: () => void order.push('terminate'),
  });
  assert.deepEqual(order, ['terminate', 'launch']);
  assert.equal(sum.passes, 1);
});

test('a capacity error on every pass stops after maxPasses', () => {
  let plans = 0;
  const sum = reconcileSync(() => (plans++, [launch('a')]), { launch: () => 'capacity-error', terminate: () => {} }, 3);
  assert.equal(plans, 3);
  assert.equal(sum.passes, 3);
});
