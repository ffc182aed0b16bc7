// Samples every app every 30 s for the console's charts (instances by state, waiting tasks, $/h), in the leader
// only so replicas do not write the same samples. The store keeps the last day (store/history.ts).
import { roundUsd } from '../domain/autoscaler/budget.js';
import type { Store } from '../store/index.js';
import type { Controller } from '../domain/controller.js';
import { periodic } from './controllers.js';
import { BILLED_STATES } from '../domain/autoscaler/lifecycle.js';
import type { HistorySample } from '../store/history.js';


export const HISTORY_EVERY_MS = 30_000;
const BILLED = new Set<string>(BILLED_STATES);

/** One sample per app, now. */
export async function sampleApps(store: Store, now = Date.now()): Promise<(HistorySample & { app: string })[]> {
  const apps = await store.apps.list();
  const waiting = await store.tasks.waitingByQueue([...new Set(apps.flatMap((a) => Object.keys(a.queues)))]);
  const out: (HistorySample & { app: string })[] = [];
  for (const cfg of apps) {
    const byState: Record<string, number> = {};
    let rate = 0;
    for (const i of await store.instances.live(cfg.name)) {
      byState[i.state] = (byState[i.state] ?? 0) + 1;
      if (BILLED.has(i.state)) rate += i.pricePerHour;
    }
    const w = Object.keys(cfg.queues).reduce((s, q) => s + (waiting[q]?.waiting ?? 0), 0);
    out.push({ app: cfg.name, at: now, byState, waiting: w, dollarsPerHour: roundUsd(rate) });
  }
  return out;
}

export function historySampler(store: Store, log: (msg: string) => void, everyMs = HISTORY_EVERY_MS): Controller {
  return periodic('history-sampler', 'history sample', everyMs, async () => {
    const now = Date.now();
    await store.history.record(await sampleApps(store, now), now);
  }, log, true);
}
