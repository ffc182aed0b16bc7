// The console's overview in one answer: queues (depth, oldest wait, wait percentiles of the last hour, why it does not
// scale), apps (instances by state, $/h against the cap, spend today and this month, the month's projection),
// workers and the latest decisions. A handful of grouped queries, whatever the number of tasks.
import { roundUsd } from '../domain/autoscaler/budget.js';
import type { Store } from '../store/index.js';
import { BILLED_STATES, LIVE_STATES } from '../domain/autoscaler/lifecycle.js';
import { queueBlockers } from '../autoscaler/why.js';
import { spentInPeriodsOf } from '../services/costs.js';

const HOUR = 3_600_000;
const BILLED = new Set<string>(BILLED_STATES);
const LIVE = new Set<string>(LIVE_STATES);

/** The p-th percentile (0..100) of sorted values, nearest rank; null for none. */
export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}


/** Today, this budget month and its projection: the month so far plus the current $/h until the month ends. */
function spendOf(cfg: Parameters<typeof spentInPeriodsOf>[0], mine: Parameters<typeof spentInPeriodsOf>[1], rate: number, now: number) {
  const s = spentInPeriodsOf(cfg, mine, now);
  return { spendToday: s.day, spendMonth: s.month, monthProjection: roundUsd(s.month + (rate * (s.monthEnd - now)) / HOUR) };
}

const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 100) / 10);

export async function overview(store: Store, now = Date.now()) {
  const [queues, waits, apps, instances, workers, decisions] = await Promise.all([
    store.queues.list(),
    store.tasks.waitsSince(now - HOUR),
    store.apps.list(),
    // Two months back covers every app's budget month (a billingDay anchors it up to a month earlier).
    store.instances.ranSince(now - 62 * 24 * HOUR),
    store.workers.list(),
    store.decisions.recent({ limit: 20 }),
  ]);
  // Queued or scheduled by the listing; queued alone (waiting for a worker) and the oldest by the next query.
  const waiting = await store.tasks.waitingByQueue(queues.filter((q) => q.queued > 0).map((q) => q.name));
  const blockers = await queueBlockers(store, waiting, now, apps);
  return {
    queues: queues.map((q) => {
      const w = (waits.get(q.name) ?? []).sort((a, b) => a - b);
      const at = waiting[q.name]?.oldestAt;
      return {
        name: q.name, waiting: waiting[q.name]?.waiting ?? 0, running: q.running,
        oldestWaitS: at === undefined ? null : Math.max(0, Math.round((now - at) / 1000)),
        waitP50S: seconds(percentile(w, 50)), waitP95S: seconds(percentile(w, 95)),
        notScaling: blockers[q.name] ?? null,
      };
    }),
    apps: apps.map((cfg) => {
      const mine = instances.filter((i) => i.app === cfg.name);
      const byState: Record<string, number> = {};
      let rate = 0;
      for (const i of mine) {
        if (LIVE.has(i.state)) byState[i.state] = (byState[i.state] ?? 0) + 1;
        if (BILLED.has(i.state)) rate += i.pricePerHour;
      }
      return {
        name: cfg.name, provider: cfg.provider.kind, instancesByState: byState, dollarsPerHour: roundUsd(rate),
        capPerHour: cfg.budget.maxPerHour ?? null, ...spendOf(cfg, mine, rate, now),
      };
    }),
    workers: {
      total: workers.length,
      busy: workers.filter((w) => w.status === 'busy').length,
      idle: workers.filter((w) => w.status === 'idle').length,
    },
    decisions,
  };
}
