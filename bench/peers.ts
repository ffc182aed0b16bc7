// Peers benchmark (npm run bench:peers): Flotilla against pg-boss and graphile-worker, the two job queues
// built on PostgreSQL that a Node team would pick instead, on the same PostgreSQL server in the same run.
// Each gets its own fresh database there. Two figures, as bench/queue.ts measures them for Flotilla:
// - full cycle: THROUGHPUT_TASKS jobs, 4 producers adding one job per call while 4 workers take one job per
//   call and complete it; jobs per second from the first add until the last completion;
// - wake-up: one idle worker waits; a job is added; the time until the worker has it (p50, p99).
// Flotilla runs as a control plane in its own process and is reached over HTTP, on SQLite and on
// PostgreSQL; the peers are libraries in this process, talking to PostgreSQL directly (their design).
import { cpus, loadavg } from 'node:os';
import PgBoss from 'pg-boss';
import { Logger, makeWorkerUtils, run as runGraphile } from 'graphile-worker';
import pg from 'pg';
import { createTestDb, type TestDb } from '../test/support/stores.js';
import { AGENTS, THROUGHPUT_TASKS, pct, startServer, throughput, wakeLatency } from './queue.js';

const PRODUCERS = 4;
const WAKE_SAMPLES = Number(process.env.BENCH_WAKE_SAMPLES ?? 100);
/** pg-boss's least polling interval: it has no wake-up by notification (v10). */
const PGBOSS_POLL_S = 0.5;

interface Row { name: string; perS: number; p50: number; p99: number; note: string }

/** graphile-worker logs every job; the benchmark prints only its figures. */
const quiet = new Logger(() => () => {});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (m: string) => process.stderr.write(`[peers] ${m}\n`);

/** Adds `total` jobs from PRODUCERS loops, one job per call. */
async function produce(total: number, add: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: PRODUCERS }, async () => {
    while (next < total) await add(next++);
  }));
}

/** Wake-up samples: each job added after a short random pause while the idle worker waits; sorted. */
function wakeUp() {
  let started: ((at: number) => void) | undefined;
  return {
    started: () => started?.(performance.now()),
    async measure(add: (i: number) => Promise<unknown>): Promise<number[]> {
      const samples: number[] = [];
      for (let i = 0; i < WAKE_SAMPLES; i++) {
        const got = new Promise<number>((r) => (started = r));
        await sleep(5 + Math.random() * 20);
        const s0 = performance.now();
        await add(i);
        samples.push((await got) - s0);
      }
      return samples.sort((a, b) => a - b);
    },
  };
}

async function pgBoss(db: TestDb): Promise<Row> {
  const boss = new PgBoss({ connectionString: db.url, max: 10, supervise: false, schedule: false, migrate: true });
  boss.on('error', (e) => say(`pg-boss: ${e.message}`));
  await boss.start();
  try {
    // Full cycle: 4 workers, each fetching one job per call and completing it (the loop pg-boss's work() runs,
    // without its polling pause while jobs keep coming).
    await boss.createQueue('tput');
    let done = 0;
    let lastDone = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (done < THROUGHPUT_TASKS) {
        const [job] = await boss.fetch('tput', { batchSize: 1 });
        if (!job) {
          await sleep(1);
          continue;
        }
        await boss.complete('tput', job.id);
        done++;
        lastDone = performance.now();
      }
    };
    await Promise.all([produce(THROUGHPUT_TASKS, (i) => boss.send('tput', { i })), ...Array.from({ length: AGENTS }, worker)]);
    const perS = THROUGHPUT_TASKS / ((lastDone - t0) / 1000);

    // Wake-up: pg-boss's own worker, at its least polling interval.
    await boss.createQueue('wake');
    const wake = wakeUp();
    await boss.work('wake', { pollingIntervalSeconds: PGBOSS_POLL_S, batchSize: 1 }, async () => wake.started());
    const samples = await wake.measure((i) => boss.send('wake', { i }));
    return { name: 'pg-boss 10.4.2', perS, p50: pct(samples, 50), p99: pct(samples, 99),
      note: `wakes by polling, every ${PGBOSS_POLL_S} s at least (no LISTEN/NOTIFY)` };
  } finally {
    await boss.stop({ graceful: false, wait: true, close: true });
  }
}

async function graphile(db: TestDb): Promise<Row> {
  const utils = await makeWorkerUtils({ connectionString: db.url, logger: quiet });
  await utils.migrate();
  try {
    // Full cycle: a runner of 4 concurrent workers, each taking one job per call (no local queue).
    let done = 0;
    let lastDone = 0;
    let allDone!: () => void;
    const finished = new Promise<void>((r) => (allDone = r));
    const runner = await runGraphile({
      connectionString: db.url, logger: quiet, concurrency: AGENTS, noHandleSignals: true, pollInterval: 2_000,
      taskList: { tput: async () => {} },
    });
    runner.events.on('job:complete', () => {
      lastDone = performance.now();
      if (++done === THROUGHPUT_TASKS) allDone();
    });
    const t0 = performance.now();
    await produce(THROUGHPUT_TASKS, (i) => utils.addJob('tput', { i }));
    await finished;
    const perS = THROUGHPUT_TASKS / ((lastDone - t0) / 1000);
    await runner.stop();

    // Wake-up: one worker; graphile-worker wakes it with LISTEN/NOTIFY.
    const wake = wakeUp();
    const waker = await runGraphile({
      connectionString: db.url, logger: quiet, concurrency: 1, noHandleSignals: true, pollInterval: 2_000,
      taskList: { wake: async () => wake.started() },
    });
    const samples = await wake.measure((i) => utils.addJob('wake', { i }));
    await waker.stop();
    return { name: 'graphile-worker 0.17.3', perS, p50: pct(samples, 50), p99: pct(samples, 99), note: 'wakes by LISTEN/NOTIFY' };
  } finally {
    await utils.release();
  }
}

async function flotilla(dialect: 'sqlite' | 'postgres'): Promise<Row> {
  const s = await startServer(dialect);
  try {
    const lat = await wakeLatency(s, WAKE_SAMPLES);
    const { perS } = await throughput(s, false);
    return { name: `Flotilla (${dialect}, over HTTP)`, perS, p50: pct(lat, 50), p99: pct(lat, 99),
      note: 'a long-poll dequeue woken by the enqueue; the end of a task rides on the next dequeue' };
  } finally {
    await s.stop();
  }
}

async function serverVersion(): Promise<string> {
  const db = await createTestDb('postgres');
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return String((await c.query('SHOW server_version')).rows[0].server_version);
  } finally {
    await c.end();
    await db.drop();
  }
}

async function withDb<T>(fn: (db: TestDb) => Promise<T>): Promise<T> {
  const db = await createTestDb('postgres');
  try {
    return await fn(db);
  } finally {
    await db.drop();
  }
}

async function main() {
  const rows: Row[] = [];
  say('Flotilla on SQLite');
  rows.push(await flotilla('sqlite'));
  say('Flotilla on PostgreSQL');
  rows.push(await flotilla('postgres'));
  say('pg-boss');
  rows.push(await withDb(pgBoss));
  say('graphile-worker');
  rows.push(await withDb(graphile));

  console.log(`peers benchmark: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, PostgreSQL ${await serverVersion()}`);
  console.log(`full cycle: ${THROUGHPUT_TASKS} jobs, ${PRODUCERS} producers and ${AGENTS} workers, one job per call; ` +
    `wake-up: ${WAKE_SAMPLES} jobs, each added while one idle worker waits`);
  console.log('');
  const head = ['system', 'jobs/s', 'wake p50 ms', 'wake p99 ms', 'how it wakes'];
  console.log(head.join(' | '));
  for (const r of rows) console.log([r.name.padEnd(32), r.perS.toFixed(0).padStart(6), r.p50.toFixed(2).padStart(11), r.p99.toFixed(2).padStart(11), r.note].join(' | '));
  console.log('');
  const peers = rows.filter((r) => !r.name.startsWith('Flotilla'));
  for (const f of rows.filter((r) => r.name.startsWith('Flotilla'))) {
    for (const p of peers) {
      // Each ratio is Flotilla's advantage: above 1, Flotilla is ahead; below 1, behind.
      console.log(`${f.name} vs ${p.name}: throughput ${(f.perS / p.perS).toFixed(2)}×, ` +
        `wake-up p50 ${(p.p50 / f.p50).toFixed(2)}×, p99 ${(p.p99 / f.p99).toFixed(2)}× (above 1: Flotilla ahead)`);
    }
  }
}

await main();
