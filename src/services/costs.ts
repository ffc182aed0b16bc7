// The costs service: every billed instance-second attributed, computed from stored records only (instances, the
// workers they ran, the runs of tasks on them), so the API, the CLI, the metrics and the budgets read the same
// figures and a restart loses none of them.
//
// An instance is billed from its launch to its end at the $/h recorded at launch (the price of the market and zone
// it really runs in). Its time splits three ways:
//   busy  a task ran on its worker          -> that task and the task's queue
//   boot  launch until its worker registered -> the queue whose task caused the launch (or its resource, if none)
//   idle  the rest                           -> the same as boot
import type { Store } from '../store/index.js';
import type { InstanceRecord } from '../store/apps.js';
import type { RunRecord } from '../store/costs.js';
import { periodBounds, usd, duration } from '../domain/autoscaler/budget.js';
import type { AppConfig } from '../domain/autoscaler/config.js';

export type CostKind = 'busy' | 'boot' | 'idle';
export type CostBy = 'app' | 'resource' | 'queue' | 'task' | 'day';
export const COST_BY: readonly CostBy[] = ['app', 'resource', 'queue', 'task', 'day'];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One stretch of one instance's time, billed to one party. */
export interface CostSlice {
  app: string;
  resource: string;
  instance: string;
  instanceType: string;
  market: string;
  /** Busy: the task's queue; boot and idle: the queue that caused the launch; null when none did. */
  queue: string | null;
  task: string | null;
  kind: CostKind;
  start: number;
  end: number;
  pricePerHour: number;
}

export const sliceUsd = (s: CostSlice) => ((s.end - s.start) / HOUR) * s.pricePerHour;

/** What `cost report` and `GET /api/v1/costs` show per group. */
export interface CostRow {
  key: string;
  spentUsd: number;
  busyUsd: number;
  bootUsd: number;
  idleUsd: number;
  instanceHours: number;
  tasks: number;
  /** spent / tasks; null when no task ran. */
  costPerTaskUsd: number | null;
}

export interface CostReport {
  from: number;
  to: number;
  by: CostBy;
  rows: CostRow[];
  total: CostRow;
}

/** Pure: the slices of one instance's billed time inside [from, to), given the runs on its workers. */
export function sliceInstance(i: InstanceRecord, runs: readonly RunRecord[], from: number, to: number, now: number): CostSlice[] {
  const lifeStart = Math.max(i.launchedAt, from);
  const lifeEnd = Math.min(i.endedAt ?? now, to, now);
  if (lifeEnd <= lifeStart) return [];
  const base = { app: i.app, resource: i.resource, instance: i.id, instanceType: i.offering.instanceType, market: i.offering.market, pricePerHour: i.pricePerHour };
  const out: CostSlice[] = [];
  const sorted = runs.map((r) => ({ r, s: Math.max(r.startedAt, lifeStart), e: Math.min(r.endedAt ?? now, lifeEnd) }))
    .filter((x) => x.e > x.s).sort((a, b) => a.s - b.s);
  // Boot ends when the worker registered (or, for an older record, when its first task started).
  const bootEnd = Math.min(i.readyAt ?? runs.reduce((m, r) => Math.min(m, r.startedAt), i.endedAt ?? now), lifeEnd);
  let at = lifeStart;
  const gap = (until: number) => {
    if (until <= at) return;
    const split = Math.min(Math.max(bootEnd, at), until);
    if (split > at) out.push({ ...base, queue: i.causeQueue, task: null, kind: 'boot', start: at, end: split });
    if (until > split) out.push({ ...base, queue: i.causeQueue, task: null, kind: 'idle', start: split, end: until });
    at = until;
  };
  for (const x of sorted) {
    gap(x.s);
    const s = Math.max(x.s, at); // a worker holds one task at a time; overlapping records are billed once
    if (x.e > s) out.push({ ...base, queue: x.r.queue, task: x.r.taskId, kind: 'busy', start: s, end: x.e });
    at = Math.max(at, x.e);
  }
  gap(lifeEnd);
  return out;
}

/** Pure: slices split at UTC midnights (for by=day). */
function byDay(slices: CostSlice[]): CostSlice[] {
  const out: CostSlice[] = [];
  for (const s of slices) {
    let start = s.start;
    while (start < s.end) {
      const end = Math.min(s.end, Math.floor(start / DAY) * DAY + DAY);
      out.push({ ...s, start, end });
      start = end;
    }
  }
  return out;
}

const keyOf: Record<CostBy, (s: CostSlice) => string> = {
  app: (s) => s.app,
  resource: (s) => `${s.app}/${s.resource}`,
  queue: (s) => s.queue ?? `(no queue: ${s.app}/${s.resource})`,
  task: (s) => s.task ?? (s.queue ? `(boot and idle: ${s.queue})` : `(boot and idle: ${s.app}/${s.resource})`),
  day: (s) => new Date(s.start).toISOString().slice(0, 10),
};

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Pure: slices summed per group, biggest spend first (by=day: in date order). */
export function summarise(slices: CostSlice[], by: CostBy): { rows: CostRow[]; total: CostRow } {
  const groups = new Map<string, { row: CostRow; tasks: Set<string> }>();
  const all = { row: emptyRow('total'), tasks: new Set<string>() };
  for (const s of by === 'day' ? byDay(slices) : slices) {
    const key = keyOf[by](s);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { row: emptyRow(key), tasks: new Set() }));
    for (const x of [g, all]) add(x, s);
  }
  const rows = [...groups.values()].map(finish);
  rows.sort(by === 'day' ? (a, b) => a.key.localeCompare(b.key) : (a, b) => b.spentUsd - a.spentUsd || a.key.localeCompare(b.key));
  return { rows, total: finish(all) };
}

function emptyRow(key: string): CostRow {
  return { key, spentUsd: 0, busyUsd: 0, bootUsd: 0, idleUsd: 0, instanceHours: 0, tasks: 0, costPerTaskUsd: null };
}

function add(g: { row: CostRow; tasks: Set<string> }, s: CostSlice) {
  const u = sliceUsd(s);
  g.row.spentUsd += u;
  g.row[`${s.kind}Usd`] += u;
  g.row.instanceHours += (s.end - s.start) / HOUR;
  if (s.task) g.tasks.add(s.task);
}

function finish(g: { row: CostRow; tasks: Set<string> }): CostRow {
  const r = g.row;
  const tasks = g.tasks.size;
  return {
    key: r.key, spentUsd: round(r.spentUsd), busyUsd: round(r.busyUsd), bootUsd: round(r.bootUsd), idleUsd: round(r.idleUsd),
    instanceHours: round(r.instanceHours), tasks, costPerTaskUsd: tasks ? round(r.spentUsd / tasks) : null,
  };
}

export interface TaskCost {
  task: string;
  usd: number;
  busyMs: number;
  /** "$0.37: 22 min on g5.xlarge (spot)"; or why there is no figure. */
  line: string;
  instances: { instance: string; instanceType: string; market: string; usd: number; ms: number }[];
}

export class CostService {
  constructor(private readonly store: Store, private readonly now: () => number = Date.now) {}

  /** Every slice of billed time in [from, to), for one app or all. */
  async slices(from: number, to: number, app?: string): Promise<CostSlice[]> {
    const now = this.now();
    const instances = await this.store.costs.instancesIn(from, to, app);
    const workerToInstance = await this.store.costs.workersOf(instances);
    const runs = await this.store.costs.runsOn([...workerToInstance.keys()], from, to);
    const byInstance = new Map<string, RunRecord[]>();
    for (const r of runs) {
      const id = workerToInstance.get(r.workerId);
      if (!id) continue;
      let list = byInstance.get(id);
      if (!list) byInstance.set(id, (list = []));
      list.push(r);
    }
    return instances.flatMap((i) => sliceInstance(i, byInstance.get(i.id) ?? [], from, to, now));
  }

  async report(o: { from: number; to?: number; by: CostBy; app?: string }): Promise<CostReport> {
    const to = o.to ?? this.now();
    const { rows, total } = summarise(await this.slices(o.from, to, o.app), o.by);
    return { from: o.from, to, by: o.by, rows, total };
  }

  /** What one task cost: its busy time on every instance it ran on, at that instance's price. */
  async task(taskId: string): Promise<TaskCost> {
    const now = this.now();
    const runs = await this.store.costs.runsOf(taskId);
    const per = new Map<string, TaskCost['instances'][number]>();
    const unpriced: string[] = [];
    for (const r of runs) {
      const i = await this.store.costs.instanceOfWorker(r.workerId);
      if (!i) {
        unpriced.push(r.workerId);
        continue;
      }
      const ms = Math.max(0, (r.endedAt ?? now) - r.startedAt);
      const cur = per.get(i.id) ?? { instance: i.id, instanceType: i.offering.instanceType, market: i.offering.market, usd: 0, ms: 0 };
      cur.usd += (ms / HOUR) * i.pricePerHour;
      cur.ms += ms;
      per.set(i.id, cur);
    }
    const instances = [...per.values()];
    const usdTotal = instances.reduce((s, x) => s + x.usd, 0);
    const busyMs = instances.reduce((s, x) => s + x.ms, 0);
    let line: string;
    if (!runs.length) line = 'no cost: it has not run';
    else if (!instances.length) line = `no instance cost: it ran on worker ${unpriced[0]}, which no autoscaler app launched`;
    else line = `${usd(usdTotal)}: ${instances.map((x) => `${duration(x.ms)} on ${x.instanceType} (${x.market})`).join(', ')}`;
    return { task: taskId, usd: round(usdTotal), busyMs, line, instances: instances.map((x) => ({ ...x, usd: round(x.usd) })) };
  }

  /**
   * For the console: an app's spend today, this month (its budget month) and the month projected to its end at the
   * current $/h of its running instances. Same figures as `cost report --by app` over the same periods.
   */
  async appSpendPeriods(cfg: AppConfig): Promise<AppSpendPeriods> {
    const now = this.now();
    const day = periodBounds('day', now);
    const month = periodBounds('month', now, cfg.budget.billingDay);
    const slices = await this.slices(month.start, now, cfg.name);
    const sum = (from: number) => slices.reduce((s, x) => s + (x.end > from ? sliceUsd({ ...x, start: Math.max(x.start, from) }) : 0), 0);
    const rate = (await this.store.instances.live(cfg.name)).filter((i) => i.state !== 'terminating').reduce((s, i) => s + i.pricePerHour, 0);
    const monthUsd = sum(month.start);
    return {
      app: cfg.name, todayUsd: round(sum(day.start)), monthUsd: round(monthUsd), ratePerHourUsd: round(rate),
      monthProjectedUsd: round(monthUsd + (rate * (month.end - now)) / HOUR), monthStart: month.start, monthEnd: month.end,
      maxPerDay: cfg.budget.maxPerDay ?? null, maxPerMonth: cfg.budget.maxPerMonth ?? null,
    };
  }

  /**
   * Spend of an app so far in each budget period (what the policy weighs on every pass). The slices of an instance
   * add up to its whole billed time, so the instances alone give the same total without reading the runs.
   */
  async spentInPeriods(cfg: AppConfig): Promise<{ day: number; month: number; monthEnd: number }> {
    const now = this.now();
    const instances = await this.store.costs.instancesIn(Math.min(periodBounds('day', now).start, periodBounds('month', now, cfg.budget.billingDay).start), now, cfg.name);
    return spentInPeriodsOf(cfg, instances, now);
  }
}

/** What one instance cost between two times: its price × the part of its life inside them. */
export function costBetween(i: Pick<InstanceRecord, 'launchedAt' | 'endedAt' | 'pricePerHour'>, from: number, to: number): number {
  const start = Math.max(i.launchedAt, from);
  const end = Math.min(i.endedAt ?? to, to);
  return end > start ? ((end - start) / HOUR) * i.pricePerHour : 0;
}

/**
 * An app's spend today and in its budget month (billingDay), from its instances that ran in them (the console's
 * overview reads them for every app at once and calls this; the policy's budgets read them through spentInPeriods).
 */
export function spentInPeriodsOf(cfg: AppConfig, instances: readonly InstanceRecord[], now: number): { day: number; month: number; monthEnd: number } {
  const day = periodBounds('day', now);
  const month = periodBounds('month', now, cfg.budget.billingDay);
  const spent = (from: number) => instances.reduce((s, i) => s + costBetween(i, from, now), 0);
  return { day: round(spent(day.start)), month: round(spent(month.start)), monthEnd: month.end };
}

export interface AppSpendPeriods {
  app: string;
  todayUsd: number;
  monthUsd: number;
  /** The $/h of its instances now. */
  ratePerHourUsd: number;
  /** This month's spend plus the current $/h until the month ends (an upper bound while instances stop when idle). */
  monthProjectedUsd: number;
  monthStart: number;
  monthEnd: number;
  maxPerDay: number | null;
  maxPerMonth: number | null;
}
