// Day and month budgets in the replay: spend per UTC day of virtual time (epoch 0 is the trace's start), what the
// policy is told at each instant (the same BudgetSnapshot the reconciler builds from stored records), when each
// limit was first reached, and how long jobs waited behind a budget refusal.
import type { AppConfig } from '../domain/autoscaler/config.js';
import type { Action } from '../domain/autoscaler/policy.js';
import { periodBounds, type BudgetSnapshot, type Period } from '../domain/autoscaler/budget.js';
import type { SimInstance } from './sim-types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface BudgetEvents {
  /** Each time a period's limit was reached: which, and when (seconds of virtual time). */
  reached: { period: Period; at_s: number }[];
  /** Job-hours spent waiting while a day or month budget refused launches for their queue. */
  wait_job_hours: number;
  /** Launch refusals for a budget (one per instant and queue). */
  refusals: number;
}

export class BudgetBooks {
  private readonly byDay = new Map<number, number>();
  private durationSum = 0;
  private durations = 0;
  private blocked: string[] = [];
  private lastAt = 0;
  private lastRate = 0;
  private readonly reachedIn = new Set<string>();
  readonly events: BudgetEvents = { reached: [], wait_job_hours: 0, refusals: 0 };

  constructor(private readonly cfg: AppConfig) {}

  static wanted(cfg: AppConfig): boolean {
    return cfg.budget.maxPerDay !== undefined || cfg.budget.maxPerMonth !== undefined;
  }

  /** A stopped instance's cost, split over the days it ran. */
  stopped(inst: SimInstance, now: number): void {
    for (let t = inst.launchedAt; t < now;) {
      const end = Math.min(now, Math.floor(t / DAY) * DAY + DAY);
      const d = Math.floor(t / DAY);
      this.byDay.set(d, (this.byDay.get(d) ?? 0) + ((end - t) / HOUR) * inst.price);
      t = end;
    }
  }

  jobDone(durationMs: number): void {
    this.durationSum += durationMs;
    this.durations++;
  }

  private spentSince(from: number, now: number, live: readonly SimInstance[]): number {
    let s = 0;
    for (let d = Math.floor(from / DAY); d * DAY < now; d++) s += this.byDay.get(d) ?? 0;
    for (const i of live) s += ((now - Math.max(i.launchedAt, from)) / HOUR) * i.price;
    return s;
  }

  snapshot(now: number, live: readonly SimInstance[]): BudgetSnapshot {
    const day = this.spentSince(periodBounds('day', now).start, now, live);
    const month = this.spentSince(periodBounds('month', now, this.cfg.budget.billingDay).start, now, live);
    for (const [p, spent, lim] of [['day', day, this.cfg.budget.maxPerDay], ['month', month, this.cfg.budget.maxPerMonth]] as const) {
      const key = `${p}:${periodBounds(p, now, this.cfg.budget.billingDay).start}`;
      if (lim !== undefined && spent >= lim && !this.reachedIn.has(key)) {
        this.reachedIn.add(key);
        // Spend grew at the previous instant's $/h since then: the limit was passed that much before now.
        const at = this.lastRate > 0 ? Math.max(this.lastAt, now - ((spent - lim) / this.lastRate) * HOUR) : now;
        this.events.reached.push({ period: p, at_s: Math.round(at / 1000) });
      }
    }
    this.lastRate = live.reduce((r, i) => r + i.price, 0);
    return { spent: { day, month }, expectedTaskMs: this.durations ? this.durationSum / this.durations : 0 };
  }

  /** When a refused launch may be allowed again: the end of the day (or budget month) that binds; undefined if none. */
  retryAt(now: number): number | undefined {
    if (!this.blocked.length) return undefined;
    const ends = [];
    if (this.cfg.budget.maxPerDay !== undefined) ends.push(periodBounds('day', now).end);
    if (this.cfg.budget.maxPerMonth !== undefined) ends.push(periodBounds('month', now, this.cfg.budget.billingDay).end);
    return Math.min(...ends);
  }

  /** After a plan: which queues a budget refused, and the waiting time behind such refusals since the last instant. */
  planned(actions: readonly Action[], now: number, waiting: (q: string) => number): void {
    for (const q of this.blocked) this.events.wait_job_hours += (waiting(q) * (now - this.lastAt)) / HOUR;
    this.blocked = actions.filter((a) => a.kind === 'refuse' && /(^|; )(day|month) budget/.test(a.reason)).map((a) => a.kind === 'refuse' ? a.queue : '');
    this.events.refusals += this.blocked.length;
    this.lastAt = now;
  }
}
