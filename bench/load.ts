// Load benchmark (npm run bench:load): 500 agents long-polling, 100k queued tasks and bursts of enqueues,
// while /healthz and a single task create are timed; prints their p50/p95/p99/max on SQLite and PostgreSQL.
//
// The control plane runs in its own process, as in production; this process plays the agents (lean HTTP
// long-poll loops, not 500 agent processes) and the producers; the probes run in a third process, as a monitor
// would: timed in the load generator they also counted its own event loop, busy with 200 answers at a time.
// The agents' first polls all arrive together: that storm is timed on its own (`settle`), then the steady state
// is measured. BENCH_LOAD_AGENTS, _TASKS, _SECONDS and BENCH_LOAD_DB (sqlite, postgres or both) change the
// size; BENCH_LOAD_PROF=DIR writes CPU profiles of the control plane and the probe there; test/chaos/load.test.ts
// runs it small.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlotillaClient } from '../src/client/index.js';
import { startControlPlane } from '../src/server/main.js';
import { createTestDb } from '../test/support/stores.js';

export interface LoadOptions { dialect: 'sqlite' | 'postgres'; agents: number; tasks: number; seconds: number; burst: number }

export interface LoadFigures extends LoadOptions {
  /** From the agents' first polls sent until /healthz answered fast again (under 20 ms, 5 times in a row). */
  settleMs: number;
  healthz: Latency;
  create: Latency;
  polls: number;
  burstCreates: number;
  errors: number;
}

export interface Latency { n: number; p50: number; p95: number; p99: number; max: number }

const self = fileURLToPath(import.meta.url);

async function serve(dbUrl: string, dataDir: string) {
  const cp = await startControlPlane({ db: dbUrl, dataDir, port: 0, logLevel: 'silent' });
  process.send!({ url: cp.url, token: cp.adminToken });
  process.on('message', async () => {
    await cp.close();
    process.exit(0);
  });
}

function latency(ms: number[]): Latency {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 10) / 10;
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Math.round(s[s.length - 1] * 10) / 10 };
}

async function timed(f: () => Promise<unknown>, into: number[]): Promise<number> {
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  into.push(ms);
  return ms;
}

/** The probe process: times /healthz and a single task create until `seconds` have passed, then reports. */
async function probe(url: string, token: string, seconds: number) {
  const user = new FlotillaClient(url, token);
  const healthz: number[] = [];
  const create: number[] = [];
  const end = Date.now() + seconds * 1000;
  await Promise.all([
    (async () => {
      while (Date.now() < end) {
        await timed(() => fetch(`${url}/healthz`).then((r) => r.text()), healthz);
        await new Promise((r) => setTimeout(r, 20));
      }
    })(),
    (async () => {
      while (Date.now() < end) {
        await timed(() => user.createTask({ queue: 'probe', command: 'true' }), create);
        await new Promise((r) => setTimeout(r, 50));
      }
    })(),
  ]);
  process.send!({ healthz, create });
}

function forkSelf(args: string[]): ChildProcess {
  return fork(self, args, { stdio: 'inherit', execArgv: [...(self.endsWith('.ts') ? ['--import', 'tsx'] : []), ...(process.env.BENCH_LOAD_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_LOAD_PROF}`] : [])] });
}

export async function runLoad(o: LoadOptions): Promise<LoadFigures> {
  const db = await createTestDb(o.dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-load-'));
  const child = forkSelf(['serve', db.url, dataDir]);
  try {
    const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { url: string; token: string }));
      child.once('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
    });
    const admin = new FlotillaClient(url, token);
    const userToken = (await admin.createToken('load-user', 'user')).token;
    const user = new FlotillaClient(url, userToken);
    const agent = new FlotillaClient(url, (await admin.createToken('load-agents', 'agent')).token);
    for (const q of ['backlog', 'idle', 'probe']) await user.createQueue(q);
    for (let n = 0; n < o.tasks; n += 1000) {
      const tasks = Array.from({ length: Math.min(1000, o.tasks - n) }, (_, i) => ({ queue: 'backlog', command: `echo ${n + i}` }));
      await user.request('POST', '/api/v1/tasks/batch', { tasks });
    }
    // The agents wait on an empty queue: every one holds a long poll open the whole time.
    let running = true;
    let polls = 0;
    let errors = 0;
    for (let i = 0; i < o.agents; i += 50) await Promise.all(Array.from({ length: Math.min(50, o.agents - i) }, (_, k) => agent.register({ id: `load-${i + k}`, queues: ['idle'] })));
    const loops = Array.from({ length: o.agents }, async (_, i) => {
      while (running) {
        try {
          await agent.dequeue(`load-${i}`, { waitMs: 20_000 });
          polls++;
        } catch {
          if (running) errors++;
        }
      }
    });
    const settleStart = performance.now();
    for (let fast = 0, deadline = Date.now() + 60_000; fast < 5 && Date.now() < deadline;) {
      fast = (await timed(() => fetch(`${url}/healthz`).then((r) => r.text()), [])) < 20 ? fast + 1 : 0;
    }
    const settleMs = Math.round(performance.now() - settleStart);
    let burstCreates = 0;
    const end = Date.now() + o.seconds * 1000;
    const prober = forkSelf(['probe', url, userToken, String(o.seconds)]);
    const probed = new Promise<{ healthz: number[]; create: number[] }>((resolve, reject) => {
      prober.once('message', (m) => resolve(m as { healthz: number[]; create: number[] }));
      prober.once('exit', (code) => reject(new Error(`the probe process exited with ${code}`)));
    });
    const bursts = (async () => {
      while (Date.now() < end) {
        await Promise.all(Array.from({ length: o.burst }, () => user.createTask({ queue: 'backlog', command: 'true' })
          .then(() => burstCreates++, () => errors++)));
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const [{ healthz, create }] = await Promise.all([probed, bursts]);
    running = false;
    // Wake the agents out of their polls: one task each on their queue ends every loop.
    await user.request('POST', '/api/v1/tasks/batch', { tasks: Array.from({ length: o.agents }, () => ({ queue: 'idle', command: 'true' })) });
    await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 30_000).unref())]);
    return { ...o, settleMs, healthz: latency(healthz), create: latency(create), polls, burstCreates, errors };
  } finally {
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function printLoad(f: LoadFigures): void {
  const row = (name: string, l: Latency) => `  ${name.padEnd(12)} n=${l.n}  p50 ${l.p50} ms  p95 ${l.p95} ms  p99 ${l.p99} ms  max ${l.max} ms`;
  console.log(`${f.dialect}: ${f.agents} agents long-polling, ${f.tasks} queued, bursts of ${f.burst}/s for ${f.seconds} s ` +
    `(${f.burstCreates} burst creates, ${f.errors} errors; the agents' first polls settled in ${f.settleMs} ms)`);
  console.log(row('/healthz', f.healthz));
  console.log(row('task create', f.create));
}

async function main() {
  const env = process.env;
  const size = { agents: Number(env.BENCH_LOAD_AGENTS ?? 500), tasks: Number(env.BENCH_LOAD_TASKS ?? 100_000),
    seconds: Number(env.BENCH_LOAD_SECONDS ?? 30), burst: Number(env.BENCH_LOAD_BURST ?? 200) };
  const dialects = (env.BENCH_LOAD_DB ?? 'sqlite,postgres').split(',') as LoadOptions['dialect'][];
  console.log(`load benchmark on ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const dialect of dialects) printLoad(await runLoad({ dialect, ...size }));
}

if (process.argv[2] === 'serve') void serve(process.argv[3], process.argv[4]);
else if (process.argv[2] === 'probe') void probe(process.argv[3], process.argv[4], Number(process.argv[5]));
else if (process.argv[1] && fileURLToPath(new URL(`file://${process.argv[1]}`)) === self) void main();
