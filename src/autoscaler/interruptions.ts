// Spot interruptions as the control plane sees them. The agent on the machine reports the cloud's notice
// (recordInterruption, from its API route): the instance becomes `interrupted`, which is no capacity, and
// the journal says so. The reconciler then cools the offering down as after a capacity error, so the
// relaunch for the handed-back task takes the normal fallback (another zone, then on-demand), and stops
// the machine once its worker has left, in case the cloud only stops it (a GCE preemption) or never does.
import type { Store } from '../store/index.js';
import type { InstanceRecord, InstanceRepo } from '../store/apps.js';
import type { Worker } from '../domain/task.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import type { CapacityFailure } from '../domain/autoscaler/policy.js';
import type { DecisionKind } from '../domain/autoscaler/lifecycle.js';
import type { Offering } from '../domain/autoscaler/offering.js';
import { describeOffering } from '../domain/autoscaler/offerings.js';
import { InvalidTransitionError } from '../domain/errors.js';
import type { ComputeProvider } from './providers/types.js';
import { workerOf } from './snapshot.js';

export interface InterruptionReport {
  kind: 'notice' | 'rebalance';
  source: 'aws' | 'gcp';
  action?: string;
  at?: number;
}

/** The worker's instance: by the instance id it registered with (ours, or the cloud's own). */
async function instanceOf(store: Store, w: Worker): Promise<InstanceRecord | undefined> {
  if (!w.app) return undefined;
  const live = await store.instances.live(w.app);
  return live.find((r) => r.id === w.instanceId || r.id === w.id || (r.providerId !== null && (r.providerId === w.instanceId || r.providerId === w.id)));
}

/**
 * Records what a worker's agent reported. A notice moves its instance to `interrupted` (a worker that no
 * autoscaler launched has none: only the journal-less answer says so); a rebalance is journaled.
 */
export async function recordInterruption(store: Store, w: Worker, r: InterruptionReport, now: number): Promise<{ instance: string | null; state: string | null }> {
  const rec = await instanceOf(store, w);
  if (!rec || !w.app) return { instance: null, state: null };
  const queue = w.currentTask ? (await store.tasks.get(w.currentTask).catch(() => null))?.queue ?? null : null;
  const where = `${rec.id} (${describeOffering(rec.offering)})`;
  if (r.kind === 'rebalance') {
    await store.decisions.add({ at: now, app: w.app, queue, kind: 'rebalance', detail: { instance: rec.id, offering: rec.offering, source: r.source },
      reason: `${where}: the cloud recommends leaving it (rebalance); its agent takes no new task` });
    return { instance: rec.id, state: rec.state };
  }
  const when = r.at ? ` at ${new Date(r.at).toISOString()}` : '';
  const reason = `spot interruption: the cloud will ${r.action ?? 'reclaim'} ${where}${when}; its task goes back to the head of its queue, ` +
    `and ${describeOffering(rec.offering)} cools down like a capacity error`;
  const state = await markInterrupted(store, rec, reason, now);
  await store.decisions.add({ at: now, app: w.app, queue, kind: 'interrupted', reason,
    detail: { instance: rec.id, offering: rec.offering, source: r.source, action: r.action ?? null, at: r.at ?? null } });
  return { instance: rec.id, state };
}

/**
 * booting|ready → interrupted. A pass may move it booting → ready meanwhile (its worker registered): then
 * again from the state it has now. One that is already going (terminating, ended) keeps its story.
 */
async function markInterrupted(store: Store, rec: InstanceRecord, reason: string, now: number): Promise<string> {
  let cur: InstanceRecord | null = rec;
  for (let tries = 0; cur && (cur.state === 'booting' || cur.state === 'ready') && tries < 3; tries++) {
    try {
      await store.instances.move(cur.id, cur.state, 'interrupted', { message: reason }, now);
      return 'interrupted';
    } catch (e) {
      if (!(e instanceof InvalidTransitionError)) throw e;
      cur = await store.instances.get(rec.id);
    }
  }
  return cur?.state ?? rec.state;
}

/** Interruptions still cooling down, from the journal (what `task why` and a restarted reconciler see). */
export async function recentInterruptions(store: Store, cfg: AppConfig, now: number): Promise<CapacityFailure[]> {
  const since = now - cfg.timings.capacityCooldownS * 1000;
  const rows = await store.decisions.recent({ app: cfg.name, kind: 'interrupted', since, limit: 100 });
  return rows.filter((d) => d.detail.offering).map((d) => ({ offering: d.detail.offering as Offering, at: d.at }));
}

type Journal = (kind: DecisionKind, queue: string | null, reason: string, detail: Record<string, unknown>) => Promise<void>;

/** The reconciler's side: cool-downs for interrupted offerings, and the stop of a machine its worker left. */
export class InterruptedInstances {
  private cooled = new Set<string>();
  private seeded = false;

  constructor(private readonly store: Store, private readonly provider: ComputeProvider) {}

  /**
   * Adds a cool-down for each interrupted instance not seen before (the records are the reconciler's live ones);
   * the first time, also those the journal holds (a restarted control plane still avoids a reclaimed offering).
   */
  async coolDown(cfg: AppConfig, records: InstanceRecord[], failures: CapacityFailure[], now: number): Promise<void> {
    if (!this.seeded) {
      this.seeded = true;
      failures.push(...await recentInterruptions(this.store, cfg, now));
    }
    for (const rec of records) {
      if (rec.state !== 'interrupted' || this.cooled.has(rec.id)) continue;
      this.cooled.add(rec.id);
      failures.push({ offering: rec.offering, at: rec.stateChangedAt });
    }
  }

  /** An interrupted instance whose worker left (handed its task back, signed off) or was lost is stopped now. */
  async settle(records: InstanceRecord[], workers: Map<string, Worker>, now: number, journal: Journal,
    instances: Pick<InstanceRepo, 'move'> = this.store.instances): Promise<void> {
    for (const rec of records) {
      if (rec.state !== 'interrupted') continue;
      const w = workerOf(rec, workers);
      if (w && (w.status === 'idle' || w.status === 'busy')) continue;
      try {
        await instances.move(rec.id, 'interrupted', 'terminating', { message: 'interrupted; its worker has left' }, now);
      } catch (e) {
        if (!(e instanceof InvalidTransitionError)) throw e;
        continue;
      }
      if (rec.providerId) await this.provider.terminate([rec.providerId]);
      rec.state = 'terminating';
      await journal('terminate', null, `${rec.id}: interrupted, and its worker has left; stopped`, { instance: rec.id, reason: 'interrupted' });
    }
  }
}
