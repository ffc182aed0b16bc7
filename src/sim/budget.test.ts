// The replay models day and month budgets: launches stop when the projection would pass the day's limit, jobs wait
// for the next day, and the result says when each limit was reached and how long jobs waited for it.
// Price $3.60/h = $0.001 a second, boot 100 s, idle timeout 50 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppConfigSchema } from '../domain/autoscaler/config.js';
import { runSimulation } from './run.js';
import { parseTrace } from './trace.js';
import { resultRows } from './format.js';

const config = AppConfigSchema.parse({
  name: 'sim', provider: { kind: 'simulated' },
  resources: [{ name: 'g', instanceType: 'g5.xlarge', pricePerHour: 3.6, maxInstances: 20 }],
  queues: { q: ['g'] }, budget: { maxPerDay: 5 },
  timings: { idleTimeoutS: 50, bootTimeoutS: 600, capacityCooldownS: 300 },
  simulation: { bootTime: { distribution: 'fixed', seconds: 100 }, route: [{ queue: 'q', minGpus: 1, maxGpus: 8 }] },
});

test('a day budget: reached while ten machines run, later jobs wait for the next day, the result says so', () => {
  // 10 jobs of 1000 s at 0: ten machines, $0.01 a second, the $5 reached at 500 s; they drain (finish, then stop).
  // 10 more at 2000 s wait until midnight (86,400 s): about 10 × 84,400 s = 234 job-hours.
  const rows = [...Array(10)].map((_, i) => `a${i},0,1000,1`).concat([...Array(10)].map((_, i) => `b${i},2000,1000,1`));
  const r = runSimulation({ jobs: parseTrace(['job_id,submission_time,duration,num_gpu', ...rows].join('\n')), config });
  assert.equal(r.budget!.reached[0]!.period, 'day');
  assert.equal(r.budget!.reached[0]!.at_s, 500);
  assert.ok(r.budget!.wait_job_hours > 230 && r.budget!.wait_job_hours < 240, `waited ${r.budget!.wait_job_hours} job-hours`);
  assert.ok(r.wait_s.max >= 84_400, `the second batch starts the next day (max wait ${r.wait_s.max} s)`);
  assert.ok(r.launches < 20, "the next day too, launches stop at what its budget allows");
  assert.match(resultRows(r).find((x) => x.figure === 'budget limits reached')!.value, /^day at 500 s/);
});
