// Every timing default of Flotilla in one place, each with why it has its value. Code reads them from here (or from
// a `Timings` built by `resolveTimings`), never from a literal of its own. docs/configuration.md lists them and how
// to set them (the control plane's FLOTILLA_TIMINGS variable; --lease-ttl for the lease).
import { z } from 'zod';
import type { BackoffPolicy } from './backoff.js';

export interface Timings {
  // ---- control plane: leases and long polls ----
  /** A running task goes back to its queue after this long without a heartbeat. */
  leaseTtlMs: number;
  /** How often agents heartbeat (the control plane tells them at register). Default: a quarter of the lease, 0.2–5 s. */
  heartbeatMs: number;
  /** Longest a dequeue or wait long poll is held open. */
  maxWaitMs: number;
  /** How often the leader expires leases. Default: a quarter of the lease, at most 1 s. */
  sweepEveryMs: number;
  // ---- autoscaler ----
  /** Safety-net pass of every app (passes are woken by enqueues and worker changes anyway). */
  tickMs: number;
  /** How often a pass asks the provider what it runs (a cloud API call, so not every pass). */
  listEveryMs: number;
  /** A machine with our tags but no record is terminated only after it has been seen this long (a launch whose record is being written). */
  orphanGraceMs: number;
  /** A record still "requested" with no machine listed is given up after this long (a slow RunInstances). */
  requestedGraceMs: number;
  /** Under a stream of events, passes of one app come at most this often (one pass sees them all). */
  minGapMs: number;
  /** `flotilla up` closing: how long its local workers get to hand their tasks back. */
  localStopTimeoutMs: number;
  // ---- agent ----
  /** Longest dequeue long poll an agent asks for (the server caps it at maxWaitMs). */
  agentPollMs: number;
  /** A stopping agent gives its task this long to end after SIGTERM, and its hand-back this long. */
  agentStopGraceMs: number;
  // ---- Kubernetes glue ----
  /** Longest wait between glue passes when nothing happens. */
  glueIdleWaitMs: number;
  /** Lifetime of a pod's agent token (revoked as soon as the pod ends). */
  podTokenTtlS: number;
  /** The API server ends each pod watch after this long and the glue resumes it: half-dead connections do not linger. */
  podWatchTimeoutS: number;
}

export const DEFAULT_TIMINGS: Readonly<Timings> = Object.freeze({
  leaseTtlMs: 30_000, // survives a control-plane restart (~5 s) and a few missed heartbeats
  heartbeatMs: 5_000, // = heartbeatFor(30 s): four chances per lease
  maxWaitMs: 30_000, // under the usual 60 s idle timeout of proxies and load balancers
  sweepEveryMs: 1_000, // = sweepEveryFor(30 s): an expired lease is noticed within a second
  tickMs: 10_000, // only a safety net: the events wake passes in well under a second
  listEveryMs: 5_000, // a spot reclaim is noticed within 5 s; ~1 DescribeInstances per 5 s per app
  orphanGraceMs: 60_000, // longer than any RunInstances → record write we have seen (a few s)
  requestedGraceMs: 120_000, // EC2 and GCE answer a launch in under a minute even when slow
  minGapMs: 100, // keeps a burst of enqueues from making one pass per task
  localStopTimeoutMs: 20_000, // a worker's hand-back (agentStopGraceMs) plus margin
  agentPollMs: 20_000, // below maxWaitMs, so the server never cuts a poll short
  agentStopGraceMs: 10_000, // what most training scripts need to write a checkpoint on SIGTERM
  glueIdleWaitMs: 20_000, // the glue also waits on the control plane, which wakes it on any change
  podTokenTtlS: 7 * 86_400, // longer than any task; the token is revoked when its pod ends anyway
  podWatchTimeoutS: 300, // the client library's and kubectl's usual watch length
});

/** The agent's heartbeat for a lease: four per lease, 0.2–5 s. */
export function heartbeatFor(leaseTtlMs: number): number {
  return Math.max(200, Math.min(5000, Math.floor(leaseTtlMs / 4)));
}

/** The lease sweeper's period for a lease: four per lease, at most 1 s. */
export function sweepEveryFor(leaseTtlMs: number): number {
  return Math.min(1000, leaseTtlMs / 4);
}

/** The back-off policies, by who retries what (attempt counts belong to the caller or its settings). */
export const BACKOFF = Object.freeze({
  /** The agent retrying a control plane that restarts or answers 5xx/429: 0.1 s … 5 s, never at once. */
  agent: { baseMs: 100, maxMs: 5_000, jitter: 'equal' } satisfies BackoffPolicy,
  /** A cloud API call that was throttled: 0.5 s … 20 s, full jitter spreads many launches throttled together. */
  cloud: { baseMs: 500, maxMs: 20_000, jitter: 'full' } satisfies BackoffPolicy,
  /** A pod list or watch that failed: 0.2 s, 0.4 s … 5 s (one follower per namespace: no jitter needed). */
  podWatch: { baseMs: 200, maxMs: 5_000, jitter: 'none' } satisfies BackoffPolicy,
  /** Kubernetes refusing pod creation (API down, quota): hold creation 1 s, 2 s … 30 s. */
  podCreate: { baseMs: 1_000, maxMs: 30_000, jitter: 'none' } satisfies BackoffPolicy,
});

const ms = z.number().int().nonnegative();
/** The keys a deployment may override; strict, so a misspelt key is refused, not ignored. */
export const TimingsOverrideSchema = z.strictObject({
  leaseTtlMs: ms.min(1000).optional(),
  heartbeatMs: ms.min(100).optional(),
  maxWaitMs: ms.optional(),
  sweepEveryMs: ms.min(10).optional(),
  tickMs: ms.min(10).optional(),
  listEveryMs: ms.optional(),
  orphanGraceMs: ms.optional(),
  requestedGraceMs: ms.optional(),
  minGapMs: ms.optional(),
  localStopTimeoutMs: ms.optional(),
  agentPollMs: ms.optional(),
  agentStopGraceMs: ms.optional(),
  glueIdleWaitMs: ms.optional(),
  podTokenTtlS: z.number().int().positive().optional(),
  podWatchTimeoutS: z.number().int().positive().optional(),
});
export type TimingsOverride = z.infer<typeof TimingsOverrideSchema>;

/** The defaults with `over` applied; heartbeat and sweeper follow the lease unless set themselves. */
export function resolveTimings(...over: (Partial<Timings> | undefined)[]): Timings {
  const set: Partial<Timings> = Object.assign({}, ...over.map((o) => dropUndefined(o ?? {})));
  const leaseTtlMs = set.leaseTtlMs ?? DEFAULT_TIMINGS.leaseTtlMs;
  return { ...DEFAULT_TIMINGS, heartbeatMs: heartbeatFor(leaseTtlMs), sweepEveryMs: sweepEveryFor(leaseTtlMs), ...set };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The environment variable of a control plane that overrides timings (JSON), documented in docs/configuration.md. */
export const TIMINGS_ENV = 'FLOTILLA_TIMINGS';

/**
 * Parses the JSON of FLOTILLA_TIMINGS. A wrong value throws an error naming the variable and the key, with the
 * nearest known key for a misspelt one: `FLOTILLA_TIMINGS: unknown key "tick"; did you mean "tickMs"?`.
 */
export function parseTimingsOverride(text: string, what = TIMINGS_ENV): TimingsOverride {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${what}: not JSON (${(e as Error).message}); expected e.g. {"tickMs":500,"listEveryMs":500}`);
  }
  const r = TimingsOverrideSchema.safeParse(json);
  if (r.success) return r.data;
  const known = Object.keys(TimingsOverrideSchema.shape);
  const lines = r.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((k) => {
        const near = nearest(k, known);
        return `unknown key "${k}"${near ? `; did you mean "${near}"?` : ''}`;
      }).join('; ');
    return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
  });
  throw new Error(`${what}: ${lines.join('; ')} (known keys: ${known.join(', ')})`);
}

/** The known key closest to `key` (edit distance ≤ 3, or a prefix either way). */
function nearest(key: string, known: string[]): string | undefined {
  const k = key.toLowerCase();
  let best: string | undefined;
  let bestD = 4;
  for (const cand of known) {
    const c = cand.toLowerCase();
    const d = c.startsWith(k) || k.startsWith(c) ? 1 : editDistance(k, c);
    if (d < bestD) (best = cand), (bestD = d);
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
