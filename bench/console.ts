// Benchmark for the web console's reads (issue 14): the overview and a deep page of tasks, with 10,000 tasks,
// 1,000 instances and 100 queues in the store (10 apps of 10 queues). Prints figures; not a test.
// `node dist/bench/console.js` (SQLite); BENCH_PG=postgres://… for PostgreSQL (the database must exist and be empty).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Store } from '../src/store/index.js';
import { AppConfigSchema } from '../src/domain/autoscaler/config.js';
import { overview } from '../src/server/overview.js';
import { table } from '../src/cli/output.js';

const QUEUES = 100;
const APPS = 10;
const TASKS = 10_000;
const INSTANCES = 1_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);

async function seed(store: Store, now: number) {
  const queues = Array.from({ length: QUEUES }, (_, i) => `q${String(i).padStart(3, '0')}`);
  for (const q of queues) await store.queues.create(q, now);
  for (let a = 0; a < APPS; a++) {
    await store.apps.put(AppConfigSchema.parse({
      name: `app${a}`, provider: { kind: 'simulated' },
      resources: [{ name: 'gpu', instanceType: 'g5.xlarge', pricePerHour: 1.0, maxInstances: 200 }],
      queues: Object.fromEntries(queues.slice(a * 10, a * 10 + 10).map((q) => [q, ['gpu']])),
      budget: { maxPerHour: 150 },
    }), now);
  }
  const tasks = Array.from({ length: TASKS }, (_, i) => ({ queue: queues[i % QUEUES], command: `echo ${i}`, env: {}, priority: 0, maxAttempts: 3 }));
  for (let i = 0; i < tasks.length; i += 1000) await store.tasks.createMany(tasks.slice(i, i + 1000), 'bench', now - 2 * 3_600_000);
  // Half of them ran: started in the last hour after a wait, most of those ended.
  const ids = (await store.kysely.selectFrom('tasks').select('id').execute()).map((r) => r.id);
  for (let i = 0; i < ids.length / 2; i += 500) {
    const chunk = ids.slice(i, i + 500);
    await store.kysely.updateTable('tasks').set((eb) => ({ status: 'completed', queued_at: now - 3_000_000, started_at: eb('queued_at', '+', 0) }))
      .where('id', 'in', chunk).execute();
    await store.kysely.updateTable('tasks').set({ started_at: now - 3_000_000 + (i % 600) * 1000, ended_at: now - 60_000 }).where('id', 'in', chunk).execute();
  }
  for (let n = 0; n < INSTANCES; n++) {
    const app = `app${n % APPS}`;
    await store.instances.create({ id: `${app}-i${n}`, app, resource: 'gpu', offering: { instanceType: 'g5.xlarge', market: 'on-demand' }, pricePerHour: 1.0, launchedAt: now - (n % 48) * 3_600_000 });
  }
  await store.kysely.updateTable('instances').set({ state: 'ready' }).where('id', 'like', '%0').execute();
  await store.kysely.updateTable('instances').set({ state: 'terminated', ended_at: now - 600_000 }).where('id', 'like', '%5').execute();
}

/** Wall time, and this process's CPU time (what the wall time would be on an idle machine, for SQLite). */
async function time(rounds: number, fn: () => Promise<unknown>) {
  const xs: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    xs.push(performance.now() - t0);
    cpus.push((c.user + c.system) / 1000);
  }
  xs.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  return { p50: xs[Math.floor(xs.length / 2)], max: xs[xs.length - 1], cpu: cpus[Math.floor(cpus.length / 2)] };
}

async function run(label: string, url: string) {
  const store = await Store.open(url);
  try {
    const now = Date.now();
    const t0 = performance.now();
    await seed(store, now);
    const seeded = performance.now() - t0;
    await overview(store); // warm
    const ov = await time(ROUNDS, () => overview(store));
    let cursor: string | undefined;
    for (let p = 0; p < 49; p++) cursor = (await store.tasks.page({ limit: 100, cursor })).nextCursor ?? undefined;
    const deep = await time(ROUNDS, () => store.tasks.page({ limit: 100, cursor }));
    const byQueue = await time(ROUNDS, () => store.tasks.page({ queue: 'q042', status: 'queued', limit: 100 }));
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    const fmt = (x: { p50: number; max: number; cpu: number }) => ({ p50: ms(x.p50), max: ms(x.max), cpu: ms(x.cpu) });
    console.log(`\n${label}: ${TASKS} tasks, ${INSTANCES} instances, ${QUEUES} queues, ${APPS} apps (seeded in ${ms(seeded)})`);
    console.log(table([
      { read: 'GET /overview (the query behind it)', ...fmt(ov) },
      { read: 'GET /tasks page 50 (cursor)', ...fmt(deep) },
      { read: 'GET /tasks?queue&status=queued', ...fmt(byQueue) },
    ], [{ header: 'read', value: (r) => r.read }, { header: 'p50', value: (r) => r.p50 }, { header: 'max', value: (r) => r.max },
      { header: 'cpu p50 (this process)', value: (r) => r.cpu }]));
    console.log(`load average while measured: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (${cpus().length} cores)`);
  } finally {
    await store.close();
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-console-'));
  try {
    await run('SQLite', `sqlite:${join(dir, 'flotilla.db')}`);
    if (process.env.BENCH_PG) await run('PostgreSQL', process.env.BENCH_PG);
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir);
  }
}

await main();
