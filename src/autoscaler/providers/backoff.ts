// Retry with exponential back-off and full jitter, shared by the cloud providers.
// Jitter spreads the retries of many launches that the cloud throttled at the same moment.

export interface BackoffOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** Injected in tests so they do not wait. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const defaultBackoff: BackoffOptions = { attempts: 5, baseMs: 500, maxMs: 20_000 };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before retry number `retry` (0-based): uniform in [0, min(max, base * 2^retry)]. */
export function backoffDelay(retry: number, opts: BackoffOptions): number {
  const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** retry);
  return Math.floor((opts.random ?? Math.random)() * cap);
}

/**
 * Runs `fn` until it succeeds, or fails with an error `shouldRetry` rejects, or attempts run out.
 * The last error is rethrown as it is; the caller turns it into its own error type.
 */
export async function withBackoff<T>(
  fn: () => Promise<T>,
  shouldRetry: (err: unknown) => boolean,
  opts: BackoffOptions,
): Promise<T> {
  const sleep = opts.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.attempts || !shouldRetry(err)) throw err;
      await sleep(backoffDelay(attempt - 1, opts));
    }
  }
}
