// Makes the records agree with what the provider really runs: adopts instances launched before a
// restart, notices instances the cloud took away (their tasks go back at once), and terminates
// tagged instances that no record owns once they are older than a grace period.
import type { QueueService } from '../services/queue.js';
import type { InstanceRecord } from '../store/apps.js';
import type { LiveInstances } from '../store/live-instances.js';
import type { Worker } from '../domain/task.js';
import type { ComputeProvider, ProviderInstance } from './providers/types.js';
import type { DecisionKind } from '../domain/autoscaler/lifecycle.js';
import { workerOf } from './snapshot.js';

export interface SyncOptions {
  app: string;
  now: number;
  /** A launch that shows no instance for this long failed. */
  requestedGraceMs: number;
  /** A tagged instance no record owns is terminated when older than this. */
  orphanGraceMs: number;
  journal(kind: DecisionKind, reason: string, detail: Record<string, unknown>): Promise<void>;
  /** Recovers a lost worker's tasks and stops it, in one transaction. */
  queue: QueueService;
  /** Where the instance writes go (the reconciler's records, which keep what they wrote). */
  instances: Pick<LiveInstances, 'move' | 'update'>;
}

export async function syncWithProvider(
  provider: ComputeProvider,
  records: InstanceRecord[],
  /** Read only for an instance the cloud no longer lists (its worker's tasks go back). */
  workers: () => Promise<Map<string, Worker>>,
  firstSeen: Map<string, number>,
  o: SyncOptions,
): Promise<void> {
  const listed = (await provider.list(o.app)).filter((p) => p.state !== 'terminated');
  const byToken = new Map(listed.filter((p) => p.clientToken).map((p) => [p.clientToken!, p]));
  const byId = new Map(listed.map((p) => [p.providerId, p]));
  const owned = new Set<string>();
  for (const rec of records) {
    const pi = byToken.get(rec.id) ?? (rec.providerId ? byId.get(rec.providerId) : undefined);
    if (pi) {
      owned.add(pi.providerId);
      await present(rec, pi, o);
    } else await absent(rec, workers, o);
  }
  for (const pi of listed) {
    if (owned.has(pi.providerId)) continue;
    const seen = firstSeen.get(pi.providerId) ?? pi.launchedAt?.getTime() ?? o.now;
    firstSeen.set(pi.providerId, seen);
    if (o.now - seen < o.orphanGraceMs) continue;
    await provider.terminate([pi.providerId]);
    firstSeen.delete(pi.providerId);
    await o.journal('orphan-terminated', `terminated ${pi.providerId}: it carries this app's tags but no record owns it`,
      { providerId: pi.providerId, clientToken: pi.clientToken ?? null });
  }
}

async function present(rec: InstanceRecord, pi: ProviderInstance, o: SyncOptions) {
  if (rec.state === 'requested') {
    await o.instances.move(rec.id, 'requested', 'booting', { providerId: pi.providerId, message: 'adopted after a restart' }, o.now);
    await o.journal('adopt', `adopted ${rec.id} (${pi.providerId}), launched before a restart`, { instance: rec.id });
  } else if (!rec.providerId) await o.instances.update(rec.id, { providerId: pi.providerId });
}

async function absent(rec: InstanceRecord, workers: () => Promise<Map<string, Worker>>, o: SyncOptions) {
  if (rec.state === 'requested') {
    if (o.now - rec.launchedAt < o.requestedGraceMs) return; // launch still in flight
    await o.instances.move(rec.id, 'requested', 'failed', { message: 'the launch never produced an instance' }, o.now);
    return;
  }
  if (rec.state === 'terminating') {
    await o.instances.move(rec.id, 'terminating', 'terminated', { message: rec.message ?? 'stopped' }, o.now);
    return;
  }
  const reason = rec.state === 'interrupted'
    ? `instance ${rec.id} is gone (spot interruption, as the cloud announced)`
    : `instance ${rec.id} is gone (spot reclaim or machine lost)`;
  const worker = workerOf(rec, await workers());
  await o.instances.move(rec.id, rec.state, 'terminated', { message: reason }, o.now);
  // The journal tells it in the order it happened: the instance was lost, then its tasks went back.
  await o.journal('instance-lost', reason, { instance: rec.id, providerId: rec.providerId });
  if (worker) {
    const back = await o.queue.workerGone(worker.id, reason);
    for (const t of back) await o.journal('task-recovered', `task ${t.id}: ${t.statusMessage}`, { task: t.id, instance: rec.id });
  }
}
