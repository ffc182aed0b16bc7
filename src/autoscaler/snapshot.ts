// Builds the policy's snapshot from the store: what waits in the app's queues and what its instances do.
import type { Store } from '../store/index.js';
import type { InstanceRecord } from '../store/apps.js';
import type { Worker } from '../domain/task.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import type { CapacityFailure, InstanceView, Snapshot } from '../domain/autoscaler/policy.js';
import { FORECAST } from '../domain/autoscaler/warm.js';

/** The worker an instance runs: registered under the instance id, or under the cloud's own id. */
export function workerOf(rec: InstanceRecord, workers: Map<string, Worker>): Worker | undefined {
  return workers.get(rec.id) ?? (rec.providerId ? workers.get(rec.providerId) : undefined);
}

export function indexWorkers(workers: Worker[]): Map<string, Worker> {
  const m = new Map<string, Worker>();
  for (const w of workers) {
    m.set(w.id, w);
    if (w.instanceId) m.set(w.instanceId, w);
  }
  return m;
}

export async function buildSnapshot(
  store: Store,
  cfg: AppConfig,
  records: InstanceRecord[],
  workers: Map<string, Worker>,
  capacityFailures: CapacityFailure[],
  now: number,
  /** What waits in every queue, when the caller read it already (the console's overview for all apps at once), or when
   * the queues are not Flotilla's (a ClearML server's). */
  waiting?: Record<string, { waiting: number; oldestAt?: number }>,
): Promise<Snapshot> {
  const queues = waiting
    ? Object.fromEntries(Object.keys(cfg.queues).map((q) => [q, waiting[q] ?? { waiting: 0 }]))
    : await store.tasks.waitingUpTo(waitingCaps(cfg));
  const instances: InstanceView[] = [];
  for (const rec of records) {
    // Interrupted: going away, no capacity, and not counted against the maxes (its task needs a machine elsewhere).
    if (rec.state === 'terminated' || rec.state === 'failed' || rec.state === 'interrupted') continue;
    const w = workerOf(rec, workers);
    const registered = !!w && (w.status === 'idle' || w.status === 'busy');
    instances.push({
      id: rec.id,
      resource: rec.resource,
      state: rec.state,
      offering: rec.offering,
      launchedAt: rec.launchedAt,
      busy: !!w?.currentTask,
      idleSince: registered && !w!.currentTask ? w!.idleSince ?? w!.registeredAt : undefined,
      registered,
      ...(registered ? {} : gone(rec, w)),
    });
  }
  // The warm pool's forecast reads the arrivals of the queues; a config without warm: auto never pays for the read.
  if (!cfg.resources.some((r) => r.warm?.mode === 'auto')) return { queues, instances, capacityFailures };
  const arrivals = await store.tasks.arrivals(Object.keys(cfg.queues), now - FORECAST.windowMs, now, FORECAST.bucketMs);
  return { queues, instances, capacityFailures, arrivals };
}

/**
 * The most tasks of each queue the plan could start at once: the maxes of its resources (and the app's).
 * Counting further would not change the plan, and with a deep queue it cost most of a pass.
 */
export function waitingCaps(cfg: AppConfig): Record<string, number> {
  const max = new Map(cfg.resources.map((r) => [r.name, r.maxInstances]));
  return Object.fromEntries(Object.entries(cfg.queues).map(([q, list]) => {
    const sum = list.reduce((n, r) => n + (max.get(r) ?? 0), 0);
    return [q, Math.min(sum, cfg.budget.maxInstances ?? sum) + 1];
  }));
}

/**
 * An instance whose worker registered once (it is ready, or the worker is known) and is no longer up has
 * lost its worker; it is not booting. Stopped workers are not listed, so "ready and no worker" is one that
 * signed off.
 */
function gone(rec: InstanceRecord, w: Worker | undefined): { workerGone?: 'exited' | 'lost' } {
  if (w) return { workerGone: w.status === 'offline' ? 'lost' : 'exited' };
  return rec.state === 'ready' || rec.workerId ? { workerGone: 'exited' } : {};
}
