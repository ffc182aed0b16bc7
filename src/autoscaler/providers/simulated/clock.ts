// Virtual time in ms. The simulator and fault tests move it; nothing here reads the wall clock.
export class VirtualClock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  set(ms: number): void {
    if (ms < this.t) throw new Error(`virtual clock cannot go back from ${this.t} to ${ms}`);
    this.t = ms;
  }
  advance(ms: number): void {
    this.set(this.t + ms);
  }
}
