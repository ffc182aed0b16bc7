// What `flotilla autoscaler status` shows: instances by state, queues, idle workers and money.
import { roundUsd } from '../domain/autoscaler/budget.js';
import type { Store } from '../store/index.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import { BILLED_STATES } from '../domain/autoscaler/lifecycle.js';
import { indexWorkers, workerOf } from './snapshot.js';
import { priceBooks } from './manager.js';
import { offeringsFor } from '../domain/autoscaler/offerings.js';
import { CostService } from '../services/costs.js';
import type { PriceQuote } from './prices.js';

/** States that cost money and count against the $/h cap. */
const BILLED = new Set<string>(BILLED_STATES);

export async function appStatus(store: Store, cfg: AppConfig, now = Date.now()) {
  const live = await store.instances.live(cfg.name);
  const workers = indexWorkers(await store.workers.list());
  const byState: Record<string, number> = {};
  for (const i of live) byState[i.state] = (byState[i.state] ?? 0) + 1;
  const idleWorkers = live.filter((i) => workerOf(i, workers)?.status === 'idle').length;
  // The cost report's figures (services/costs.ts); "month" is the budget month (billingDay, default the 1st).
  const spent = await new CostService(store, () => now).spentInPeriods(cfg);
  const queues = await store.tasks.waitingByQueue(Object.keys(cfg.queues));
  return {
    app: cfg.name,
    provider: cfg.provider.kind,
    instances: live.map((i) => ({ id: i.id, resource: i.resource, state: i.state, providerId: i.providerId,
      launchedAt: i.launchedAt, worker: workerOf(i, workers)?.id ?? null, busy: !!workerOf(i, workers)?.currentTask })),
    instancesByState: byState,
    queues: Object.fromEntries(Object.entries(queues).map(([q, v]) => [q, v.waiting])),
    idleWorkers,
    spendRatePerHour: roundUsd(live.filter((i) => BILLED.has(i.state)).reduce((s, i) => s + i.pricePerHour, 0)),
    spendTodayUsd: roundUsd(spent.day),
    spendMonthUsd: roundUsd(spent.month),
    budget: cfg.budget,
    budgetPeriods: await budgetPeriods(store, cfg, now),
    prices: pricesOf(cfg, now),
  };
}

/** Each resource's price, where it came from and when: typed in the app file, or looked up (cached) by its provider. */
function pricesOf(cfg: AppConfig, now: number): (Omit<PriceQuote, 'zone'> & { resource: string; zone: string | null })[] {
  const cached = priceBooks.get(cfg.name)?.cached() ?? [];
  return cfg.resources.flatMap((r) => {
    if (r.pricePerHour !== undefined) {
      const o = offeringsFor(r)[0]!;
      return [{ resource: r.name, instanceType: r.instanceType, market: o.market, zone: o.zone ?? null, pricePerHour: r.pricePerHour, source: 'config', at: now }];
    }
    const mine = cached.filter((q) => q.instanceType === r.instanceType);
    return mine.length ? mine.map((q) => ({ resource: r.name, ...q }))
      : [{ resource: r.name, instanceType: r.instanceType, market: r.spot ? 'spot' : 'on-demand', zone: null, pricePerHour: NaN, source: 'not looked up on this replica yet', at: now }];
  });
}

/** Spend against the day and month budgets (the console's figures too: CostService.appSpendPeriods). */
async function budgetPeriods(store: Store, cfg: AppConfig, now: number) {
  if (cfg.budget.maxPerDay === undefined && cfg.budget.maxPerMonth === undefined) return null;
  return new CostService(store, () => now).appSpendPeriods(cfg);
}
