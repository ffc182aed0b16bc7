// The one back-off of Flotilla: exponential with a cap and jitter. Used by the agent (control plane restarting),
// the cloud providers (throttled API calls), the k8s pod follower (dropped watches) and the k8s glue (pod creation
// failing). A stateless `retry()` for "call until it works", a stateful `Backoff` for loops that wait between
// attempts themselves (timers, deadlines), both drawing their waits from `backoffDelay()`.
//
// Why ours and not p-retry: two of the four users are not "retry this call" (the follower re-arms a timer from a
// watch callback; the glue holds pod creation until a deadline its pass loop checks), so they need the delay, not
// a wrapper; the helper is 60 lines and has no dependency.

export interface BackoffPolicy {
  /** The wait before the first retry (the window's upper bound under jitter). */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
  /**
   * full: uniform in [0, d] (spreads many clients best; AWS's recommendation);
   * equal: uniform in [d/2, d] (never retries at once);
   * none: exactly d (one client, deterministic).
   */
  jitter: 'full' | 'equal' | 'none';
}

/** A source of randomness in [0, 1); tests pass a fixed one for a deterministic mode. */
export type Random = () => number;

/** The wait before retry number `retry` (0-based): d = min(maxMs, baseMs * 2^retry), then the jitter. */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: Random = Math.random): number {
  const d = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(retry, 52));
  if (policy.jitter === 'none') return d;
  if (policy.jitter === 'equal') return Math.floor(d / 2 + random() * (d / 2));
  return Math.floor(random() * d);
}

/** Counts failures and gives the next wait; `reset()` after a success. For loops that wait on their own. */
export class Backoff {
  private n = 0;
  constructor(readonly policy: BackoffPolicy, private readonly random: Random = Math.random) {}
  /** Failures since the last reset. */
  get failures(): number {
    return this.n;
  }
  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    return backoffDelay(this.n++, this.policy, this.random);
  }
  reset(): void {
    this.n = 0;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RetryOptions {
  policy: BackoffPolicy;
  /** Attempts in all, the first included (Infinity: until it works or stops). */
  attempts: number;
  /** An error this rejects is thrown at once. */
  shouldRetry: (err: unknown) => boolean;
  /** Checked after each failure: true throws the last error instead of waiting. */
  shouldStop?: () => boolean;
  /** Injected in tests so they do not wait. */
  sleep?: (ms: number) => Promise<void>;
  random?: Random;
  /** Told of each failure that will be retried, with the wait before the next attempt (for a caller's progress lines). */
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
}

/** Runs `fn` until it succeeds, fails with an error not worth retrying, runs out of attempts, or is stopped; the last error is rethrown as it is. */
export async function retry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  const wait = o.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= o.attempts || !o.shouldRetry(err) || o.shouldStop?.()) throw err;
      const waitMs = backoffDelay(attempt - 1, o.policy, o.random);
      o.onRetry?.(err, attempt, waitMs);
      await wait(waitMs);
    }
  }
}
