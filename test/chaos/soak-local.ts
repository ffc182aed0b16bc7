// A kill -9 soak round with the local provider: a `flotilla server` process whose autoscaler starts agent
// processes; during enqueue bursts the control plane or a worker agent is killed with SIGKILL. Every task
// appends its id to a marker file, so a side effect that ran twice shows as a repeated line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDb } from '../support/stores.js';
import { Marks } from '../support/marks.js';
import { waitFor } from '../support/wait.js';
import { applyApp, killLocalWorkers, localApp, localWorkerProcesses, status } from '../autoscaler/helpers.js';
import { chaosSay, CpProcess, freePort } from './cp-process.js';
import type { Rng } from './rng.js';
import { burstsWithKills, counts, watchSpend, type Dialect, type RoundFigures } from './soak.js';

const PRICE = 1;
const CAP = 2.5; // binds at 2 workers of the 4 the app may have

export async function localRound(r: Rng, dialect: Dialect, n: number): Promise<RoundFigures> {
  const t0 = Date.now();
  const db = await createTestDb(dialect);
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-soak-'));
  const marks = new Marks();
  const app = `soak-local-${process.pid}-${n}`;
  const cp = new CpProcess(db.url, dir, await freePort());
  let kills = 0;
  let killedAfterEffect = 0;
  const excused = new Set<string>();
  // What really runs, less the workers already told to stop: the policy frees their share of the cap at the stop.
  const spend = watchSpend(async () => {
    const { instances } = await status(cp.admin(), app);
    const stopping = new Set(instances.filter((i) => i.state === 'terminating').map((i) => i.providerId));
    return (await localWorkerProcesses(app)).filter((pid) => !stopping.has(pid)).length * PRICE;
  });
  try {
    await cp.start();
    await applyApp(cp.admin(), localApp(app, 'soak', { max: 4, idleS: 2, price: PRICE, cap: CAP }));
    const killAgent = async () => {
      const { instances } = await status(cp.admin(), app);
      const busy = instances.filter((i) => i.busy && i.providerId);
      if (!busy.length) return;
      const victim = r.pick(busy);
      const running = (await cp.admin().listTasks({ status: 'running' })).find((t) => t.workerId === victim.worker);
      chaosSay(`kill -9 agent ${victim.providerId}`);
      try {
        process.kill(Number(victim.providerId), 'SIGKILL');
      } catch { return; }
      kills++;
      // The task's process group dies with its agent; if its line is there, the kill came after the side effect.
      await new Promise((res) => setTimeout(res, 200));
      if (running && marks.lines('ran').includes(running.id)) {
        killedAfterEffect++;
        excused.add(running.id);
      }
    };
    const killCp = async () => {
      kills++;
      await cp.restart(r.int(0, 500));
    };
    const acked = await burstsWithKills(r, {
      client: () => cp.admin(), queue: 'soak', bursts: process.env.CHAOS_LONG ? 3 : 2, command: `sleep 0.3; echo $FLOTILLA_TASK_ID >> ${marks.path('ran')}`,
      kill: async () => (r.chance(0.5) ? killCp() : killAgent().catch(() => undefined)),
    });
    let lost = 0;
    await waitFor('every acknowledged task to complete', async () => {
      const tasks = await Promise.all(acked.map((id) => cp.admin().getTask(id).catch(() => undefined)));
      lost = tasks.filter((t) => t?.status !== 'completed').length;
      return lost === 0;
    }, 180_000, 250).catch(() => undefined);
    // Adoption has had its passes once every task ran: each worker process must be owned by a live record.
    let orphans = 0;
    await waitFor('every worker process owned by a record', async () => {
      const { instances } = await status(cp.admin(), app);
      const owned = new Set(instances.map((i) => String(i.providerId)));
      orphans = (await localWorkerProcesses(app)).filter((pid) => !owned.has(pid)).length;
      return orphans === 0;
    }, 15_000, 200).catch(() => undefined);
    const lines = counts(marks.lines('ran'));
    const twice = [...lines].filter(([id, c]) => c > 1 && !excused.has(id)).length;
    // The idle workers stop on their own; none is left behind.
    await waitFor('idle workers to stop', async () => (await localWorkerProcesses(app)).length === 0, 30_000, 200).catch(() => undefined);
    orphans += (await localWorkerProcesses(app)).length;
    return { kind: 'local', dialect, kills, acked: acked.length, lost, twice, killedAfterEffect, orphans, doubleLaunch: 0,
      maxSpend: await spend.stop(), cap: CAP, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await spend.stop();
    await cp.stop();
    await killLocalWorkers(app);
    marks.cleanup();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
