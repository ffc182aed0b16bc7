// The figures of a replay, kept as the engine goes: cost, the cost floor, waits, idle time,
// launches, the most instances at once, and every moment a limit was exceeded.
import type { AppConfig } from '../domain/autoscaler/config.js';
import type { SimInstance, SimJob } from './sim-types.js';
import { priceOf } from '../domain/autoscaler/budget.js';

const HOUR = 3_600_000;

export class Books {
  cost = 0;
  floor = 0;
  idleMs = 0;
  launches = 0;
  interruptions = 0;
  fallbacks = 0; // on-demand launches of a resource set to spot
  workLostMs = 0; // run time an interruption threw away (since the job's last checkpoint)
  waitedAgainMs = 0; // time interrupted jobs waited to run again
  maxInstances = 0;
  violations = 0;
  jobsDone = 0;
  readonly waits: number[] = []; // seconds, one per job at its first start
  private readonly active = new Map<string, number>();
  private rate = 0;
  peakRate = 0; // $/h at the busiest moment, to tell whether a cap bound
  /** When asked (the console's chart): every change as [ms, $/h, instances], flat. */
  steps?: number[];
  private count = 0;

  private readonly limits: Map<string, { maxInstances: number; pricePerHour: number; spot: boolean }>;

  constructor(private readonly cfg: AppConfig) {
    this.limits = new Map(cfg.resources.map((r) => [r.name, { maxInstances: r.maxInstances, spot: r.spot, pricePerHour: priceOf(r) }]));
  }

  launched(inst: SimInstance, live: readonly SimInstance[]): void {
    this.launches++;
    if (inst.offering.market === 'on-demand' && this.limits.get(inst.resource)!.spot) this.fallbacks++;
    this.maxInstances = Math.max(this.maxInstances, live.length);
    const n = (this.active.get(inst.resource) ?? 0) + 1;
    this.active.set(inst.resource, n);
    this.rate += inst.price;
    this.peakRate = Math.max(this.peakRate, this.rate);
    this.steps?.push(inst.launchedAt, this.rate, ++this.count);
    const r = this.limits.get(inst.resource)!;
    const { maxInstances, maxPerHour } = this.cfg.budget;
    if (n > r.maxInstances || (maxInstances !== undefined && live.length > maxInstances) || (maxPerHour !== undefined && this.rate > maxPerHour + 1e-9))
      this.violations++;
  }

  stopped(inst: SimInstance, now: number): void {
    this.cost += (inst.price * (now - inst.launchedAt)) / HOUR;
    this.active.set(inst.resource, (this.active.get(inst.resource) ?? 1) - 1);
    this.rate -= inst.price;
    this.steps?.push(now, this.rate, --this.count);
  }

  /** A job's first start: its wait is counted once, even if a lost machine makes it run again. */
  waited(ms: number): void {
    this.waits.push(ms / 1000);
  }

  /** The floor is at the on-demand price, whatever market the job ran on: spot shows as a ratio below 1. */
  jobDone(job: SimJob, inst: SimInstance): void {
    this.jobsDone++;
    this.floor += (this.limits.get(inst.resource)!.pricePerHour * job.duration) / HOUR;
  }

  lost(ms: number): void {
    this.workLostMs += ms;
  }

  waitedAgain(ms: number): void {
    this.waitedAgainMs += ms;
  }

  idleEnded(ms: number): void {
    this.idleMs += ms;
  }

  interrupted(): void {
    this.interruptions++;
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k]!;
}

/** The steps as at most `points` samples (the highest of each bucket), for a chart. */
export function seriesOf(steps: number[], endMs: number, points = 200): { t: number; dollarsPerHour: number; instances: number }[] {
  if (!steps.length) return [];
  const span = Math.max(1, endMs);
  const out: { t: number; dollarsPerHour: number; instances: number }[] = [];
  let i = 0;
  let rate = 0;
  let count = 0;
  for (let b = 0; b < points; b++) {
    const end = ((b + 1) * span) / points;
    let maxRate = rate;
    let maxCount = count;
    for (; i < steps.length && steps[i] <= end; i += 3) {
      rate = steps[i + 1];
      count = steps[i + 2];
      maxRate = Math.max(maxRate, rate);
      maxCount = Math.max(maxCount, count);
    }
    out.push({ t: Math.round((b * span) / points / 1000), dollarsPerHour: Math.round(maxRate * 100) / 100, instances: maxCount });
  }
  return out;
}
