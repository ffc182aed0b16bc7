import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppConfigSchema, type AppConfigInput } from './config.js';
import { plan, type InstanceView, type Snapshot } from './policy.js';
import { crossedWarnings, periodBounds, usd } from './budget.js';

const S = 1000;
const H = 3600 * S;
const NOW = Date.UTC(2026, 11, 10, 12, 0, 0);

const config = (budget: AppConfigInput['budget'], idleTimeoutS = 1440) => AppConfigSchema.parse({
  name: 'app', provider: { kind: 'simulated' },
  resources: [{ name: 'gpu', instanceType: 'g5.xlarge', pricePerHour: 25, maxInstances: 10 }],
  queues: { train: ['gpu'] }, budget, timings: { idleTimeoutS, bootTimeoutS: 600, capacityCooldownS: 300 },
});

const busy = (id: string): InstanceView => ({
  id, resource: 'gpu', state: 'ready', offering: { instanceType: 'g5.xlarge', market: 'on-demand' }, launchedAt: NOW - H,
  busy: true, registered: true,
});
const idle = (id: string): InstanceView => ({ ...busy(id), busy: false, idleSince: NOW - 60 * S });

const snap = (waiting: number, instances: InstanceView[], month: number, day = 0): Snapshot => ({
  queues: { train: { waiting } }, instances, capacityFailures: [],
  budget: { spent: { day, month }, expectedTaskMs: 1.2 * H },
});

test('a launch that would pass the month budget is refused with the figures', () => {
  // 4 busy instances commit 25 $/h × (1.2 h expected + 0.4 h idle timeout) = $160; one more for 1.2 h adds $30.
  const actions = plan(snap(1, [busy('a'), busy('b'), busy('c'), busy('d')], 4812), config({ maxPerMonth: 5000 }), NOW);
  assert.deepEqual(actions, [{
    kind: 'refuse', queue: 'train',
    reason: 'month budget: $4,812 of $5,000 spent, $160 committed; a g5.xlarge for the expected 1.2 h would pass it',
  }]);
});

test('launches of one plan count against the budget: the third would pass it', () => {
  // Each launch commits $25 × 1.6 h = $40 for the next one; the first needs $30 of room.
  const actions = plan(snap(3, [], 4900), config({ maxPerMonth: 5000 }), NOW);
  assert.deepEqual(actions.map((a) => a.kind), ['launch', 'launch', 'refuse']);
  assert.match((actions[2] as { reason: string }).reason, /^month budget: \$4,900 of \$5,000 spent, \$80.00 committed/);
});

test('the day budget binds on its own, and no budget is checked without spend figures', () => {
  const cfg = config({ maxPerDay: 100, maxPerMonth: 10_000 });
  const refused = plan(snap(1, [], 50, 90), cfg, NOW);
  assert.match((refused[0] as { reason: string }).reason, /^day budget: \$90.00 of \$100 spent/);
  assert.equal(plan({ ...snap(1, [], 50, 90), budget: undefined }, cfg, NOW)[0]!.kind, 'launch');
});

test('an exhausted budget with onExhausted drain stops idle instances only, and refuses launches', () => {
  const actions = plan(snap(1, [busy('a'), idle('b')], 5000), config({ maxPerMonth: 5000 }), NOW);
  assert.deepEqual(actions, [
    { kind: 'terminate', instanceId: 'b', reason: 'budget-exhausted', detail: 'month budget of $5,000 reached ($5,000 spent); onExhausted: drain stops idle instances' },
    { kind: 'refuse', queue: 'train', reason: 'month budget exhausted: $5,000 of $5,000 spent; no launches until 2027-01-01T00:00:00.000Z' },
  ]);
});

test('an exhausted budget with onExhausted terminate stops every instance, busy ones too', () => {
  const actions = plan(snap(0, [busy('a'), idle('b')], 120, 120), config({ maxPerDay: 100, onExhausted: 'terminate' }), NOW);
  assert.deepEqual(actions.map((a) => a.kind === 'terminate' && [a.instanceId, a.reason]), [['a', 'budget-exhausted'], ['b', 'budget-exhausted']]);
  assert.match((actions[0] as { detail: string }).detail, /day budget of \$100 reached \(\$120 spent\); onExhausted: terminate \(its task goes back/);
});

test('periods are UTC calendar days and months; a billing day moves the month', () => {
  assert.deepEqual(periodBounds('day', NOW), { start: Date.UTC(2026, 11, 10), end: Date.UTC(2026, 11, 11) });
  assert.deepEqual(periodBounds('month', NOW), { start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
  assert.deepEqual(periodBounds('month', NOW, 15), { start: Date.UTC(2026, 10, 15), end: Date.UTC(2026, 11, 15) });
  assert.deepEqual(periodBounds('month', Date.UTC(2026, 0, 3), 5), { start: Date.UTC(2025, 11, 5), end: Date.UTC(2026, 0, 5) });
});

test('warnings: the fractions crossed; money as people write it', () => {
  assert.deepEqual(crossedWarnings([0.5, 0.8, 1], 4100, 5000), [0.5, 0.8]);
  assert.deepEqual(crossedWarnings([0.5, 0.8, 1], 100, 5000), []);
  assert.equal(usd(4812.4), '$4,812');
  assert.equal(usd(0.374), '$0.37');
});
