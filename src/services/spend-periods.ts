// Spend of an app's instances over calendar periods (UTC), from the instance records: price × time in the period.
// One small file on purpose: the costs service (another lane) replaces it.
import type { InstanceRecord } from '../store/apps.js';

const HOUR = 3_600_000;

/** What one instance cost between two times (its price × the part of its life inside them). */
export function costBetween(i: Pick<InstanceRecord, 'launchedAt' | 'endedAt' | 'pricePerHour'>, from: number, to: number): number {
  const start = Math.max(i.launchedAt, from);
  const end = Math.min(i.endedAt ?? to, to);
  return end > start ? ((end - start) / HOUR) * i.pricePerHour : 0;
}

export function periodStarts(now: number): { day: number; month: number; nextMonth: number } {
  const d = new Date(now);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const nextMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { day, month, nextMonth };
}

export interface SpendPeriods {
  spendToday: number;
  spendMonth: number;
  /** The month so far plus the current rate until the month ends. */
  monthProjection: number;
}

/** `instances`: those that ran at some time this month; `ratePerHour`: what the billed ones cost now. */
export function spendPeriods(instances: InstanceRecord[], ratePerHour: number, now: number): SpendPeriods {
  const p = periodStarts(now);
  let today = 0;
  let month = 0;
  for (const i of instances) {
    today += costBetween(i, p.day, now);
    month += costBetween(i, p.month, now);
  }
  return { spendToday: round(today), spendMonth: round(month), monthProjection: round(month + ratePerHour * (p.nextMonth - now) / HOUR) };
}

export const round = (x: number) => Math.round(x * 10_000) / 10_000;
