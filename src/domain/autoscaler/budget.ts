// Budgets over time: a day's and a month's spend limit, the projection that refuses a launch which would pass
// one, what to do once one is reached, and the warning fractions. Pure: the reconciler and the simulator hand in
// what was spent so far (computed from stored records, services/costs.ts) and the policy asks this file.
import { z } from 'zod';

/** The budget keys of this file, spread into the app config's `budget` object (config.ts). */
export const PeriodBudgetKeys = {
  maxPerDay: z.number().positive().optional().describe('USD per UTC calendar day over all instances'),
  maxPerMonth: z.number().positive().optional().describe('USD per month (UTC), from billingDay'),
  billingDay: z
    .number().int().min(1).max(28).optional()
    .describe('Day of the month a budget month starts (UTC midnight); default 1'),
  onExhausted: z
    .enum(['drain', 'terminate'])
    .optional()
    .describe('At a limit (default drain): drain = running tasks finish, idle instances stop; terminate = tasks back to their queues, instances stop now'),
  warnAt: z
    .array(z.number().positive().max(1))
    .optional()
    .describe('Fractions of a limit (default [0.5, 0.8, 1]) at which a warning is journaled, counted and sent to the webhook'),
  webhookSecret: z
    .string().min(1).optional()
    .describe('Name of a generic secret whose `url` receives budget warnings (POST, JSON); the URL is never logged'),
};

export type Period = 'day' | 'month';
export const PERIODS: readonly Period[] = ['day', 'month'];

/**
 * A resource's $/h. Unset only for a provider that looks prices up (aws, gcp), whose app the manager starts only
 * once every price is known (autoscaler/prices.ts fills them in), so a plan never sees a missing price.
 */
export const priceOf = (r: { pricePerHour?: number }): number => r.pricePerHour ?? 0;

/** Dollars as the API and the console show them: to 1/100 of a cent (a sum of float hours is not exact). */
export const roundUsd = (x: number): number => Math.round(x * 10_000) / 10_000;

/** Every launch is billed at least this long (AWS and GCE bill per second after a first minute). */
export const BILLING_MINIMUM_MS = 60_000;
const HOUR = 3_600_000;

export interface BudgetConfig {
  maxPerDay?: number;
  maxPerMonth?: number;
  billingDay?: number;
  onExhausted?: 'drain' | 'terminate';
  warnAt?: number[];
}

const NO_BOUNDS: Record<Period, { start: number; end: number }> = { day: { start: 0, end: 0 }, month: { start: 0, end: 0 } };

export const DEFAULT_WARN_AT: readonly number[] = [0.5, 0.8, 1];

/** What the policy is told about money: spent so far in each period, and how long a task is expected to run. */
export interface BudgetSnapshot {
  spent: Record<Period, number>;
  /** Mean run time of the app's recent tasks; a launch is projected for at least this long. */
  expectedTaskMs: number;
}

export function limitOf(b: BudgetConfig, p: Period): number | undefined {
  return p === 'day' ? b.maxPerDay : b.maxPerMonth;
}

/** The period containing `now`: [start, end) in epoch ms, UTC; a month starts on `billingDay` (default 1). */
export function periodBounds(p: Period, now: number, billingDay = 1): { start: number; end: number } {
  const d = new Date(now);
  if (p === 'day') {
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return { start, end: start + 24 * HOUR };
  }
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth();
  if (d.getUTCDate() < billingDay) m -= 1;
  if (m < 0) { m = 11; y -= 1; }
  return { start: Date.UTC(y, m, billingDay), end: Date.UTC(y, m + 1, billingDay) };
}

/** "$4,812" for whole figures past $100, "$0.37" below. */
export function usd(x: number): string {
  const big = Math.abs(x) >= 100;
  return `$${x.toLocaleString('en-US', { minimumFractionDigits: big ? 0 : 2, maximumFractionDigits: big ? 0 : 2 })}`;
}

export function duration(ms: number): string {
  if (ms >= HOUR) return `${(ms / HOUR).toFixed(1).replace(/\.0$/, '')} h`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** An instance as the projection sees it. */
export interface CommittedInstance {
  pricePerHour: number;
  busy: boolean;
  registered: boolean;
  idleSince?: number;
}

export interface LaunchCandidate {
  name: string;
  instanceType: string;
  pricePerHour: number;
}

/**
 * One plan's view of the period budgets. `refusal(r)` says why one more r would pass a limit (or undefined);
 * `add(r)` counts a launch the plan made, so the next one of the same pass sees it.
 */
export class BudgetGuard {
  private readonly committed: Record<Period, number> = { day: 0, month: 0 };
  private readonly bounds: Record<Period, { start: number; end: number }>;

  constructor(
    private readonly b: BudgetConfig, private readonly snap: BudgetSnapshot | undefined,
    private readonly instances: readonly (CommittedInstance & { id: string })[], private readonly idleTimeoutMs: number, private readonly now: number,
  ) {
    // Without spend figures nothing is weighed (the replay calls this per event: no date arithmetic then).
    this.bounds = snap ? { day: periodBounds('day', now), month: periodBounds('month', now, b.billingDay) } : NO_BOUNDS;
    if (!snap) return;
    for (const i of this.instances) {
      // An idle one runs out its idle timeout; a busy or booting one its task first.
      const runMs = i.registered && !i.busy
        ? Math.max(0, idleTimeoutMs - (now - (i.idleSince ?? now)))
        : this.expectedMs() + idleTimeoutMs;
      for (const p of PERIODS) this.committed[p] += this.cost(i.pricePerHour, runMs, p);
    }
  }

  private expectedMs(): number {
    return Math.max(this.snap?.expectedTaskMs ?? 0, BILLING_MINIMUM_MS);
  }

  /** What `pricePerHour` for `ms` from now costs inside the period (nothing past its end). */
  private cost(pricePerHour: number, ms: number, p: Period): number {
    return (pricePerHour * Math.min(ms, this.bounds[p].end - this.now)) / HOUR;
  }

  /** Periods whose limit the spend has reached. */
  exhausted(): Period[] {
    if (!this.snap) return [];
    return PERIODS.filter((p) => {
      const lim = limitOf(this.b, p);
      return lim !== undefined && this.snap!.spent[p] >= lim - 1e-9;
    });
  }

  refusal(r: LaunchCandidate): string | undefined {
    if (!this.snap) return undefined;
    const out: string[] = [];
    for (const p of PERIODS) {
      const lim = limitOf(this.b, p);
      if (lim === undefined) continue;
      const spent = this.snap.spent[p];
      const add = this.cost(r.pricePerHour, this.expectedMs(), p);
      if (spent >= lim - 1e-9) out.push(`${p} budget exhausted: ${usd(spent)} of ${usd(lim)} spent; no launches until ${new Date(this.bounds[p].end).toISOString()}`);
      else if (spent + this.committed[p] + add > lim + 1e-9)
        out.push(`${p} budget: ${usd(spent)} of ${usd(lim)} spent, ${usd(this.committed[p])} committed; a ${r.instanceType} for the expected ${duration(this.expectedMs())} would pass it`);
    }
    return out.length ? out.join('; ') : undefined;
  }

  add(r: LaunchCandidate): void {
    if (!this.snap) return;
    for (const p of PERIODS) this.committed[p] += this.cost(r.pricePerHour, this.expectedMs() + this.idleTimeoutMs, p);
  }

  /** Instances to stop because a limit is reached: idle ones (drain), or every one (terminate). */
  stops(): { id: string; detail: string }[] {
    const instances = this.instances;
    const gone = this.exhausted();
    if (!gone.length) return [];
    const what = gone.map((p) => `${p} budget of ${usd(limitOf(this.b, p)!)} reached (${usd(this.snap!.spent[p])} spent)`).join('; ');
    if (this.b.onExhausted === 'terminate')
      return instances.map((i) => ({ id: i.id, detail: `${what}; onExhausted: terminate${i.busy ? ' (its task goes back to the head of its queue)' : ''}` }));
    return instances.filter((i) => i.registered && !i.busy).map((i) => ({ id: i.id, detail: `${what}; onExhausted: drain stops idle instances` }));
  }
}

/** Warning fractions of `limit` crossed by `spent` (each once per period: the caller remembers which it sent). */
export function crossedWarnings(warnAt: readonly number[], spent: number, limit: number): number[] {
  return warnAt.filter((f) => spent >= f * limit - 1e-9);
}

/** Mean of recent run times (ms), or 0 when none is known. */
export function expectedTaskMs(durations: readonly number[]): number {
  return durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : 0;
}
