// The simulator's arrival history for the warm pool's forecast: the same buckets the reconciler reads
// from the store (tasks by created_at), counted here as jobs arrive on the virtual clock.
import { FORECAST, type ArrivalHistory } from '../domain/autoscaler/warm.js';

export class ArrivalLog implements ArrivalHistory {
  readonly bucketMs = FORECAST.bucketMs;
  last = 0;
  readonly counts: Record<string, number[]> = {};
  private readonly size = Math.ceil(FORECAST.windowMs / FORECAST.bucketMs);

  constructor(queues: readonly string[]) {
    for (const q of queues) this.counts[q] = [];
  }

  record(queue: string, at: number): void {
    this.at(at);
    const c = this.counts[queue]!;
    if (c.length === 0) c.push(0);
    c[c.length - 1]!++;
  }

  /** The history as of `now`: buckets older than the window dropped, empty ones up to now added. */
  at(now: number): ArrivalHistory {
    const b = Math.floor(now / this.bucketMs);
    if (b <= this.last) return this;
    const steps = b - this.last;
    this.last = b;
    for (const c of Object.values(this.counts)) {
      if (c.length === 0) continue; // nothing arrived yet: nothing to age
      if (steps >= this.size) c.length = 0;
      else for (let i = 0; i < steps; i++) c.push(0);
      if (c.length > this.size) c.splice(0, c.length - this.size);
      if (c.length === 0) c.push(0);
    }
    return this;
  }
}
