// The control plane may restart at any time; agents retry what failed for that reason.
import { ApiError, UnreachableError } from '../client/index.js';
import { retry, sleep } from '../domain/backoff.js';
import { BACKOFF } from '../domain/timings.js';

export { sleep };

export function isTransient(e: unknown): boolean {
  return e instanceof UnreachableError || (e instanceof ApiError && (e.status >= 500 || e.status === 429));
}

/** Retries transient failures with capped exponential back-off and jitter (BACKOFF.agent); other errors are thrown at once. */
export function withRetry<T>(fn: () => Promise<T>, maxTries = Infinity, shouldStop = () => false): Promise<T> {
  return retry(fn, { policy: BACKOFF.agent, attempts: maxTries, shouldRetry: isTransient, shouldStop });
}
