// What the reconciler does about an app's day and month budgets on each pass: reads the spend so far (from stored
// records, services/costs.ts) for the policy's projection, and sends each warning fraction once per period, as a
// journal row and, when the app names one, to its webhook. The webhook is fire-and-forget with back-off: a slow or
// dead receiver never holds a pass up, and its URL (a secret) is never logged.
import type { Store } from '../store/index.js';
import type { CostService } from '../services/costs.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import type { DecisionKind } from '../domain/autoscaler/lifecycle.js';
import {
  crossedWarnings, DEFAULT_WARN_AT, expectedTaskMs, limitOf, periodBounds, PERIODS, usd, type BudgetSnapshot,
} from '../domain/autoscaler/budget.js';
import { retry } from '../domain/backoff.js';

export interface BudgetWatchOptions {
  /** The URL of the app's budget.webhookSecret (the control plane opens the secret); undefined = none. */
  webhookUrl?: (cfg: AppConfig) => Promise<string | undefined>;
  /** Told when a webhook gave up (no URL in the message). */
  log?: (msg: string) => void;
  /** Attempts per warning (default 5) and the back-off base (default 1 s). */
  webhookAttempts?: number;
  webhookBaseMs?: number;
}

type Journal = (kind: DecisionKind, queue: string | null, reason: string, detail: Record<string, unknown>) => Promise<void>;

const DURATIONS_EVERY_MS = 60_000;

const hasPeriodBudget = (cfg: AppConfig) => cfg.budget.maxPerDay !== undefined || cfg.budget.maxPerMonth !== undefined;

/** The policy's budget input without side effects (for `task why`), or undefined when the app has no day or month limit. */
export async function readBudget(store: Store, costs: CostService, cfg: AppConfig): Promise<BudgetSnapshot | undefined> {
  if (!hasPeriodBudget(cfg)) return undefined;
  return { spent: await costs.spentInPeriods(cfg), expectedTaskMs: expectedTaskMs(await store.costs.recentDurations(Object.keys(cfg.queues))) };
}

export interface BudgetWarning {
  app: string;
  period: 'day' | 'month';
  periodStart: string;
  fraction: number;
  spentUsd: number;
  limitUsd: number;
  at: string;
}

export class BudgetWatch {
  private durations: { at: number; ms: number } = { at: -Infinity, ms: 0 };

  constructor(private readonly store: Store, private readonly costs: CostService, private readonly journal: Journal,
    private readonly o: BudgetWatchOptions) {}

  /** The policy's budget input, or undefined when the app has no day or month limit; sends the warnings now due. */
  async snapshot(cfg: AppConfig, now: number): Promise<BudgetSnapshot | undefined> {
    if (!hasPeriodBudget(cfg)) return undefined;
    const spent = await this.costs.spentInPeriods(cfg);
    if (now - this.durations.at >= DURATIONS_EVERY_MS)
      this.durations = { at: now, ms: expectedTaskMs(await this.store.costs.recentDurations(Object.keys(cfg.queues))) };
    await this.warn(cfg, spent, now);
    return { spent, expectedTaskMs: this.durations.ms };
  }

  private async warn(cfg: AppConfig, spent: Record<'day' | 'month', number>, now: number): Promise<void> {
    for (const p of PERIODS) {
      const limit = limitOf(cfg.budget, p);
      if (limit === undefined) continue;
      const start = new Date(periodBounds(p, now, cfg.budget.billingDay).start).toISOString();
      for (const f of crossedWarnings(cfg.budget.warnAt ?? DEFAULT_WARN_AT, spent[p], limit)) {
        if (!(await this.store.costs.warnOnce(cfg.name, `${p}:${start}`, f, now))) continue;
        const w: BudgetWarning = { app: cfg.name, period: p, periodStart: start, fraction: f, spentUsd: spent[p], limitUsd: limit, at: new Date(now).toISOString() };
        await this.journal('budget-warning', null,
          `${p} budget at ${Math.round(f * 100)} %: ${usd(spent[p])} of ${usd(limit)} spent since ${start}`, { ...w });
        void this.send(cfg, w);
      }
    }
  }

  private async send(cfg: AppConfig, w: BudgetWarning): Promise<void> {
    let url: string | undefined;
    try {
      url = await this.o.webhookUrl?.(cfg);
    } catch (e) {
      this.o.log?.(`autoscaler ${cfg.name}: budget webhook not sent: ${(e as Error).message}`);
      return;
    }
    if (!url) return;
    await retry(async () => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(w), signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`the receiver answered ${res.status}`);
    }, {
      policy: { baseMs: this.o.webhookBaseMs ?? 1_000, maxMs: 60_000, jitter: 'equal' }, attempts: this.o.webhookAttempts ?? 5,
      shouldRetry: () => true,
    }).catch((e) => this.o.log?.(`autoscaler ${cfg.name}: budget webhook gave up after retries: ${(e as Error).message.replace(url!, '<webhook>')}`));
  }
}
