// The control plane may restart at any time; agents retry what failed for that reason.
import { ApiError, UnreachableError } from '../client/index.js';
import { retry, sleep } from '../domain/backoff.js';
import { BACKOFF } from '../domain/timings.js';

export { sleep };

export function isTransient(e: unknown): boolean {
  return e instanceof UnreachableError || (e instanceof ApiError && (e.status >= 500 || e.status === 429));
}

/** Retries transient failures with capped exponential back-off and jitter (BACKOFF.agent); other errors are thrown at once. */
export function withRetry<T>(fn: () => Promise<T>, maxTries = Infinity, shouldStop = () => false,
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void): Promise<T> {
  return retry(fn, { policy: BACKOFF.agent, attempts: maxTries, shouldRetry: isTransient, shouldStop, onRetry });
}

/** How often an agent that still cannot reach its control plane says so, once its back-off has reached its cap. */
export const UNREACHABLE_REPEAT_MS = 30_000;

const seconds = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;

/**
 * The agent's lines about a control plane it cannot reach: one at the first failure (address, error, the
 * back-off), one each time the back-off's wait doubles past a second, one when it reaches its cap, then one
 * every UNREACHABLE_REPEAT_MS; and one when the control plane answers again. Never a line per attempt.
 */
export function unreachableReporter(server: string, log: (msg: string) => void, now: () => number = Date.now) {
  const policy = BACKOFF.agent;
  let since: number | undefined;
  let attempts = 0;
  let lastLogAt = 0;
  let lastNominal = 0;
  return {
    onRetry(err: unknown, attempt: number): void {
      if (!(err instanceof UnreachableError) && !(err instanceof ApiError)) return;
      const why = err instanceof UnreachableError ? err.reason : `HTTP ${err.status}: ${err.message}`;
      const t = now();
      attempts++;
      const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 52));
      if (since === undefined) {
        since = t;
        lastLogAt = t;
        lastNominal = nominal;
        log(`cannot reach the control plane at ${server} (${why}); retrying with back-off: ${seconds(policy.baseMs)}, doubling up to every ${seconds(policy.maxMs)}`);
        return;
      }
      const grew = nominal > lastNominal && (nominal >= 1000 || nominal === policy.maxMs);
      if (grew || t - lastLogAt >= UNREACHABLE_REPEAT_MS) {
        lastLogAt = t;
        lastNominal = nominal;
        log(`still cannot reach the control plane at ${server} after ${attempts} attempts in ${seconds(t - since)} (${why}); ` +
          `next attempt within ${seconds(nominal)}`);
      }
    },
    /** How long every attempt has failed, without a success between (0 while the control plane answers). */
    unreachableForMs(): number {
      return since === undefined ? 0 : now() - since;
    },
    /** Call after a success: says so if there were failures, and starts over. */
    reached(): void {
      if (since === undefined) return;
      log(`reached the control plane at ${server} after ${attempts + 1} attempts in ${seconds(now() - since)}`);
      since = undefined;
      attempts = 0;
      lastNominal = 0;
    },
  };
}
