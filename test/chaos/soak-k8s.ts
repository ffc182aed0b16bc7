// A kill -9 soak round with the Kubernetes glue: a `flotilla server` process, a `flotilla k8s-glue` process with the
// real @kubernetes/client-node against the in-repo fake API server, and a real agent process for each pod the fake
// binds (./pod-agents.ts). During enqueue bursts one of these is hit at a random point: the glue (kill -9, started
// again), the control plane (kill -9, started again), a pod's agent (kill -9: the pod ends Failed) or a pod (deleted
// from the API). Checked: no acknowledged task lost, no side effect twice, never more pods at once than the queue's
// maxPods, no pod left behind.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createTestDb } from '../support/stores.js';
import { Marks } from '../support/marks.js';
import { waitFor } from '../support/wait.js';
import { FakeKubernetes } from '../fakes/k8s/index.js';
import { chaosSay, CpProcess, freePort, GlueProcess } from './cp-process.js';
import { PodAgents } from './pod-agents.js';
import type { Rng } from './rng.js';
import { burstsWithKills, counts, type Dialect, type RoundFigures } from './soak.js';

const NS = 'soak';
/** The queue's maxPods; the glue's overall maxPods is one more, so the queue's is the cap that binds. */
const CAP = 3;
const KINDS = ['glue', 'control plane', 'agent', 'pod'] as const;
type Kind = (typeof KINDS)[number];

const ended = (pod: any) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const taskOf = (pod: any): string => pod.metadata.annotations['flotilla.io/task-id'];

export async function k8sRound(r: Rng, dialect: Dialect, n: number): Promise<RoundFigures> {
  const t0 = Date.now();
  const db = await createTestDb(dialect);
  const dir = mkdtempSync(join(tmpdir(), `flotilla-soak-k8s-${n}-`));
  const marks = new Marks();
  const fake = await FakeKubernetes.start({ nodes: [{ name: 'node-1', cpu: 64, memory: '256Gi', pods: 110 }] });
  const cp = new CpProcess(db.url, join(dir, 'data'), await freePort());
  writeFileSync(join(dir, 'glue.yaml'), stringify({
    server: cp.url, defaultImage: 'flotilla:soak', maxPods: CAP + 1, keepFinishedPodsS: 1,
    queues: [{ name: 'soak', maxPods: CAP }],
  }));
  writeFileSync(join(dir, 'kubeconfig'), fake.kubeConfig(NS).exportConfig(), { mode: 0o600 });
  const glue = new GlueProcess(join(dir, 'glue.yaml'), join(dir, 'kubeconfig'), cp.url, () => cp.adminToken());
  const pods = new PodAgents(fake, NS, cp.url);
  const killsByKind: Record<string, number> = {};
  let killedAfterEffect = 0;
  const excused = new Set<string>();
  // Tasks with two pods not ended at once (a task's pods, counted at every change of a pod).
  const doubled = new Set<string>();
  const unwatch = fake.store.watch('pods', { namespace: NS }, String(fake.store.rv), () => {
    const live = counts(fake.store.list('pods', { namespace: NS }).filter((p) => !ended(p)).map(taskOf));
    for (const [id, c] of live) if (c > 1) doubled.add(id);
  });
  /** Waits a little for an agent the kill can hit: pods' agents take a moment to start. */
  const someAgent = () => waitFor('a pod agent running', () => pods.running().length > 0, 5_000, 50).then(() => true, () => false);
  /** A task whose pod was hit after its side effect ran: a rerun is then expected, not a duplicate. */
  const excuseLater = (task: string | undefined) => setTimeout(() => {
    if (task && marks.lines('ran').includes(task) && !excused.has(task)) {
      excused.add(task);
      killedAfterEffect++;
    }
  }, 200);

  const deletable = () => fake.store.list('pods', { namespace: NS }).filter((p) => !ended(p) && !p.metadata.deletionTimestamp);
  /** One kill of that kind; nothing (and not counted) when there is no agent or pod to hit. */
  const kill = async (kind: Kind): Promise<void> => {
    if (kind === 'glue') await glue.restart(r.int(0, 500));
    else if (kind === 'control plane') await cp.restart(r.int(0, 500));
    else if (kind === 'agent') {
      if (!(await someAgent())) return;
      const victim = r.pick(pods.running());
      chaosSay(`kill -9 the agent of pod ${victim}`);
      if (!pods.kill(victim)) return;
    } else {
      if (!deletable().length) await someAgent();
      const victim = r.pick(deletable());
      if (!victim) return;
      chaosSay(`delete pod ${victim.metadata.name}`);
      fake.deletePod(NS, victim.metadata.name);
      excuseLater(taskOf(victim));
    }
    killsByKind[kind] = (killsByKind[kind] ?? 0) + 1;
  };

  try {
    await cp.start();
    await cp.admin().createQueue('soak');
    await glue.start();
    chaosSay(`k8s round ${n}: control plane and glue up after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const acked = await burstsWithKills(r, {
      client: () => cp.admin(), queue: 'soak', bursts: process.env.CHAOS_LONG ? 3 : 2,
      command: `sleep 0.3; echo $FLOTILLA_TASK_ID >> ${marks.path('ran')}`,
      // Only the kills decide a rerun here: a pod deleted three times must not fail its task on attempts.
      task: { maxAttempts: 20 },
      // Each task starts an agent process of its own (its pod's): smaller bursts keep a round near 15 s.
      size: [3, 6],
      // One kill of each burst, sometimes a second of another kind right after.
      kill: async () => {
        const first = r.pick(KINDS);
        await kill(first);
        if (r.chance(0.5)) {
          await new Promise((res) => setTimeout(res, r.int(0, 600)));
          await kill(r.pick(KINDS.filter((k) => k !== first)));
        }
      },
    });
    chaosSay(`k8s round ${n}: ${acked.length} tasks acknowledged after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // A task whose agent was killed before it reported ends failed with its pod's reason (as an OOMKilled task
    // does); every other acknowledged task completes.
    const killedTasks = new Set(pods.killed.values());
    let lost = 0;
    let failedByKill = 0;
    await waitFor('every acknowledged task to end', async () => {
      const tasks = await Promise.all(acked.map((id) => cp.admin().getTask(id).catch(() => undefined)));
      lost = tasks.filter((t) => !(t?.status === 'completed' || (t?.status === 'failed' && killedTasks.has(t.id)))).length;
      failedByKill = tasks.filter((t) => t?.status === 'failed').length;
      return lost === 0;
    }, 120_000, 250).catch(() => undefined);
    const life = [...pods.lifetimes].sort((a, b) => a - b);
    chaosSay(`k8s round ${n}: tasks ended after ${((Date.now() - t0) / 1000).toFixed(1)} s; ${life.length} pod agents, ` +
      `each ${life[0]?.toFixed(1)}–${life.at(-1)?.toFixed(1)} s (median ${life[life.length >> 1]?.toFixed(1)} s) from start to exit`);
    const twice = [...counts(marks.lines('ran'))].filter(([id, c]) => c > 1 && !excused.has(id)).length;
    // Ended pods go after keepFinishedPodsS (1 s) with their Secrets; none is left running.
    let orphans = 0;
    await waitFor('every pod ended and collected', () => {
      orphans = fake.store.list('pods', { namespace: NS }).filter((p) => !ended(p)).length;
      return orphans === 0 && fake.store.list('pods', { namespace: NS }).length === 0;
    }, 20_000, 100).catch(() => undefined);
    if (pods.maxLive > CAP || lost || twice || orphans) {
      process.stderr.write(`chaos k8s: ${pods.maxLive} pods at most at once: ${pods.atMax.join(', ')}\n`);
      if (process.env.CHAOS_VERBOSE) process.stderr.write(`chaos k8s: the glue said:\n${glue.output()}\n`);
    }
    const secretsLeft = fake.store.list('secrets', { namespace: NS }).length;
    const kills = Object.values(killsByKind).reduce((a, b) => a + b, 0);
    return { kind: 'k8s', dialect, kills, acked: acked.length, lost, twice, killedAfterEffect, orphans, doubleLaunch: 0,
      maxSpend: 0, cap: 0, seconds: (Date.now() - t0) / 1000, killsByKind, maxPods: pods.maxLive, podCap: CAP, failedByKill,
      secretsLeft, doublePods: doubled.size };
  } finally {
    unwatch();
    await glue.stop();
    await pods.stop();
    await cp.stop();
    await fake.close();
    marks.cleanup();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
