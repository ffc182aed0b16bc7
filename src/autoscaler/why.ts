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
    const snapshot = await buildSnapshot(store, cfg, records, workers, await recentCapacityErrors(store, cfg, now));
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
  return { ...base, why: reasons.join('\n'), decisions };
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
