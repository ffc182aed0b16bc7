// Queue benchmark (npm run bench): enqueue→start latency with an idle agent waiting, and
// enqueue+dequeue+complete throughput with 4 agents, over HTTP, on SQLite and PostgreSQL.
//
// The control plane runs in its own process (as in production); this process plays the users and the
// agents. Agents are lean loops of the same client calls a real agent makes (register, long-poll
// dequeue, finish) without running a command, so the figures are the queue's, not process spawning's.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlotillaClient, type FinishedReport } from '../src/client/index.js';
import { startControlPlane } from '../src/server/main.js';
import { createTestDb, type TestDb } from '../test/support/stores.js';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

const LATENCY_SAMPLES = 400;
export const THROUGHPUT_TASKS = 4000;
export const AGENTS = 4;
const PRODUCERS = 4;
const BATCH = 50;

type Dialect = 'sqlite' | 'postgres';

interface Server {
  url: string;
  admin: FlotillaClient;
  /** CPU time the control plane process has used so far, in ms. */
  cpuMs(): Promise<number>;
  /** When the last task of `queue` ended, as the store recorded it (epoch ms). */
  lastEndedAt(queue: string): Promise<number>;
  stop(): Promise<void>;
}

/** Child mode: run a control plane and report its address on the IPC channel. */
async function serve(dbUrl: string, dataDir: string) {
  const cp = await startControlPlane({ db: dbUrl, dataDir, port: 0, logLevel: 'silent' });
  process.send!({ url: cp.url, token: cp.adminToken });
  process.on('message', async (m) => {
    if (m === 'cpu') return process.send!({ cpu: process.cpuUsage() });
    await cp.close();
    process.exit(0);
  });
}

export async function startServer(dialect: Dialect): Promise<Server> {
  const db: TestDb = await createTestDb(dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-'));
  // BENCH_PROFILE=DIR writes a CPU profile of the control plane there.
  const prof = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['serve', db.url, dataDir],
    { stdio: 'inherit', execArgv: [...process.execArgv, ...prof] });
  const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; token: string }));
    child.once('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
  });
  return {
    url,
    admin: new FlotillaClient(url, token),
    cpuMs: () => new Promise((resolve) => {
      child.once('message', (m) => {
        const { cpu } = m as { cpu: NodeJS.CpuUsage };
        resolve((cpu.user + cpu.system) / 1000);
      });
      child.send('cpu');
    }),
    lastEndedAt: (queue) => lastEndedAt(db, queue),
    async stop() {
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Read straight from the store, so the measure ends when the last task did, not when its agent's next poll gave up. */
async function lastEndedAt(db: TestDb, queue: string): Promise<number> {
  const text = 'SELECT max(ended_at) AS t FROM tasks WHERE queue = ';
  if (db.dialect === 'sqlite') {
    const file = new BetterSqlite3(db.url.slice('sqlite:'.length), { readonly: true });
    try {
      return Number((file.prepare(`${text}?`).get(queue) as { t: number }).t);
    } finally {
      file.close();
    }
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return Number((await client.query(`${text}$1`, [queue])).rows[0].t);
  } finally {
    await client.end();
  }
}

export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function clients(s: Server, queue: string) {
  await s.admin.createQueue(queue);
  const user = new FlotillaClient(s.url, (await s.admin.createToken(`bench-user-${queue}`, 'user')).token);
  const agent = new FlotillaClient(s.url, (await s.admin.createToken(`bench-agent-${queue}`, 'agent')).token);
  return { user, agent };
}

/** One idle agent waits in a long poll; each task is enqueued only once it is waiting again. */
export async function wakeLatency(s: Server, samplesWanted = LATENCY_SAMPLES): Promise<number[]> {
  const { user, agent } = await clients(s, 'latency');
  await agent.register({ id: 'lat-1', queues: ['latency'] });
  const samples: number[] = [];
  for (let i = 0; i < samplesWanted; i++) {
    const poll = agent.dequeue('lat-1', { queues: ['latency'], waitMs: 20_000 });
    // Give the poll time to reach the server and start waiting (a benchmark may sleep; a test may not).
    await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await user.createTask({ queue: 'latency', command: 'true' });
    const d = await poll;
    samples.push(performance.now() - t0);
    await agent.finish(d!.task.id, d!.lease.id, { status: 'completed', exitCode: 0 });
  }
  return samples.sort((a, b) => a - b);
}

/** CPU time all processes on the machine have used so far (the database's too), in ms. */
function machineCpuMs(): number {
  return cpus().reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}

/**
 * Producers enqueue while AGENTS lean agents dequeue and complete: tasks per second of wall time until all
 * are complete, and the control plane's CPU time per task (what bounds it on a quiet machine).
 */
export async function throughput(s: Server, batch: boolean): Promise<{ perS: number; serverCpuMs: number; machineCpuMs: number }> {
  const queue = batch ? 'tput-batch' : 'tput';
  const { user, agent } = await clients(s, queue);
  for (let a = 0; a < AGENTS; a++) await agent.register({ id: `${queue}-${a}`, queues: [queue] });
  let completed = 0;
  const cpu0 = await s.cpuMs();
  const machine0 = machineCpuMs();
  const t0 = Date.now();
  // As the real agent does: the end of a task rides on the next dequeue.
  const runAgent = async (id: string) => {
    let finished: FinishedReport | undefined;
    while (completed < THROUGHPUT_TASKS) {
      const d = await agent.dequeue(id, { queues: [queue], waitMs: 200, finished });
      if (finished) completed++;
      finished = d ? { taskId: d.task.id, leaseId: d.lease.id, status: 'completed', exitCode: 0 } : undefined;
    }
  };
  let next = 0;
  const produce = async () => {
    for (let i = next; i < THROUGHPUT_TASKS; i = next) {
      const n = Math.min(batch ? BATCH : 1, THROUGHPUT_TASKS - i);
      next += n;
      const tasks = Array.from({ length: n }, () => ({ queue, command: 'true' }));
      if (batch) await user.createTasks(tasks);
      else await user.createTask(tasks[0]);
    }
  };
  await Promise.all([
    ...Array.from({ length: PRODUCERS }, produce),
    ...Array.from({ length: AGENTS }, (_, a) => runAgent(`${queue}-${a}`)),
  ]);
  // Each agent's last dequeue carries its last task's end and then waits out its long poll (200 ms) for a task
  // that never comes: the wall time ends when the last task ended.
  const machine = (machineCpuMs() - machine0) / THROUGHPUT_TASKS;
  const serverCpuMs = ((await s.cpuMs()) - cpu0) / THROUGHPUT_TASKS;
  const perS = THROUGHPUT_TASKS / (((await s.lastEndedAt(queue)) - t0) / 1000);
  return { perS, serverCpuMs, machineCpuMs: machine };
}

/**
 * The HTTP floor: the same client and server answering GET /healthz (no store, no auth) from as many loops
 * as the throughput run has callers. One task costs at least two requests (an enqueue, a dequeue).
 */
async function httpFloor(s: Server): Promise<number> {
  const REQUESTS = 8000;
  let sent = 0;
  const t0 = performance.now();
  const loop = async () => {
    while (sent++ < REQUESTS) await s.admin.request('GET', '/healthz');
  };
  await Promise.all(Array.from({ length: AGENTS + PRODUCERS }, loop));
  return REQUESTS / ((performance.now() - t0) / 1000);
}

async function benchDialect(dialect: Dialect) {
  const s = await startServer(dialect);
  try {
    // BENCH_ONLY=one (or batched) runs that throughput phase alone (for a CPU profile of it).
    const only = process.env.BENCH_ONLY;
    const none = { perS: NaN, serverCpuMs: NaN, machineCpuMs: NaN };
    const lat = only ? [NaN] : await wakeLatency(s);
    const one = !only || only === 'one' ? await throughput(s, false) : none;
    const batched = !only || only === 'batched' ? await throughput(s, true) : none;
    const floor = only ? NaN : await httpFloor(s);
    return { dialect, p50: pct(lat, 50), p99: pct(lat, 99), one, batched, floor };
  } finally {
    await s.stop();
  }
}

async function main() {
  const rows = [];
  const only = process.env.BENCH_STORE;
  for (const dialect of ['sqlite', 'postgres'] as const) if (!only || only === dialect) rows.push(await benchDialect(dialect));
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`queue benchmark: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${load}`);
  console.log(`wake-up: ${LATENCY_SAMPLES} tasks, each enqueued while one idle agent waits; enqueue call → dequeue answer`);
  console.log(`throughput: ${THROUGHPUT_TASKS} tasks, ${PRODUCERS} producers (one task per call, or ${BATCH} per call), ` +
    `${AGENTS} agents (each task's end reported with the next dequeue, over HTTP)`);
  console.log('server CPU: the control plane process; all CPU: every process on the machine (database, benchmark clients)');
  console.log('');
  const head = ['store', 'wake p50 ms', 'wake p99 ms', 'tasks/s', 'server CPU ms/task', 'all CPU ms/task',
    'tasks/s batched', 'server CPU ms/task batched', 'all CPU ms/task batched'];
  console.log(head.join(' | '));
  for (const r of rows) {
    const cells = [r.dialect, r.p50.toFixed(2), r.p99.toFixed(2), r.one.perS.toFixed(0), r.one.serverCpuMs.toFixed(3),
      r.one.machineCpuMs.toFixed(3), r.batched.perS.toFixed(0), r.batched.serverCpuMs.toFixed(3), r.batched.machineCpuMs.toFixed(3)];
    console.log(cells.map((c, i) => c.padStart(head[i].length)).join(' | '));
  }
  console.log('');
  for (const r of rows)
    console.log(`HTTP floor (${r.dialect} server): ${r.floor.toFixed(0)} GET /healthz per second from ${AGENTS + PRODUCERS} loops, ` +
      `so at most ${(r.floor / 2).toFixed(0)} tasks/s at one enqueue call and one dequeue call per task`);
}

// bench/peers.ts imports the Flotilla side from here: only this file run as the program runs its benchmark.
const isEntry = !!process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isEntry && process.argv[2] === 'serve') await serve(process.argv[3], process.argv[4]);
else if (isEntry) await main();
