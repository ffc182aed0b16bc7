// The warm pool in the replay: the product's plan() keeps instances ready, fed the arrivals the replay
// counts on its clock. Price $3.60/h = $0.001 a second, boot 100 s, idle timeout 50 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppConfigSchema } from '../domain/autoscaler/config.js';
import { runSimulation } from './run.js';
import { parseTrace } from './trace.js';

function cfg(warm?: Record<string, unknown>) {
  return AppConfigSchema.parse({
    name: 'sim',
    provider: { kind: 'simulated' },
    resources: [{ name: 'g', instanceType: 'g5.xlarge', pricePerHour: 3.6, maxInstances: 10, warm }],
    queues: { q: ['g'] },
    timings: { idleTimeoutS: 50, bootTimeoutS: 600, capacityCooldownS: 300 },
    simulation: { bootTime: { distribution: 'fixed', seconds: 100 }, route: [{ queue: 'q', minGpus: 1 }] },
  });
}

const trace = (rows: [number, number][]) =>
  parseTrace(['job_id,submission_time,duration,num_gpu', ...rows.map(([t, d], i) => `j${i},${t},${d},1`)].join('\n'));

test('fixed 1: after the first job, each job finds a ready instance; the pool is paid for while jobs remain', () => {
  const jobs = trace([[0, 500], [2000, 500], [4000, 500]]);
  const off = runSimulation({ jobs, config: cfg() });
  const warm = runSimulation({ jobs, config: cfg({ mode: 'fixed', size: 1 }) });
  assert.deepEqual(off.wait_s, { p50: 100, p95: 100, p99: 100, max: 100 });
  assert.deepEqual(warm.wait_s, { p50: 0, p95: 100, p99: 100, max: 100 });
  // off: three instances of 100 + 500 + 50 s = $1.95. Warm: one more instance from 0 on, the pool kept to
  // the last job's end (4500 s), then stopped with the replay.
  assert.equal(off.cost_usd, 1.95);
  assert.ok(warm.cost_usd > off.cost_usd + 4 && warm.cost_usd < off.cost_usd + 5.5, `${warm.cost_usd}`);
  assert.equal(warm.budget_violations, 0);
});

test('auto: the forecast from the replay\'s own arrivals keeps a pool while jobs keep coming', () => {
  // A 1-minute job every 5 minutes for 4 hours: without a pool each one waits a boot.
  const jobs = trace(Array.from({ length: 48 }, (_, i) => [i * 300, 60] as [number, number]));
  const off = runSimulation({ jobs, config: cfg() });
  const auto = runSimulation({ jobs, config: cfg({ mode: 'auto' }) });
  assert.equal(off.wait_s.p50, 100);
  assert.equal(auto.wait_s.p50, 0);
  assert.ok(auto.cost_usd > off.cost_usd);
  assert.deepEqual(runSimulation({ jobs, config: cfg({ mode: 'auto' }) }).wait_s, auto.wait_s, 'deterministic');
});

test('the frontier: one row per warm setting, then on-demand against spot with fallback at two rates', async () => {
  const { warmFrontier, spotComparison } = await import('./frontier.js');
  const jobs = trace(Array.from({ length: 24 }, (_, i) => [i * 300, 600] as [number, number]));
  const capped = { ...cfg(), budget: { maxPerHour: 100 } };
  const warm = warmFrontier(jobs, capped);
  assert.deepEqual(warm.map((r) => r.setting), ['off', 'fixed 1', 'fixed 2', 'fixed 1 on g', 'auto 2 % of $100/h', 'auto 5 % of $100/h']);
  assert.ok(warm[1]!.result.wait_s.p50 < warm[0]!.result.wait_s.p50);
  const spot = spotComparison(jobs, cfg());
  assert.deepEqual(spot.map((r) => r.setting), ['on-demand', 'spot, band >20%', 'spot, 0.05 / instance-hour']);
  assert.ok(spot[1]!.result.cost_ratio < 0.5 * spot[0]!.result.cost_ratio);
});
