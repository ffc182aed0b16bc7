// ClearML's open-source autoscaler as it behaves, for comparison. Source: allegroai/clearml,
// clearml/automation/auto_scaler.py (AutoScaler.supervisor, update_idle_workers, ScalerConfig).
// Where that code has a quirk that would only hurt it, we model the intent and say so here and in
// docs/simulator.md, so the baseline is never weaker than ClearML really is.
import { priceOf } from '../domain/autoscaler/budget.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import { offeringsFor } from '../domain/autoscaler/offerings.js';
import type { Driver, Engine, SimInstance } from './engine.js';

// ScalerConfig defaults: polling_interval_time_min=5, max_idle_time_min=15, max_spin_up_time_min=30.
const CYCLE_MS = 5 * 60_000;
const MAX_IDLE_MS = 15 * 60_000;
const MAX_SPIN_UP_MS = 30 * 60_000;
// clearml-agent daemon: an idle agent polls its queues every 5 s (the stated default).
const AGENT_POLL_MS = 5_000;

export class ClearMlDriver implements Driver {
  readonly pollMs = AGENT_POLL_MS;
  private readonly idleStamp = new Map<SimInstance, number>(); // idle_workers: worker -> first seen idle
  private readonly spun = new Map<SimInstance, number>(); // spun_workers: launched, not yet registered
  private readonly max: Map<string, number>;

  constructor(private readonly cfg: AppConfig) {
    this.max = staticMaxes(cfg);
  }

  start(e: Engine): void {
    e.wakeAt(0, 'cycle');
  }

  afterEvents(): void {} // it only acts in its cycle: supervisor() sleeps polling_interval_time_min between passes

  onWake(e: Engine, tag: string): void {
    if (tag !== 'cycle') return;
    this.cycle(e);
    // The real loop never stops; the replay stops cycling once nothing is left to do.
    if (e.hasWork()) e.wakeAt(e.now + CYCLE_MS, 'cycle');
  }

  private cycle(e: Engine): void {
    this.forgetSpun(e);
    this.updateIdle(e);
    const required = new Set<string>(); // required_idle_resources
    const launches: string[] = []; // allocate_new_resources
    for (const [q, list] of Object.entries(this.cfg.queues)) {
      const entries = e.waiting.get(q)!.length;
      if (entries === 0) continue;
      // free_queue_resources: idle workers plus spun-but-unregistered instances of this queue's resources.
      // (The code matches idle workers by instance type against resource names; we match by resource.)
      let free = 0;
      for (const inst of this.idleStamp.keys()) if (list.includes(inst.resource)) (free++, required.add(inst.resource));
      for (const inst of this.spun.keys()) if (list.includes(inst.resource)) (free++, required.add(inst.resource));
      const spinUp = entries - free;
      const chosen: string[] = [];
      for (const r of list) {
        if (chosen.length >= spinUp) break;
        const running = e.live.filter((i) => i.resource === r && i.registered).length;
        const spun = [...this.spun.keys()].filter((i) => i.resource === r).length;
        const allowed = this.max.get(r)! - running - spun;
        // min(spin_up_count, max_allowed), not the remainder: ClearML's over-allocation when a queue lists two resources.
        if (allowed > 0) for (let k = 0; k < Math.min(spinUp, allowed); k++) chosen.push(r);
      }
      launches.push(...chosen);
    }
    for (const r of launches) {
      // spin_up_worker uses the resource's one configured market and zone; a failure is logged and skipped.
      const got = e.launch(r, offeringsFor(this.cfg.resources.find((x) => x.name === r)!)[0]!);
      if (!(got instanceof Error)) this.spun.set(got, e.now);
    }
    for (const [inst, stamp] of this.idleStamp) {
      if (required.has(inst.resource)) continue; // "skip resource types that might be needed"
      if (e.now - stamp > MAX_IDLE_MS) {
        e.terminate(inst);
        this.idleStamp.delete(inst);
      }
    }
  }

  /** Registered workers leave spun_workers; ones not registered in max_spin_up_time_min are forgotten (not stopped). */
  private forgetSpun(e: Engine): void {
    for (const [inst, at] of this.spun)
      if (!inst.live || inst.registered || e.now - at > MAX_SPIN_UP_MS) this.spun.delete(inst);
  }

  /** update_idle_workers: stamped when first seen idle at a cycle, dropped when seen busy at one. */
  private updateIdle(e: Engine): void {
    for (const inst of this.idleStamp.keys()) if (!inst.live) this.idleStamp.delete(inst);
    for (const inst of e.live) {
      if (!inst.registered) continue;
      if (!inst.busy) {
        if (!this.idleStamp.has(inst)) this.idleStamp.set(inst, e.now);
      } else this.idleStamp.delete(inst);
    }
  }
}

/**
 * ClearML has no $/h or app-wide budget, only max instances per resource. A user holding a budget
 * must split it into static maxes: we give each resource an equal share of the $/h cap (and of the
 * app max), never above its own max.
 */
export function staticMaxes(cfg: AppConfig): Map<string, number> {
  const n = cfg.resources.length;
  const { maxPerHour, maxInstances } = cfg.budget;
  return new Map(
    cfg.resources.map((r) => {
      let m = r.maxInstances;
      if (maxPerHour !== undefined && priceOf(r) > 0) m = Math.min(m, Math.floor(maxPerHour / n / priceOf(r)));
      if (maxInstances !== undefined) m = Math.min(m, Math.floor(maxInstances / n));
      return [r.name, m];
    }),
  );
}
