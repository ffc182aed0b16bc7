// Our policy in the replay: the product's own plan() and act loop run after every instant at which anything
// happened (the reconciler wakes on every enqueue and worker change), plus wake-ups at the idle
// timeout, boot timeout and capacity cool-down deadlines that the reconciler's slow tick would catch.
import type { AppConfig } from '../domain/autoscaler/config.js';
import { plan, type Action, type QueueView, type Snapshot } from '../domain/autoscaler/policy.js';
import { CapacityError } from '../autoscaler/providers/types.js';
import { reconcileSync, type LaunchAction, type LaunchOutcome, type SyncActuator, type TerminateAction } from '../services/act-loop.js';
import type { Driver, Engine, SimInstance } from './engine.js';

export class FlotillaDriver implements Driver {
  readonly pollMs = 0; // our agents long-poll: a task is handed over the moment it is queued
  private readonly idleMs: number;
  private readonly bootMs: number;
  private readonly cooldownMs: number;
  private e!: Engine;
  // Bound once: the replay calls the act loop at every instant.
  private readonly planNow = (): readonly Action[] => {
    const s = snapshotOf(this.e, this.cooldownMs, this.auto);
    const money = this.e.budget;
    if (money) s.budget = money.snapshot(this.e.now, this.e.live);
    const actions = plan(s, this.cfg, this.e.now);
    money?.planned(actions, this.e.now, (q) => this.e.waiting.get(q)?.length ?? 0);
    // The reconciler's slow tick sees a new budget period begin; the replay wakes at it.
    const retry = money?.retryAt(this.e.now);
    if (retry !== undefined) this.e.wakeAt(retry, 'budget-period');
    return actions;
  };
  /** Some resource sizes its warm pool from the forecast: the snapshot carries arrivals, and a tick shrinks the pool. */
  private readonly auto: boolean;
  private tickAt: number | undefined;
  private readonly actuator: SyncActuator = {
    launch: (a: LaunchAction): LaunchOutcome => {
      const e = this.e;
      const got = e.launch(a.resource, a.offering);
      if (got instanceof CapacityError) {
        e.wakeAt(e.now + this.cooldownMs, 'capacity-cooldown');
        return 'capacity-error';
      }
      if (got.readyAt - got.launchedAt >= this.bootMs) e.wakeAt(got.launchedAt + this.bootMs, 'boot-timeout');
      return 'launched';
    },
    terminate: (a: TerminateAction): void => {
      const inst = this.e.byId.get(a.instanceId);
      if (inst) this.e.terminate(inst);
    },
  };

  constructor(private readonly cfg: AppConfig) {
    this.idleMs = cfg.timings.idleTimeoutS * 1000;
    this.bootMs = cfg.timings.bootTimeoutS * 1000;
    this.cooldownMs = cfg.timings.capacityCooldownS * 1000;
    this.auto = cfg.resources.some((r) => r.warm?.mode === 'auto');
  }

  start(e: Engine): void {
    this.e = e;
  }

  // afterEvents runs the act loop at every instant, wake-ups included. The reconciler's slow tick (10 s) is
  // what lets a forecast that decays in quiet hours shrink the pool; the replay ticks per minute, and only
  // while the pool keeps an instance past its idle timeout (nothing else can change between events).
  onWake(e: Engine, tag: string): void {
    if (tag === 'tick') this.tickAt = undefined;
    if (!this.auto || this.tickAt !== undefined || !e.jobsLeft()) return;
    if (e.live.some((i) => !i.busy && i.idleSince !== undefined && e.now - i.idleSince >= this.idleMs)) {
      this.tickAt = e.now + TICK_MS;
      e.wakeAt(this.tickAt, 'tick');
    }
  }

  onIdle(e: Engine, inst: SimInstance): void {
    e.wakeAt(inst.idleSince! + this.idleMs, 'idle-timeout');
  }

  /** The product's own act loop (services/act-loop.ts) over the engine. */
  afterEvents(e: Engine): void {
    this.e = e;
    reconcileSync(this.planNow, this.actuator);
  }
}

export function snapshotOf(e: Engine, cooldownMs: number, arrivals = false): Snapshot {
  const queues: Record<string, QueueView> = {};
  for (const [q, f] of e.waiting) queues[q] = { waiting: f.length, oldestAt: f.peek()?.submit };
  const s: Snapshot = { queues, instances: e.live, capacityFailures: e.recentFailures(cooldownMs) };
  return arrivals ? { ...s, arrivals: e.arrivals.at(e.now) } : s;
}

const TICK_MS = 60_000;
