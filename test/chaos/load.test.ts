// The load benchmark (bench/load.ts, npm run bench:load) at a small size: it runs, every probe is answered,
// and it prints its figures. Speed targets live in the benchmark's printed figures, not here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printLoad, runLoad } from '../../bench/load.js';

test('the load benchmark runs at a small size: agents long-poll, probes are answered', async () => {
  const f = await runLoad({ dialect: 'sqlite', agents: 20, tasks: 2000, seconds: 3, burst: 20 });
  printLoad(f);
  assert.ok(f.healthz.n > 10 && f.create.n > 5, 'the probes ran');
  assert.equal(f.errors, 0, 'no request failed');
  assert.ok(f.burstCreates >= 20, 'the bursts were enqueued');
});
