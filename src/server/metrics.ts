// Prometheus metrics, one registry per server so tests can run several servers in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CostService, sliceUsd } from '../services/costs.js';
import type { Store } from '../store/index.js';
import type { Task } from '../domain/task.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly startWait: Histogram;

  constructor(store: Store) {
    collectDefaultMetrics({ register: this.registry });
    this.autoscalerGauges(store);
    this.money(store);
    this.startWait = new Histogram({
      name: 'flotilla_dequeue_wait_seconds',
      help: 'Time from a task being queued to an agent taking it',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
      registers: [this.registry],
    });
    const depth = new Gauge({
      name: 'flotilla_queue_depth', help: 'Tasks waiting in each queue', labelNames: ['queue'], registers: [this.registry],
      collect: async () => {
        depth.reset();
        for (const q of await store.queues.list()) depth.set({ queue: q.name }, q.queued);
      },
    });
    const peers: Gauge = new Gauge({
      name: 'flotilla_peer_replicas', help: 'Other control plane replicas this one hears on PostgreSQL (events go to them)',
      registers: [this.registry],
      collect: () => {
        peers.set(store.events.peerCount());
      },
    });
    const byState = new Gauge({
      name: 'flotilla_tasks', help: 'Tasks by queue and state', labelNames: ['queue', 'status'], registers: [this.registry],
      collect: async () => {
        byState.reset();
        for (const r of await store.tasks.countByQueueAndStatus()) byState.set({ queue: r.queue, status: r.status }, r.n);
      },
    });
  }

  private autoscalerGauges(store: Store) {
    const instances = new Gauge({
      name: 'flotilla_instances', help: 'Autoscaler instances by app, resource and state',
      labelNames: ['app', 'resource', 'state'], registers: [this.registry],
      collect: async () => {
        instances.reset();
        spend.reset();
        for (const app of await store.apps.list()) {
          let rate = 0;
          for (const i of await store.instances.live(app.name)) {
            instances.inc({ app: app.name, resource: i.resource, state: i.state });
            if (i.state !== 'terminating') rate += i.pricePerHour;
          }
          spend.set({ app: app.name }, rate);
        }
      },
    });
    const spend = new Gauge({ name: 'flotilla_spend_rate_usd_per_hour', help: 'What running instances cost now', labelNames: ['app'], registers: [this.registry] });
    const decisions = new Gauge({
      name: 'flotilla_decisions', help: 'Autoscaler journal rows by app and kind', labelNames: ['app', 'kind'], registers: [this.registry],
      collect: async () => {
        decisions.reset();
        for (const d of await store.decisions.countByKind()) decisions.set({ app: d.app, kind: d.kind }, d.n);
      },
    });
  }

  /**
   * Spend from stored records (services/costs.ts), the same figures as the cost report over all time: a counter
   * that a restart does not reset. Budgets: spend and limit per period, warnings sent.
   */
  private money(store: Store) {
    const costs = new CostService(store);
    const spent = new Counter({
      name: 'flotilla_spend_usd_total', help: 'USD billed, by app, resource, queue (empty: no queue caused the launch) and kind (busy, boot, idle)',
      labelNames: ['app', 'resource', 'queue', 'kind'], registers: [this.registry],
      collect: async () => {
        spent.reset();
        for (const s of await costs.slices(0, Date.now())) spent.inc({ app: s.app, resource: s.resource, queue: s.queue ?? '', kind: s.kind }, sliceUsd(s));
      },
    });
    const budget = new Gauge({
      name: 'flotilla_budget_usd', help: 'Day and month budgets: spent so far and the limit', labelNames: ['app', 'period', 'figure'],
      registers: [this.registry],
      collect: async () => {
        budget.reset();
        for (const app of await store.apps.list()) {
          const b = app.budget;
          if (b.maxPerDay === undefined && b.maxPerMonth === undefined) continue;
          const p = await costs.appSpendPeriods(app);
          budget.set({ app: app.name, period: 'day', figure: 'spent' }, p.todayUsd);
          budget.set({ app: app.name, period: 'month', figure: 'spent' }, p.monthUsd);
          budget.set({ app: app.name, period: 'month', figure: 'projected' }, p.monthProjectedUsd);
          if (b.maxPerDay !== undefined) budget.set({ app: app.name, period: 'day', figure: 'limit' }, b.maxPerDay);
          if (b.maxPerMonth !== undefined) budget.set({ app: app.name, period: 'month', figure: 'limit' }, b.maxPerMonth);
        }
      },
    });
    const warnings = new Counter({
      name: 'flotilla_budget_warnings_total', help: 'Budget warnings sent, by app, period and fraction of the limit',
      labelNames: ['app', 'period', 'fraction'], registers: [this.registry],
      collect: async () => {
        warnings.reset();
        for (const w of await store.costs.warningsSent()) warnings.inc({ app: w.app, period: w.period.split(':')[0]!, fraction: String(w.fraction) });
      },
    });
  }

  observeStart(task: Task): void {
    this.startWait.observe(Math.max(0, Date.now() - task.queuedAt) / 1000);
  }
}
