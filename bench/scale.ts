// Scale benchmark (npm run bench:scale): the control plane at the size of a large team, on SQLite and on
// PostgreSQL. 1,000,000 queued tasks over 100 queues, 10,000 instances over 20 resources (simulated
// provider), 1,000 registered workers (each on a ready instance, running a task; the other 9,000 instances
// boot). Measured in this process, which is the control plane: the store, the queue service and one
// reconciler, as `flotilla server` runs them; then a restart of a real control plane on the same database.
//
//   npm run bench:scale                         both stores, full size
//   npm run bench:scale -- --scale 0.01         1 % of every size (a quick run)
//   npm run bench:scale -- --store postgres     one store
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Store } from '../src/store/index.js';
import { QueueService } from '../src/services/queue.js';
import { Reconciler } from '../src/autoscaler/reconciler.js';
import { SimulatedProvider } from '../src/autoscaler/providers/simulated/provider.js';
import { buildSnapshot, indexWorkers } from '../src/autoscaler/snapshot.js';
import { plan } from '../src/domain/autoscaler/policy.js';
import { AppConfigSchema, type AppConfig } from '../src/domain/autoscaler/config.js';
import { CreateTaskSchema, type ValidTask } from '../src/domain/task.js';
import { startControlPlane } from '../src/server/main.js';
import { FlotillaClient } from '../src/client/index.js';
import { createTestDb, type TestDb } from '../test/support/stores.js';
import { sql } from 'kysely';

async function timeSnapshots(build: () => Promise<unknown>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await build();
    xs.push(performance.now() - t0);
  }
  return pct(xs, 50);
}

type Dialect = 'sqlite' | 'postgres';

const { values: flags } = parseArgs({
  options: { scale: { type: 'string', default: '1' }, store: { type: 'string' }, repeat: { type: 'string', default: '30' } },
  allowPositionals: true,
});
const SCALE = Number(flags.scale);
const REPEAT = Number(flags.repeat);
const size = (n: number) => Math.max(1, Math.round(n * SCALE));
const N = {
  tasks: size(1_000_000), queues: Math.max(2, Math.min(100, size(100))), instances: size(10_000),
  resources: Math.max(2, Math.min(20, size(20))), workers: size(1_000),
};
const ENQUEUE_BATCH = 1_000;
const LAUNCHES = Math.max(N.resources, Math.min(100, size(100)));

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (t0: number) => performance.now() - t0;
/** This process's CPU time in ms: on a machine shared with other work, what a pass costs apart from waiting for a core. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const say = (m: string) => process.stderr.write(`[scale] ${m}\n`);

function appConfig(maxPerResource: number): AppConfig {
  const resources = Array.from({ length: N.resources }, (_, r) => ({
    name: `r${r}`, instanceType: `t${r}.large`, pricePerHour: 0.1, maxInstances: maxPerResource, zones: ['z1', 'z2'],
  }));
  const queues = Object.fromEntries(Array.from({ length: N.queues }, (_, q) => [`q${q}`, [`r${q % N.resources}`]]));
  return AppConfigSchema.parse({
    name: 'scale', provider: { kind: 'simulated' }, resources, queues,
    timings: { bootTimeoutS: 86_400, idleTimeoutS: 86_400, capacityCooldownS: 300 },
  });
}

/** In chunks that run concurrently: on SQLite one group commit each, on PostgreSQL the pool's connections. */
async function inChunks<T>(items: T[], n: number, fn: (x: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(fn));
}

interface Figures {
  dialect: Dialect;
  enqueueMillionS: number;
  passIdle: number[];
  passLaunch: number[];
  planAlone: number[];
  snapshotMs: number[];
  dequeue: number[];
  enqueue: number[];
  rssMb: number;
  restartS: number;
  restartRssMb: number;
}

async function measure(dialect: Dialect): Promise<Figures> {
  const db: TestDb = await createTestDb(dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-scale-'));
  try {
    // Workers never heartbeat here: they must not turn offline while the benchmark runs.
    let store = await Store.open(db.url, { workerOfflineAfterMs: 86_400_000 });
    const queue = new QueueService(store, { leaseTtlMs: 86_400_000 });
    const queues = Array.from({ length: N.queues }, (_, q) => `q${q}`);
    for (const q of queues) await store.queues.create(q);

    say(`${dialect}: enqueueing ${N.tasks} tasks in batches of ${ENQUEUE_BATCH}`);
    const spec = (i: number): ValidTask => CreateTaskSchema.parse({ queue: queues[i % N.queues], command: `train --seed ${i}` });
    const t0 = performance.now();
    const batches: number[] = [];
    for (let i = 0; i < N.tasks; i += ENQUEUE_BATCH) batches.push(i);
    await inChunks(batches, 2, (start) => queue.createMany(
      Array.from({ length: Math.min(ENQUEUE_BATCH, N.tasks - start) }, (_, k) => spec(start + k)), null));
    const enqueueMillionS = ms(t0) / 1000;
    say(`${dialect}: enqueued in ${enqueueMillionS.toFixed(1)} s`);

    // Instances: the first `workers` ready with a registered worker running a task, the rest booting.
    const perResource = Math.ceil(N.instances / N.resources);
    const cfg = appConfig(perResource);
    const provider = new SimulatedProvider();
    const now = Date.now();
    const ids = Array.from({ length: N.instances }, (_, i) => i);
    await inChunks(ids, 200, async (i) => {
      const resource = cfg.resources[i % N.resources];
      const id = `scale-i${i}`;
      await store.instances.create({ id, app: cfg.name, resource: resource.name,
        offering: { instanceType: resource.instanceType, zone: 'z1', market: 'on-demand' }, pricePerHour: 0.1, launchedAt: now });
      await store.instances.move(id, 'requested', 'booting', { providerId: `sim-${i}` }, now);
    });
    await inChunks(ids.slice(0, N.workers), 100, async (i) => {
      const resource = cfg.resources[i % N.resources];
      const id = `scale-i${i}`;
      const served = queues.filter((q) => cfg.queues[q].includes(resource.name));
      await queue.register({ id, queues: served, tokenId: null, app: cfg.name, resource: resource.name, instanceId: id });
      await store.instances.move(id, 'booting', 'ready', { workerId: id }, now);
      await queue.take(id, { queues: served });
    });
    say(`${dialect}: ${N.instances} instances, ${N.workers} workers busy`);

    const reconciler = new Reconciler(cfg, {
      store, queue, provider, serverUrl: 'http://127.0.0.1:1', controlPlaneId: 'scale', listEveryMs: Number.POSITIVE_INFINITY, minGapMs: 0,
    });
    await reconciler.pass(); // journals why each queue waits once; later passes have nothing to say
    const journaled = async () => (await store.decisions.countByKind()).reduce((n, r) => n + r.n, 0);
    const journalBefore = await journaled();
    const passIdle: number[] = [];
    const passIdleCpu: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const p0 = performance.now();
      const c0 = cpuMs();
      await reconciler.pass();
      passIdle.push(ms(p0));
      passIdleCpu.push(cpuMs() - c0);
    }
    say(`${dialect}: a pass with nothing to do: CPU of this process p50 ${pct(passIdleCpu, 50).toFixed(1)} ms (wall ${pct(passIdle, 50).toFixed(1)} ms); ` +
      `journal entries written by the ${REPEAT} passes: ${(await journaled()) - journalBefore}; instance records: ${JSON.stringify(reconciler.live.stats)}`);
    // Before each of these passes LAUNCHES booting machines are lost (untimed): the pass relaunches as many.
    const passLaunch: number[] = [];
    const launchReps = Math.max(3, Math.floor(REPEAT / 3));
    let launched = 0;
    for (let i = 0; i < launchReps; i++) {
      const booting = (await store.instances.live(cfg.name)).filter((r) => r.state === 'booting');
      const perRes = Math.ceil(LAUNCHES / N.resources);
      const lost = cfg.resources.flatMap((r) => booting.filter((b) => b.resource === r.name).slice(0, perRes));
      for (const r of lost) await store.instances.move(r.id, 'booting', 'terminated', { message: 'lost (benchmark)' });
      const before = (await store.instances.live(cfg.name)).length;
      const p0 = performance.now();
      await reconciler.pass();
      passLaunch.push(ms(p0));
      launched += (await store.instances.live(cfg.name)).length - before;
    }
    say(`${dialect}: ${launched} launched over ${launchReps} passes`);

    // The snapshot and plan() alone, on the same data.
    const records = await store.instances.live(cfg.name);
    const workers = indexWorkers((await store.workers.list()).filter((w) => w.app === cfg.name || w.instanceId));
    if (dialect === 'postgres') {
      // The snapshot's counts walk the dequeue index; until VACUUM sets the visibility map each entry also reads its row.
      const before = await timeSnapshots(() => buildSnapshot(store, cfg, records, workers, [], Date.now()));
      await sql`VACUUM ANALYZE tasks`.execute(store.kysely);
      const after = await timeSnapshots(() => buildSnapshot(store, cfg, records, workers, [], Date.now()));
      say(`postgres: snapshot p50 ${before.toFixed(1)} ms before VACUUM ANALYZE tasks, ${after.toFixed(1)} ms after (the passes were measured before it; the snapshot, plan(), dequeue and enqueue figures after)`);
    }
    const readMs: number[] = [];
    const readCpu: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r0 = performance.now();
      const c0 = cpuMs();
      await store.instances.live(cfg.name);
      await store.workers.list();
      readMs.push(ms(r0));
      readCpu.push(cpuMs() - c0);
    }
    say(`${dialect}: reading the instance records and the workers: p50 ${pct(readMs, 50).toFixed(1)} ms (CPU ${pct(readCpu, 50).toFixed(1)} ms)`);
    const snapshotMs: number[] = [];
    const planAlone: number[] = [];
    let snapshot = await buildSnapshot(store, cfg, records, workers, [], Date.now());
    for (let i = 0; i < REPEAT; i++) {
      const s0 = performance.now();
      snapshot = await buildSnapshot(store, cfg, records, workers, [], Date.now());
      snapshotMs.push(ms(s0));
      const p0 = performance.now();
      plan(snapshot, cfg, Date.now());
      planAlone.push(ms(p0));
    }

    // The hot path with the million queued: a take by an idle worker (then its end, not timed), and single enqueues.
    await queue.register({ id: 'bench-agent', queues, tokenId: null });
    const dequeue: number[] = [];
    const enqueue: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      const q = [queues[i % N.queues]];
      const d0 = performance.now();
      const got = await queue.take('bench-agent', { queues: q });
      dequeue.push(ms(d0));
      if (got) await queue.finish(got.task.id, got.lease.id, { status: 'completed', exitCode: 0 }, 'bench-agent');
      const e0 = performance.now();
      await queue.create(spec(i), null);
      enqueue.push(ms(e0));
    }
    if (global.gc) global.gc();
    const rss = rssMb();
    await store.close();

    // A restart with all of it: a real control plane in its own process, ready when it answers a dequeue.
    say(`${dialect}: restarting a control plane on it`);
    const restart = await restartChild(db.url, dataDir);
    store = null as never;
    return { dialect, enqueueMillionS, passIdle, passLaunch, planAlone, snapshotMs, dequeue, enqueue, rssMb: rss, ...restart };
  } finally {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function restartChild(dbUrl: string, dataDir: string): Promise<{ restartS: number; restartRssMb: number }> {
  const t0 = performance.now();
  const child = fork(fileURLToPath(import.meta.url), ['serve', dbUrl, dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => {
      const { rss } = m as { rss: number };
      resolve({ restartS: ms(t0) / 1000, restartRssMb: rss });
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => code && reject(new Error(`control plane exited with ${code}`)));
  });
}

/** Child: a control plane on the filled database; ready once a worker's dequeue is answered over HTTP. */
async function serve(dbUrl: string, dataDir: string) {
  const loaded = performance.now(); // since this process started: Node and the modules
  const cp = await startControlPlane({ db: dbUrl, dataDir, port: 0, logLevel: 'silent' });
  const started = performance.now();
  const admin = new FlotillaClient(cp.url, cp.adminToken!);
  const agent = new FlotillaClient(cp.url, (await admin.createToken('restart', 'agent')).token);
  await agent.register({ id: 'restart-agent', queues: ['q0'] });
  const got = await agent.dequeue('restart-agent', { queues: ['q0'], waitMs: 0 });
  if (!got) throw new Error('nothing to take after the restart');
  const served = performance.now();
  say(`restart: modules loaded at ${loaded.toFixed(0)} ms, control plane up at ${started.toFixed(0)} ms, first dequeue answered at ${served.toFixed(0)} ms`);
  process.send!({ rss: process.memoryUsage().rss / 2 ** 20 });
  process.on('SIGTERM', async () => {
    await cp.close();
    process.exit(0);
  });
}

function report(rows: Figures[]) {
  const f = (x: number) => x.toFixed(x < 10 ? 2 : 1);
  console.log(`scale benchmark: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`size: ${N.tasks} queued tasks over ${N.queues} queues, ${N.instances} instances over ${N.resources} resources ` +
    `(simulated provider), ${N.workers} workers; ${REPEAT} passes each, ${LAUNCHES} launches per launching pass`);
  console.log('');
  const head = ['store', 'pass idle p50/p99 ms', `pass +${LAUNCHES} p50/p99 ms`, 'snapshot p50 ms', 'plan() p50/p99 ms',
    'dequeue p50/p99 ms', 'enqueue p50/p99 ms', 'RSS MB', 'enqueue all s', 'restart s', 'restart RSS MB'];
  console.log(head.join(' | '));
  for (const r of rows) {
    const cells = [r.dialect, `${f(pct(r.passIdle, 50))}/${f(pct(r.passIdle, 99))}`, `${f(pct(r.passLaunch, 50))}/${f(pct(r.passLaunch, 99))}`,
      f(pct(r.snapshotMs, 50)), `${f(pct(r.planAlone, 50))}/${f(pct(r.planAlone, 99))}`,
      `${f(pct(r.dequeue, 50))}/${f(pct(r.dequeue, 99))}`, `${f(pct(r.enqueue, 50))}/${f(pct(r.enqueue, 99))}`,
      f(r.rssMb), f(r.enqueueMillionS), f(r.restartS), f(r.restartRssMb)];
    console.log(cells.map((c, i) => c.padStart(head[i].length)).join(' | '));
  }
  console.log('');
  console.log('targets: pass p50/p99 ≤ 100 ms, plan() ≤ 20 ms, dequeue and enqueue p99 ≤ 10 ms, RSS ≤ 300 MB');
}

async function main() {
  const rows: Figures[] = [];
  for (const dialect of ['sqlite', 'postgres'] as const) if (!flags.store || flags.store === dialect) rows.push(await measure(dialect));
  report(rows);
}

if (process.argv[2] === 'serve') await serve(process.argv[3], process.argv[4]);
else await main();
