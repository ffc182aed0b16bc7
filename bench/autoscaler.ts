// npm run bench (part 2) — how fast the autoscaler reacts: from a task's enqueue to the launch call,
// and from the enqueue to the task running on a fresh local worker. Prints figures; not a test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../src/server/main.js';
import { FlotillaClient } from '../src/client/index.js';
import { table } from '../src/cli/output.js';
import type { ComputeProvider, LaunchRequest } from '../src/autoscaler/providers/types.js';
import { PROVIDERS, localProvider } from '../src/autoscaler/providers/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);

/** The local provider, timing each launch call. */
function timed(inner: ComputeProvider, launches: number[]): ComputeProvider {
  return {
    kind: inner.kind,
    launch: (req: LaunchRequest) => { launches.push(performance.now()); return inner.launch(req); },
    terminate: (ids) => inner.terminate(ids),
    list: (app) => inner.list(app),
  };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-as-'));
  const launches: number[] = [];
  const cp = await startControlPlane({
    dataDir: dir, port: 0, logLevel: 'silent', stopLocalWorkersOnClose: true,
    autoscaler: { providers: PROVIDERS.with({ ...localProvider, create: async (cfg, ctx) => timed(await localProvider.create(cfg, ctx), launches) }) },
  });
  const c = new FlotillaClient(cp.url, cp.adminToken!);
  await c.request('PUT', '/api/v1/autoscalers/bench', {
    name: 'bench', provider: { kind: 'local' },
    resources: [{ name: 'cpu', instanceType: 'local-process', pricePerHour: 0, maxInstances: 1 }],
    queues: { bench: ['cpu'] }, timings: { idleTimeoutS: 0, bootTimeoutS: 60, capacityCooldownS: 60 },
  });
  const toLaunch: number[] = [];
  const toStart: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Wait until the previous worker is gone, so every round starts a fresh one.
    while ((await c.request<{ instances: unknown[] }>('GET', '/api/v1/autoscalers/bench/status')).instances.length)
      await new Promise((r) => setTimeout(r, 20));
    const before = launches.length;
    const t0 = performance.now();
    const task = await c.createTask({ queue: 'bench', command: 'true' });
    while (launches.length === before) await new Promise((r) => setTimeout(r, 1));
    toLaunch.push(launches[before] - t0);
    while ((await c.getTask(task.id)).startedAt === null) await new Promise((r) => setTimeout(r, 5));
    toStart.push(performance.now() - t0);
    process.stderr.write(`\rround ${i + 1}/${ROUNDS}`);
  }
  process.stderr.write('\n');
  await cp.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(table([
    { what: 'enqueue -> launch call', p50: ms(pct(toLaunch, 50)), p99: ms(pct(toLaunch, 99)), max: ms(Math.max(...toLaunch)) },
    { what: 'enqueue -> running on a new local worker', p50: ms(pct(toStart, 50)), p99: ms(pct(toStart, 99)), max: ms(Math.max(...toStart)) },
  ], [
    { header: 'AUTOSCALER REACTION', value: (r) => r.what }, { header: 'P50', value: (r) => r.p50 },
    { header: 'P99', value: (r) => r.p99 }, { header: 'MAX', value: (r) => r.max },
  ]));
  console.log(`(${ROUNDS} rounds, SQLite, idle timeout 0 so each round launches a fresh worker process)`);
}

await main();
