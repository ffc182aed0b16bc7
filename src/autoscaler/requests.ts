// What a person asked from the console for one instance, carried out by its app's reconciler (the one writer of its
// instances): `terminate` stops it now (its task goes back to its queue); `drain` lets its task finish, gives it no
// new one (the take refuses a draining worker) and stops it once idle. Each step is journaled.
import type { Store } from '../store/index.js';
import type { QueueService } from '../services/queue.js';
import type { InstanceRecord } from '../store/apps.js';
import type { Worker } from '../domain/task.js';
import type { DecisionKind } from '../domain/autoscaler/lifecycle.js';
import { InvalidTransitionError } from '../domain/errors.js';
import type { ComputeProvider } from './providers/types.js';
import type { LiveInstances } from '../store/live-instances.js';
import { workerOf } from './snapshot.js';

export interface RequestContext {
  store: Store;
  queue: QueueService;
  provider: ComputeProvider;
  now: number;
  journal(kind: DecisionKind, reason: string, detail: Record<string, unknown>): Promise<void>;
  /** Where the instance writes go (the reconciler's records, which keep what they wrote). */
  instances: Pick<LiveInstances, 'move'>;
}

/** The instances a person asked to drain or terminate that are still running. */
const requestedAmong = (records: InstanceRecord[]) =>
  records.filter((r) => r.requested && (r.state === 'requested' || r.state === 'booting' || r.state === 'ready'));

/** `records`: the app's live ones; the workers are read only when one of them was asked for. */
export async function carryOutRequests(c: RequestContext, records: InstanceRecord[], workers: () => Promise<Map<string, Worker>>): Promise<void> {
  for (const rec of requestedAmong(records)) {
    const w = workerOf(rec, await workers());
    if (rec.requested === 'terminate') {
      if (w) await c.queue.workerGone(w.id, `instance ${rec.id} terminated from the console`);
      await stop(c, rec, 'terminated from the console');
    } else if (!w) {
      // Nothing runs there yet (or any more): draining it is stopping it.
      await stop(c, rec, 'drained from the console (no worker on it)');
    } else {
      if (!w.draining) {
        await c.store.workers.drain(w.id, c.now);
        // An idle one stops right below: its terminate row says it all.
        if (w.currentTask)
          await c.journal('drain', `${rec.id}: draining from the console: its task ${w.currentTask} finishes, it takes no new one`, { instance: rec.id, task: w.currentTask });
      }
      if (!w.currentTask && await c.queue.stopIfIdle(w.id)) await stop(c, rec, 'drained from the console (idle)');
    }
  }
}

async function stop(c: RequestContext, rec: InstanceRecord, why: string): Promise<void> {
  try {
    await c.instances.move(rec.id, rec.state, 'terminating', { message: why }, c.now);
  } catch (e) {
    if (e instanceof InvalidTransitionError) return; // another writer (the sync) moved it first
    throw e;
  }
  if (rec.providerId) await c.provider.terminate([rec.providerId]);
  await c.journal('terminate', `${rec.id}: ${why}`, { instance: rec.id, reason: 'console' });
}
