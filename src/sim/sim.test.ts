// Hand-made traces whose figures are worked out by hand in each test.
// Resource price $3.60/h = $0.001 per second, boot 100 s, idle timeout 50 s, so cost = seconds / 1000.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppConfigSchema, type AppConfigInput } from '../domain/autoscaler/config.js';
import { runSimulation, type PolicyName, type SimResult } from './run.js';
import { parseTrace } from './trace.js';

function cfg(over: Partial<AppConfigInput> = {}, maxInstances = 10) {
  return AppConfigSchema.parse({
    name: 'sim',
    provider: { kind: 'simulated' },
    resources: [{ name: 'g', instanceType: 'g5.xlarge', pricePerHour: 3.6, maxInstances }],
    queues: { q: ['g'] },
    timings: { idleTimeoutS: 50, bootTimeoutS: 600, capacityCooldownS: 300 },
    simulation: { bootTime: { distribution: 'fixed', seconds: 100 }, route: [{ queue: 'q', minGpus: 1, maxGpus: 8 }] },
    ...over,
  });
}

const trace = (rows: [number, number, number?][]) =>
  parseTrace(['job_id,submission_time,duration,num_gpu', ...rows.map(([t, d, g], i) => `j${i},${t},${d},${g ?? 1}`)].join('\n'));

function run(rows: [number, number, number?][], policy: PolicyName = 'flotilla', config = cfg()): Omit<SimResult, 'replay_ms'> {
  const { replay_ms, ...rest } = runSimulation({ jobs: trace(rows), config, policy });
  assert.ok(replay_ms >= 0);
  return rest;
}

const figures = (o: Partial<SimResult>) => ({
  policy: 'flotilla', skipped_jobs: 0, budget_violations: 0, interruptions: 0, on_demand_fallbacks: 0, work_lost_hours: 0, extra_wait_hours: 0, ...o,
});

test('one job: launched at once, boots 100 s, runs 1000 s, stopped 50 s after', () => {
  // instance up 0..1150 s: $1.15; the job's own time 1000 s: $1.00
  assert.deepEqual(run([[0, 1000]]), figures({
    jobs: 1, cost_usd: 1.15, cost_floor_usd: 1, cost_ratio: 1.15,
    wait_s: { p50: 100, p95: 100, p99: 100, max: 100 },
    idle_instance_hours: 0.01, launches: 1, max_instances: 1,
  }));
});

test('two jobs share a warm instance: the second starts at once on it', () => {
  // A 100..1100, idle 20 s, B arrives at 1120 and runs 1120..1620, stopped at 1670: $1.67; floor $1.50
  assert.deepEqual(run([[0, 1000], [1120, 500]]), figures({
    jobs: 2, cost_usd: 1.67, cost_floor_usd: 1.5, cost_ratio: 1.1133,
    wait_s: { p50: 0, p95: 100, p99: 100, max: 100 },
    idle_instance_hours: 0.02, launches: 1, max_instances: 1,
  }));
});

test('a burst against a max of 2: the third job waits for the first free instance', () => {
  // two instances 0..1100 busy; one takes job 3 at 1100 and runs to 2100, stopped 2150; the other stopped 1150
  // cost (2150 + 1150) s = $3.30; waits 100, 100, 1100
  assert.deepEqual(run([[0, 1000], [0, 1000], [0, 1000]], 'flotilla', cfg({}, 2)), figures({
    jobs: 3, cost_usd: 3.3, cost_floor_usd: 3, cost_ratio: 1.1,
    wait_s: { p50: 100, p95: 1100, p99: 1100, max: 1100 },
    idle_instance_hours: 0.03, launches: 2, max_instances: 2,
  }));
});

test('the $/h cap binding: at $7.20/h only two $3.60 instances run, never a third', () => {
  const capped = cfg({ budget: { maxPerHour: 7.2 } });
  assert.deepEqual(run([[0, 1000], [0, 1000], [0, 1000]], 'flotilla', capped), figures({
    jobs: 3, cost_usd: 3.3, cost_floor_usd: 3, cost_ratio: 1.1,
    wait_s: { p50: 100, p95: 1100, p99: 1100, max: 1100 },
    idle_instance_hours: 0.03, launches: 2, max_instances: 2,
  }));
});

test('ClearML baseline, one job: launched at the 5-minute cycle, stopped after 15 idle minutes seen by cycles', () => {
  // cycle at 0 launches; runs 100..1100; first cycle seeing it idle is 1200; stopped at the cycle 2400 (> 900 s idle)
  assert.deepEqual(run([[0, 1000]], 'clearml'), figures({
    policy: 'clearml', jobs: 1, cost_usd: 2.4, cost_floor_usd: 1, cost_ratio: 2.4,
    wait_s: { p50: 100, p95: 100, p99: 100, max: 100 },
    idle_instance_hours: 0.36, launches: 1, max_instances: 1,
  }));
});

test('ClearML baseline: a job arriving between cycles waits for the next cycle, then the boot', () => {
  // arrives at 10, cycle at 300 launches, boots by 400: wait 390
  const r = run([[10, 1000]], 'clearml');
  assert.deepEqual(r.wait_s, { p50: 390, p95: 390, p99: 390, max: 390 });
});

test('jobs that fit no queue are skipped and counted', () => {
  const r = run([[0, 1000, 1], [5, 1000, 16]]);
  assert.equal(r.jobs, 1);
  assert.equal(r.skipped_jobs, 1);
});

// A seeded random trace with random boot times, capacity errors and spot interruptions.
function noisy() {
  const rows: [number, number][] = [];
  let t = 0;
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 300; i++) rows.push([(t += Math.floor(rnd() * 120)), 600 + Math.floor(rnd() * 7200)]);
  const config = cfg({
    resources: [
      { name: 'g', instanceType: 'g5.xlarge', pricePerHour: 3.6, maxInstances: 40, spot: true, zones: ['a', 'b'] },
      { name: 'h', instanceType: 'g5.2xlarge', pricePerHour: 4, maxInstances: 40 },
    ],
    queues: { q: ['g', 'h'] },
    budget: { maxPerHour: 100 },
    simulation: {
      bootTime: { distribution: 'lognormal', seconds: 100, sigma: 0.5 },
      route: [{ queue: 'q', minGpus: 1 }],
      faults: { capacityErrorRate: 0.2, spotInterruptionsPerHour: 0.3, noCapacity: [{ instanceType: 'g5.xlarge', zone: 'a', market: 'spot' }] },
    },
  });
  return { jobs: trace(rows), config, rows };
}

test('same seed, same figures; another seed, other figures', () => {
  const { jobs, config } = noisy();
  const strip = (r: SimResult) => ({ ...r, replay_ms: 0 });
  const a = strip(runSimulation({ jobs, config, seed: 7 }));
  assert.deepEqual(strip(runSimulation({ jobs, config, seed: 7 })), a);
  assert.notDeepEqual(strip(runSimulation({ jobs, config, seed: 8 })), a);
});

test('with capacity errors and spot interruptions every job still runs to the end, inside the budget', () => {
  const { jobs, config, rows } = noisy();
  for (const policy of ['flotilla', 'clearml'] as const) {
    const r = runSimulation({ jobs, config, policy, seed: 3 });
    assert.equal(r.jobs, 300);
    assert.equal(r.budget_violations, 0, policy);
    // interrupted jobs run again, but the floor counts each job's own duration once (g and h both used)
    assert.ok(r.cost_floor_usd >= rows.reduce((s, [, d]) => s + d, 0) / 1000 - 0.01, policy);
    assert.ok(r.cost_usd > r.cost_floor_usd, policy);
  }
});

test('a resource that never has capacity: the replay still ends, and the jobs count their wait to its end', () => {
  const config = cfg({
    simulation: {
      bootTime: { distribution: 'fixed', seconds: 100 },
      route: [{ queue: 'q', minGpus: 1 }],
      faults: { capacityErrorRate: 0, spotInterruptionsPerHour: 0, noCapacity: [{ instanceType: 'g5.xlarge' }] },
    },
  });
  for (const policy of ['flotilla', 'clearml'] as const) {
    const r = run([[0, 1000]], policy, config);
    assert.equal(r.launches, 0);
    assert.equal(r.cost_usd, 0);
    assert.ok(r.wait_s.max >= 7 * 86_400, `${policy} waited ${r.wait_s.max}`);
  }
});
