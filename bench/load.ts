// Load benchmark (npm run bench:load): 500 agents long-polling, 100k queued tasks and bursts of enqueues,
// while /healthz and a single task create are timed; prints their p50/p95/p99/max on SQLite and PostgreSQL.
//
// The control plane runs in its own process, as in production; this process plays the agents (lean HTTP
// long-poll loops, not 500 agent processes), the producers and the probes. BENCH_LOAD_AGENTS, _TASKS, _SECONDS
// and BENCH_LOAD_DB (sqlite, postgres or both) change the size; test/chaos/load.test.ts runs it small.
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

async function timed(f: () => Promise<unknown>, into: number[]): Promise<void> {
  const t0 = performance.now();
  await f();
  into.push(performance.now() - t0);
}

export async function runLoad(o: LoadOptions): Promise<LoadFigures> {
  const db = await createTestDb(o.dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-load-'));
  const child: ChildProcess = fork(self, ['serve', db.url, dataDir], { stdio: 'inherit', execArgv: self.endsWith('.ts') ? ['--import', 'tsx'] : [] });
  try {
    const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { url: string; token: string }));
      child.once('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
    });
    const admin = new FlotillaClient(url, token);
    const user = new FlotillaClient(url, (await admin.createToken('load-user', 'user')).token);
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
    const healthz: number[] = [];
    const create: number[] = [];
    let burstCreates = 0;
    const end = Date.now() + o.seconds * 1000;
    const probeHealth = (async () => {
      while (Date.now() < end) {
        await timed(() => fetch(`${url}/healthz`).then((r) => r.text()), healthz);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const probeCreate = (async () => {
      while (Date.now() < end) {
        await timed(() => user.createTask({ queue: 'probe', command: 'true' }), create);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const bursts = (async () => {
      while (Date.now() < end) {
        await Promise.all(Array.from({ length: o.burst }, () => user.createTask({ queue: 'backlog', command: 'true' })
          .then(() => burstCreates++, () => errors++)));
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    await Promise.all([probeHealth, probeCreate, bursts]);
    running = false;
    // Wake the agents out of their polls: one task each on their queue ends every loop.
    await user.request('POST', '/api/v1/tasks/batch', { tasks: Array.from({ length: o.agents }, () => ({ queue: 'idle', command: 'true' })) });
    await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 30_000).unref())]);
    return { ...o, healthz: latency(healthz), create: latency(create), polls, burstCreates, errors };
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
    `(${f.burstCreates} burst creates, ${f.errors} errors)`);
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
else if (process.argv[1] && fileURLToPath(new URL(`file://${process.argv[1]}`)) === self) void main();
