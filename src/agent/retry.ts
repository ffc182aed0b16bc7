// The control plane may restart at any time; agents retry what failed for that reason.
import { ApiError, UnreachableError } from '../client/index.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function isTransient(e: unknown): boolean {
  return e instanceof UnreachableError || (e instanceof ApiError && (e.status >= 500 || e.status === 429));
}

/** Retries transient failures with capped exponential back-off and jitter; other errors are thrown at once. */
export async function withRetry<T>(fn: () => Promise<T>, maxTries = Infinity, shouldStop = () => false): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || attempt >= maxTries || shouldStop()) throw e;
      const base = Math.min(5000, 100 * 2 ** Math.min(attempt, 6));
      await sleep(base / 2 + Math.random() * base / 2);
    }
  }
}
