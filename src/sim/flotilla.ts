// Our policy in the replay: the product's own plan() called after every instant at which anything
// happened (the reconciler wakes on every enqueue and worker change), plus wake-ups at the idle
// timeout, boot timeout and capacity cool-down deadlines that the reconciler's slow tick would catch.
import type { AppConfig } from '../domain/autoscaler/config.js';
import { sameOffering } from '../domain/autoscaler/offerings.js';
import { plan, type QueueView, type Snapshot } from '../domain/autoscaler/policy.js';
import { CapacityError, type Offering } from '../autoscaler/providers/types.js';
import type { Driver, Engine, SimInstance } from './engine.js';

const MAX_REPLANS = 8; // capacity errors re-plan at once; each round marks one more offering unavailable

export class FlotillaDriver implements Driver {
  readonly pollMs = 0; // our agents long-poll: a task is handed over the moment it is queued
  private readonly idleMs: number;
  private readonly bootMs: number;
  private readonly cooldownMs: number;

  constructor(private readonly cfg: AppConfig) {
    this.idleMs = cfg.timings.idleTimeoutS * 1000;
    this.bootMs = cfg.timings.bootTimeoutS * 1000;
    this.cooldownMs = cfg.timings.capacityCooldownS * 1000;
  }

  start(): void {}

  onWake(): void {} // afterEvents runs plan at every instant, wake-ups included

  onIdle(e: Engine, inst: SimInstance): void {
    e.wakeAt(inst.idleSince! + this.idleMs, 'idle-timeout');
  }

  afterEvents(e: Engine): void {
    for (let round = 0; round < MAX_REPLANS; round++) if (!this.apply(e)) return;
  }

  /** One plan and its actions; true when a capacity error calls for planning again. */
  private apply(e: Engine): boolean {
    const actions = plan(snapshotOf(e, this.cooldownMs), this.cfg, e.now);
    const failed: Offering[] = [];
    for (const a of actions) {
      if (a.kind === 'terminate') {
        const inst = e.byId.get(a.instanceId);
        if (inst) e.terminate(inst);
      } else if (a.kind === 'launch') {
        if (failed.some((o) => sameOffering(o, a.offering))) continue;
        const got = e.launch(a.resource, a.offering);
        if (got instanceof CapacityError) {
          failed.push(a.offering);
          e.wakeAt(e.now + this.cooldownMs, 'capacity-cooldown');
        } else if (got.readyAt - got.launchedAt >= this.bootMs) e.wakeAt(got.launchedAt + this.bootMs, 'boot-timeout');
      }
    }
    return failed.length > 0;
  }
}

export function snapshotOf(e: Engine, cooldownMs: number): Snapshot {
  const queues: Record<string, QueueView> = {};
  for (const [q, f] of e.waiting) queues[q] = { waiting: f.length, oldestAt: f.peek()?.submit };
  return { queues, instances: e.live, capacityFailures: e.recentFailures(cooldownMs) };
}
