// Warm capacity: idle ready instances kept so a task starts at once instead of waiting one boot.
// The schema of a resource's `warm:` setting, the arrival forecast, and how many instances to keep.
// Pure: the policy (policy.ts) calls it with the arrival history the reconciler reads from the store
// and the simulator counts on its clock, so a replay sizes the pool exactly as the product would.
import type { AppConfig, ResourceConfig } from './config.js';
import type { WarmConfig } from './warm-config.js';
import { priceOf } from './budget.js';

/**
 * Arrivals per queue in buckets aligned on multiples of bucketMs (bucket b covers [b, b + 1) × bucketMs);
 * counts[q][i] is bucket `last - counts[q].length + 1 + i`. The store groups tasks by created_at, the
 * simulator counts arrivals as they come.
 */
export interface ArrivalHistory {
  bucketMs: number;
  last: number;
  counts: Readonly<Record<string, readonly number[]>>;
}

/** The forecast's constants, with why. Buckets of 5 min over 6 h: 72 numbers a queue, cheap to read per pass. */
export const FORECAST = {
  bucketMs: 5 * 60_000,
  windowMs: 6 * 3_600_000,
  // Time constant of the exponential weighting: a day's rhythm (work hours, nightly sweeps) moves the
  // rate over hours, so an hour follows it while smoothing single minutes; older than 6 τ weighs < 0.25 %.
  tauMs: 3_600_000,
  // A warm instance is kept only while it is expected to start a task at least this often: a pool sized
  // only by the budget share would keep an 8-GPU machine idle for a job that comes once a day.
  minStartsPerHour: 1,
};

/**
 * Arrival rate (per ms) of the queues: an exponentially weighted moving average over the buckets, each
 * weighted by exp(−age/τ) and divided by the weighted time observed (so a short history is not read as a
 * quiet one, and the newest, partial bucket counts for the time it has covered).
 */
export function arrivalRate(h: ArrivalHistory | undefined, queues: readonly string[], now: number): number {
  if (!h) return 0;
  let longest = 0;
  for (const q of queues) longest = Math.max(longest, h.counts[q]?.length ?? 0);
  if (longest === 0) return 0;
  // Weights relative to the newest bucket (≈ 1: it is at most one bucket old), from a table: the
  // common factor exp(−(now − its start)/τ) cancels in the ratio.
  const w = decayTable(h.bucketMs, longest);
  let n = 0;
  for (const q of queues) {
    const c = h.counts[q];
    if (c) for (let i = 0; i < c.length; i++) n += c[c.length - 1 - i]! * w[i]!;
  }
  // Time observed: the newest bucket for the part of it already past, older ones whole.
  let exposure = Math.max(0, Math.min(h.bucketMs, now - h.last * h.bucketMs));
  for (let i = 1; i < longest; i++) exposure += w[i]! * h.bucketMs;
  return exposure > 0 ? n / exposure : 0;
}

const tables = new Map<number, number[]>();

/** Weight of bucket i (0 = newest): exp(−(age of its midpoint before the newest bucket's start)/τ). */
function decayTable(bucketMs: number, n: number): number[] {
  let t = tables.get(bucketMs);
  if (!t || t.length < n) {
    const size = Math.max(n, Math.ceil(FORECAST.windowMs / bucketMs));
    t = Array.from({ length: size }, (_, i) => (i === 0 ? 1 : Math.exp(-((i - 0.5) * bucketMs) / FORECAST.tauMs)));
    tables.set(bucketMs, t);
  }
  return t;
}

/** The boot time assumed when neither warm.bootS nor the simulation's says (the simulator's default). */
const DEFAULT_BOOT_S = 120;

export interface WarmTarget {
  /** Idle ready instances to keep. */
  size: number;
  /** Expected arrivals in the next boot time (auto), for the journal. */
  expected?: number;
  /** What bounded the pool, when something other than the forecast did. */
  bound?: string;
}

/**
 * How many ready instances to keep idle. auto: a task that finds a warm instance takes it and a
 * replacement boots, so the instances booting to refill the pool are the arrivals of the last boot time:
 * Poisson with mean μ = rate × boot. The k-th warm instance serves the arrivals that find exactly k − 1
 * refills under way, rate × P(N = k − 1) an hour; it is kept while that is at least minStartsPerHour.
 * Then the money: at most maxPerHour, and at most budgetShare of the app's $/h cap.
 */
export function warmTarget(w: WarmConfig, price: number, ratePerMs: number, bootMs: number, appCap: number | undefined): WarmTarget {
  if (w.mode === 'off') return { size: 0 };
  let size: number;
  let expected: number | undefined;
  let bound: string | undefined;
  if (w.mode === 'fixed') size = w.size!;
  else {
    expected = ratePerMs * bootMs;
    const perHour = ratePerMs * 3_600_000;
    let p = Math.exp(-expected); // P(N = 0)
    size = 0;
    while (perHour * p >= FORECAST.minStartsPerHour && size < 10_000) {
      size++;
      p *= expected / size; // P(N = size)
    }
    if (w.size !== undefined && size > w.size) (size = w.size), (bound = `its warm size of ${w.size}`);
  }
  const caps: [number, string][] = [];
  if (w.maxPerHour !== undefined) caps.push([w.maxPerHour, `warm maxPerHour $${w.maxPerHour.toFixed(2)}`]);
  if (w.mode === 'auto' && appCap !== undefined) caps.push([w.budgetShare * appCap, `${Math.round(w.budgetShare * 100)} % of the $${appCap.toFixed(2)}/h cap`]);
  for (const [usd, why] of caps) {
    const most = price > 0 ? Math.floor(usd / price + 1e-9) : Number.POSITIVE_INFINITY;
    if (size > most) (size = most), (bound = why);
  }
  return { size, expected, bound };
}

/** "warm pool: keeping 2 ready for gpu1, expected 3.1 arrivals in the next boot time (bounded by …)". */
export function warmReason(resource: string, t: WarmTarget): string {
  const exp = t.expected !== undefined ? `, expected ${t.expected.toFixed(1)} arrivals in the next boot time` : '';
  const bound = t.bound ? ` (bounded by ${t.bound})` : '';
  return `warm pool: keeping ${t.size} ready for ${resource}${exp}${bound}`;
}

/** What the policy lends the warm pool: its view of the pass so far, and a launch that checks every limit. */
export interface WarmPass {
  cfg: AppConfig;
  now: number;
  arrivals?: ArrivalHistory;
  /** Idle ready instances, not being stopped, most recently idle last. */
  idle: readonly { id: string; resource: string }[];
  /** Idle or booting instances of r that no waiting task has claimed. */
  spare(r: string): number;
  /** A task of a queue r serves was refused this pass: real demand first, no warm launch. */
  refused(r: string): boolean;
  /** Launches one r if every limit allows it (no idle instance is stopped for it); false when one binds. */
  launch(r: ResourceConfig, queue: string, reason: string): boolean;
}

/** Queues whose first choice is r: their arrivals are the ones r's pool is for. */
function preferring(cfg: AppConfig, r: string): string[] {
  return Object.keys(cfg.queues).filter((q) => cfg.queues[q]![0] === r);
}

/**
 * Tops up each resource's pool to its target and returns the idle instances it keeps (the most recently
 * idle ones), which the idle timeout must not stop. Warm launches come after every waiting task's.
 */
export function planWarm(p: WarmPass): Set<string> {
  const kept = new Set<string>();
  for (const r of p.cfg.resources) {
    const w = r.warm;
    if (!w || w.mode === 'off') continue;
    const queues = preferring(p.cfg, r.name);
    const rate = w.mode === 'auto' ? arrivalRate(p.arrivals, queues, p.now) : 0;
    const bootMs = 1000 * (w.bootS ?? p.cfg.simulation?.bootTime.seconds ?? DEFAULT_BOOT_S);
    const t = warmTarget(w, priceOf(r), rate, bootMs, p.cfg.budget.maxPerHour);
    let keep = t.size;
    for (let i = p.idle.length - 1; i >= 0 && keep > 0; i--)
      if (p.idle[i]!.resource === r.name) (kept.add(p.idle[i]!.id), keep--);
    if (p.refused(r.name)) continue;
    const reason = warmReason(r.name, t);
    const queue = queues[0] ?? Object.keys(p.cfg.queues).find((q) => p.cfg.queues[q]!.includes(r.name))!;
    for (let n = p.spare(r.name); n < t.size; n++) if (!p.launch(r, queue, reason)) break;
  }
  return kept;
}
