// Spot in the replay: priced as a fraction of on-demand, interrupted at a seeded rate, work lost since the
// last checkpoint, and the interrupted offering cooling down so the next launch falls back to on-demand.
// Price $3.60/h = $0.001 a second on demand, boot 100 s, idle timeout 50 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppConfigSchema } from '../domain/autoscaler/config.js';
import { bandRatePerHour } from '../domain/autoscaler/spot-model.js';
import { runSimulation, type SimResult } from './run.js';
import { parseTrace } from './trace.js';

function cfg(spot: Record<string, unknown>, onDemandFallback = true) {
  return AppConfigSchema.parse({
    name: 'sim',
    provider: { kind: 'simulated' },
    resources: [{ name: 'g', instanceType: 'g5.xlarge', pricePerHour: 3.6, maxInstances: 50, spot: true, onDemandFallback }],
    queues: { q: ['g'] },
    timings: { idleTimeoutS: 50, bootTimeoutS: 600, capacityCooldownS: 300 },
    simulation: { bootTime: { distribution: 'fixed', seconds: 100 }, route: [{ queue: 'q', minGpus: 1 }], spot: { g: spot } },
  });
}

/** n jobs of `hours` each, one every 10 minutes. */
const jobs = (n: number, hours: number) =>
  parseTrace(['job_id,submission_time,duration,num_gpu', ...Array.from({ length: n }, (_, i) => `j${i},${i * 600},${hours * 3600},1`)].join('\n'));
const strip = (r: SimResult) => ({ ...r, replay_ms: 0 });

test('the Advisor bands convert to a rate per instance-hour: a month-long instance is reclaimed with the band\'s chance', () => {
  assert.ok(Math.abs(1 - Math.exp(-bandRatePerHour('5-10%') * 730) - 0.075) < 1e-12);
  assert.ok(bandRatePerHour('<5%') < bandRatePerHour('>20%'));
});

test('same seed, same interruptions; another seed, others', () => {
  const config = cfg({ priceFraction: 0.3, interruptionsPerHour: 0.5, checkpointIntervalS: 600 });
  const a = strip(runSimulation({ jobs: jobs(16, 3), config, seed: 5 }));
  assert.ok(a.interruptions > 10, `${a.interruptions} interruptions`);
  assert.deepEqual(strip(runSimulation({ jobs: jobs(16, 3), config, seed: 5 })), a);
  assert.notDeepEqual(strip(runSimulation({ jobs: jobs(16, 3), config, seed: 6 })), a);
});

test('an interruption loses the work since the last checkpoint, and the job runs that again', () => {
  const run = (checkpointIntervalS: number) =>
    runSimulation({ jobs: jobs(16, 3), config: cfg({ priceFraction: 0.3, interruptionsPerHour: 0.5, checkpointIntervalS }), seed: 5 });
  const none = run(0);
  const often = run(600);
  for (const r of [none, often]) {
    assert.ok(r.work_lost_hours > 0 && r.extra_wait_hours > 0);
    assert.equal(r.cost_floor_usd, 16 * 3 * 3.6, 'the floor is each job once, at the on-demand price');
  }
  // Every 10 min a checkpoint: at most 10 min lost per interruption; none: whole runs lost, far more.
  assert.ok(often.work_lost_hours <= often.interruptions / 6 + 1e-9, `${often.work_lost_hours} h over ${often.interruptions}`);
  assert.ok(none.work_lost_hours > 2 * often.work_lost_hours);
});

test('after an interruption the spot offering cools down and the next launch falls back to on-demand', () => {
  const r = runSimulation({ jobs: jobs(1, 10), config: cfg({ priceFraction: 0.3, interruptionsPerHour: 0.5 }), seed: 1 });
  assert.ok(r.interruptions >= 1);
  assert.ok(r.on_demand_fallbacks >= 1, 'relaunched on demand');
  // The job waits one boot again (100 s), not the cool-down: the fallback is launched at once.
  assert.equal(r.extra_wait_hours, Math.round((r.interruptions * 100) / 36) / 100);
  // Without the fallback it waits for the spot offering's cool-down (300 s) before a new spot launch.
  const stuck = runSimulation({ jobs: jobs(1, 10), config: cfg({ priceFraction: 0.3, interruptionsPerHour: 0.5 }, false), seed: 1 });
  assert.equal(stuck.on_demand_fallbacks, 0);
  assert.ok(stuck.interruptions >= 1);
  const perInterruption = (x: SimResult) => (x.extra_wait_hours * 3600) / x.interruptions;
  assert.ok(perInterruption(stuck) >= 300 && perInterruption(r) < 200, `${perInterruption(stuck)} s against ${perInterruption(r)} s`);
});

test('spot at a low rate costs its price fraction of the on-demand floor, plus boots and idle', () => {
  const r = runSimulation({ jobs: jobs(20, 2), config: cfg({ priceFraction: 0.3 }), seed: 1 }); // band <5%: ~0.00003 / h
  assert.equal(r.interruptions, 0);
  assert.ok(r.cost_ratio > 0.3 && r.cost_ratio < 0.32, `ratio ${r.cost_ratio}`);
});
