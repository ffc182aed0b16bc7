// The one source of "now" (epoch ms). Code that decides by time takes a Clock, so tests move time by hand
// instead of sleeping; production passes systemClock.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  constructor(private t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    return (this.t += ms);
  }
  set(t: number): void {
    this.t = t;
  }
}
