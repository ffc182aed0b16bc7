// `flotilla task why`: evaluates the plan now, as the next pass would, and says what holds a waiting task
// back in the policy's own words (the limit that binds, with its figures). A running or ended task gets
// one line; the journal rows of its queue would only be other tasks' stories.
import type { Store } from '../store/index.js';
import type { JournalRow } from '../store/apps.js';
import type { Task } from '../domain/task.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import { plan, type CapacityFailure } from '../domain/autoscaler/policy.js';
import type { Offering } from './providers/types.js';
import { buildSnapshot, indexWorkers } from './snapshot.js';
import { recentInterruptions } from './interruptions.js';
import { readBudget } from './budget-watch.js';
import { CostService } from '../services/costs.js';
import { priceBooks } from './manager.js';
import { offeringsFor } from '../domain/autoscaler/offerings.js';

export interface TaskWhy {
  task: string;
  status: Task['status'];
  queue: string;
  why: string;
  statusMessage: string | null;
  apps: string[];
  decisions: JournalRow[];
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function whyTask(store: Store, id: string, now = Date.now()): Promise<TaskWhy> {
  const task = await store.tasks.get(id);
  const apps = (await store.apps.list()).filter((a) => task.queue in a.queues);
  const base = { task: task.id, status: task.status, queue: task.queue, statusMessage: task.statusMessage, apps: apps.map((a) => a.name) };
  if (task.status !== 'queued') return { ...base, why: settled(task), decisions: [] };
  if (!apps.length)
    return { ...base, why: `no autoscaler app serves queue "${task.queue}"; it waits for an agent on that queue`, decisions: [] };
  const workers = indexWorkers(await store.workers.list());
  const reasons: string[] = [];
  for (const cfg of apps) {
    const records = await store.instances.live(cfg.name);
    const cooling = [...await recentCapacityErrors(store, cfg, now), ...await recentInterruptions(store, cfg, now)];
    const snapshot = await buildSnapshot(store, cfg, records, workers, cooling, now);
    const budget = await readBudget(store, new CostService(store, () => now), cfg);
    if (budget) snapshot.budget = budget;
    const mine = plan(snapshot, await pricedForWhy(cfg), now).filter((a) => (a.kind === 'refuse' || a.kind === 'wait' || a.kind === 'launch') && a.queue === task.queue);
    const refuse = mine.find((a) => a.kind === 'refuse');
    const wait = mine.find((a) => a.kind === 'wait');
    const launch = mine.find((a) => a.kind === 'launch');
    const prefix = apps.length > 1 ? `${cfg.name}: ` : '';
    if (refuse) reasons.push(`${prefix}${refuse.reason}`);
    else if (launch) reasons.push(`${prefix}a launch is due at the next pass (${launch.reason})`);
    else if (wait) reasons.push(`${prefix}${wait.reason}`);
    else reasons.push(`${prefix}an idle worker can take it; it waits for that worker's next poll`);
  }
  const decisions = (await Promise.all(apps.map((a) => store.decisions.recent({ app: a.name, queue: task.queue, limit: 5 }))))
    .flat().sort((a, b) => b.at - a.at);
  // Handed back by its agent on a spot notice (services/queue.ts keeps the reason as its status message).
  if (/^spot interruption/.test(task.statusMessage ?? '')) reasons.unshift(`it was handed back after a ${task.statusMessage}`);
  return { ...base, why: reasons.join('\n'), decisions };
}

/**
 * Per queue with waiting tasks, in one plain line, what holds it back now (the plan's refusal: at max, $/h cap,
 * capacity cool-down…), or null when a launch is due or capacity is on its way. One plan per app, not per task.
 */
export async function queueBlockers(store: Store, waiting: Record<string, { waiting: number; oldestAt?: number }>, now = Date.now(),
  apps?: AppConfig[]): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  const queues = Object.keys(waiting).filter((q) => waiting[q].waiting > 0);
  if (!queues.length) return out;
  apps ??= await store.apps.list();
  const serving = new Map<string, AppConfig[]>();
  for (const a of apps) for (const q of Object.keys(a.queues)) serving.set(q, [...(serving.get(q) ?? []), a]);
  for (const q of queues) out[q] = serving.has(q) ? null : 'no autoscaler app serves this queue; it waits for an agent';
  const workers = indexWorkers(await store.workers.list());
  // The apps' plans are independent: their reads go together (on PostgreSQL, round trips in parallel).
  await Promise.all(apps.map(async (cfg) => {
    const mine = queues.filter((q) => q in cfg.queues);
    if (!mine.length) return;
    const snapshot = await buildSnapshot(store, cfg, await store.instances.live(cfg.name), workers,
      await recentCapacityErrors(store, cfg, now), now, waiting);
    const actions = plan(snapshot, cfg, now);
    for (const q of mine) {
      // A wait (an instance booting for it) is scaling; only a refusal says why it is not.
      const refuse = actions.find((a) => a.kind === 'refuse' && a.queue === q);
      if (refuse?.kind === 'refuse' && !out[q]) out[q] = serving.get(q)!.length > 1 ? `${cfg.name}: ${refuse.reason}` : refuse.reason;
    }
  }));
  return out;
}

function settled(t: Task): string {
  if (t.status === 'running' || t.status === 'scheduled')
    return `the task is ${t.status}${t.workerId ? ` on worker ${t.workerId}` : ''}${t.startedAt ? ` since ${iso(t.startedAt)}` : ''}; it does not wait`;
  return `the task is ${t.status}${t.endedAt ? ` (ended ${iso(t.endedAt)})` : ''}; it does not wait`;
}

/** The app with its looked-up prices, as its reconciler plans with them (typed prices as written). */
async function pricedForWhy(cfg: AppConfig): Promise<AppConfig> {
  const book = priceBooks.get(cfg.name);
  if (!book || cfg.resources.every((r) => r.pricePerHour !== undefined)) return cfg;
  return (await book.resolve(cfg, (r) => offeringsFor(r)[0]!).catch(() => ({ cfg }))).cfg;
}

/** Capacity errors still cooling down, from the journal: the same list the reconciler keeps in memory. */
async function recentCapacityErrors(store: Store, cfg: AppConfig, now: number): Promise<CapacityFailure[]> {
  const since = now - cfg.timings.capacityCooldownS * 1000;
  const rows = await store.decisions.recent({ app: cfg.name, kind: 'capacity-error', since, limit: 100 });
  return rows.filter((d) => d.detail.offering).map((d) => ({ offering: d.detail.offering as Offering, at: d.at }));
}
