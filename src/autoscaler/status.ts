// What `flotilla autoscaler status` shows: instances by state, queues, idle workers and money.
import type { Store } from '../store/index.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import { BILLED_STATES } from '../domain/autoscaler/lifecycle.js';
import { indexWorkers, workerOf } from './snapshot.js';

import { costBetween, round } from '../services/spend-periods.js';

/** States that cost money and count against the $/h cap. */
const BILLED = new Set<string>(BILLED_STATES);

export async function appStatus(store: Store, cfg: AppConfig, now = Date.now()) {
  const live = await store.instances.live(cfg.name);
  const workers = indexWorkers(await store.workers.list());
  const byState: Record<string, number> = {};
  for (const i of live) byState[i.state] = (byState[i.state] ?? 0) + 1;
  const idleWorkers = live.filter((i) => workerOf(i, workers)?.status === 'idle').length;
  const day = new Date(now); day.setUTCHours(0, 0, 0, 0);
  const month = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1));
  const recent = await store.instances.since(cfg.name, month.getTime());
  const sum = (from: number) => recent.reduce((s, i) => s + costBetween(i, from, now), 0);
  const queues = await store.tasks.waitingByQueue(Object.keys(cfg.queues));
  return {
    app: cfg.name,
    provider: cfg.provider.kind,
    instances: live.map((i) => ({ id: i.id, resource: i.resource, state: i.state, providerId: i.providerId,
      launchedAt: i.launchedAt, worker: workerOf(i, workers)?.id ?? null, busy: !!workerOf(i, workers)?.currentTask })),
    instancesByState: byState,
    queues: Object.fromEntries(Object.entries(queues).map(([q, v]) => [q, v.waiting])),
    idleWorkers,
    spendRatePerHour: round(live.filter((i) => BILLED.has(i.state)).reduce((s, i) => s + i.pricePerHour, 0)),
    spendTodayUsd: round(sum(day.getTime())),
    spendMonthUsd: round(sum(month.getTime())),
    budget: cfg.budget,
  };
}

