// The simulated cloud's synchronous core: boot times, capacity errors and spot interruptions drawn
// from a seeded source. The trace simulator calls it directly (no promises per event); the
// ComputeProvider in provider.ts wraps it for the reconciler's fault tests.
import type { BootTime, Faults } from '../../../domain/autoscaler/simulation-config.js';
import { CapacityError, type Offering } from '../types.js';
import { Rng } from './rng.js';

export interface SimMachine {
  providerId: string;
  clientToken: string;
  appId: string;
  resource: string;
  offering: Offering;
  tags: Record<string, string>;
  launchedAt: number; // ms
  readyAt: number; // ms the worker registers
  interruptAt?: number; // ms a spot reclaim takes it away
  terminatedAt?: number;
}

export const DEFAULT_BOOT: BootTime = { distribution: 'fixed', seconds: 120, sigma: 0.25 };
export const NO_FAULTS: Faults = { capacityErrorRate: 0, spotInterruptionsPerHour: 0, noCapacity: [] };

export class SimCloud {
  private readonly rng: Rng;
  private readonly byToken = new Map<string, SimMachine>();
  private seq = 0;

  constructor(
    seed: number,
    private readonly boot: BootTime = DEFAULT_BOOT,
    private readonly faults: Faults = NO_FAULTS,
    /** Interruptions per spot instance-hour by resource, where it differs from faults.spotInterruptionsPerHour. */
    private readonly spotRates: ReadonlyMap<string, number> = new Map(),
  ) {
    this.rng = new Rng(seed);
  }

  /** Idempotent by clientToken. Throws CapacityError as a real cloud would. */
  launch(req: { appId: string; resource: string; clientToken: string; offering: Offering; tags?: Record<string, string> }, now: number): SimMachine {
    const known = this.byToken.get(req.clientToken);
    if (known) return known;
    const o = req.offering;
    if (this.noCapacity(o) || (this.faults.capacityErrorRate > 0 && this.rng.next() < this.faults.capacityErrorRate))
      throw new CapacityError(`simulated: no capacity for ${o.instanceType} (${o.market}) in ${o.zone ?? 'default zone'}`, o, 'InsufficientInstanceCapacity');
    const m: SimMachine = {
      providerId: `sim-${++this.seq}`,
      clientToken: req.clientToken,
      appId: req.appId,
      resource: req.resource,
      offering: o,
      tags: req.tags ?? {},
      launchedAt: now,
      readyAt: now + this.bootMs(),
    };
    const rate = this.spotRates.get(req.resource) ?? this.faults.spotInterruptionsPerHour;
    if (o.market === 'spot' && rate > 0) m.interruptAt = now + this.rng.exponential(rate) * 3_600_000;
    this.byToken.set(req.clientToken, m);
    return m;
  }

  terminate(providerId: string, now: number): void {
    for (const m of this.byToken.values()) if (m.providerId === providerId && m.terminatedAt === undefined) m.terminatedAt = now;
  }

  /** Every machine launched and not forgotten, terminated ones included (clouds list them a while). */
  machines(): Iterable<SimMachine> {
    return this.byToken.values();
  }

  /** Forget a machine entirely (the simulator calls it once a machine is gone, to keep memory flat). */
  forget(clientToken: string): void {
    this.byToken.delete(clientToken);
  }

  bootMs(): number {
    const b = this.boot;
    if (b.distribution === 'uniform') return 1000 * (b.minSeconds! + (b.maxSeconds! - b.minSeconds!) * this.rng.next());
    if (b.distribution === 'lognormal') return 1000 * b.seconds * Math.exp(b.sigma * this.rng.normal());
    return 1000 * b.seconds;
  }

  private noCapacity(o: Offering): boolean {
    return this.faults.noCapacity.some(
      (n) => n.instanceType === o.instanceType && (n.zone === undefined || n.zone === o.zone) && (n.market === undefined || n.market === o.market),
    );
  }
}
