// Agents registered as workers: which queues they serve, what they hold, when they were last seen.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, WorkerTable } from './schema.js';
import type { Worker } from '../domain/task.js';

export interface Registration {
  id: string;
  queues: string[];
  tokenId: string | null;
  app?: string | null;
  resource?: string | null;
  instanceId?: string | null;
}

export function toWorker(r: Selectable<WorkerTable>, offlineAfterMs: number, now = Date.now()): Worker {
  const status = r.stopped_at ? 'stopped' : now - r.last_seen > offlineAfterMs ? 'offline' : r.current_task ? 'busy' : 'idle';
  return {
    id: r.id,
    queues: JSON.parse(r.queues),
    app: r.app,
    resource: r.resource,
    instanceId: r.instance_id,
    currentTask: r.current_task,
    registeredAt: r.registered_at,
    lastSeen: r.last_seen,
    idleSince: r.idle_since,
    status,
    ...(r.draining_at !== null && r.draining_at !== undefined ? { draining: true } : {}),
  };
}

const IDENTITY_CACHE_MS = 5_000;

export class WorkerRepo {
  private readonly identities = new Map<string, { identity: { tokenId: string | null; queues: string[] }; until: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    readonly offlineAfterMs: number,
  ) {}

  /**
   * Registers (or registers again) a worker; its event is the queue service's to publish. Null, and nothing
   * changed, when the worker is another token's that is still valid (no take-over of a live agent's worker):
   * in the one upsert statement, so two tokens racing for a new id cannot both win.
   */
  async register(reg: Registration, now: number): Promise<Worker | null> {
    const values = {
      queues: JSON.stringify(reg.queues),
      token_id: reg.tokenId,
      app: reg.app ?? null,
      resource: reg.resource ?? null,
      instance_id: reg.instanceId ?? null,
      current_task: null,
      registered_at: now,
      last_seen: now,
      idle_since: now,
      stopped_at: null,
    };
    const r = await this.db.insertInto('workers').values({ id: reg.id, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values).where(sql<boolean>`workers.token_id IS NULL
        OR excluded.token_id IS NULL OR workers.token_id = excluded.token_id
        OR NOT EXISTS (SELECT 1 FROM tokens t WHERE t.id = workers.token_id AND (t.expires_at IS NULL OR t.expires_at >= ${now}))`))
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) !== 1) return null;
    this.remember(reg.id, reg.tokenId, reg.queues, now);
    return this.get(reg.id, now);
  }

  async get(id: string, now?: number): Promise<Worker | null> {
    const r = await this.db.selectFrom('workers').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toWorker(r, this.offlineAfterMs, now) : null;
  }

  /** The token that registered the worker (undefined: no such worker). */
  async tokenOf(id: string): Promise<string | null | undefined> {
    return (await this.identity(id))?.tokenId;
  }

  /**
   * Who registered a worker and for which queues, asked on every dequeue: kept in memory for a few seconds
   * (a registration through this replica updates it at once).
   */
  async identity(id: string, now = Date.now()): Promise<{ tokenId: string | null; queues: string[] } | undefined> {
    const hit = this.identities.get(id);
    if (hit && hit.until > now) return hit.identity;
    const r = await this.db.selectFrom('workers').select(['token_id', 'queues']).where('id', '=', id).executeTakeFirst();
    if (!r) return undefined;
    return this.remember(id, r.token_id, JSON.parse(r.queues), now);
  }

  private remember(id: string, tokenId: string | null, queues: string[], now: number) {
    if (this.identities.size > 10_000) this.identities.clear();
    const identity = { tokenId, queues };
    this.identities.set(id, { identity, until: now + IDENTITY_CACHE_MS });
    return identity;
  }

  /** The workers a token registered that are not stopped (the ClearML adapter tells its agents apart by them). */
  async ofToken(tokenId: string, now = Date.now()): Promise<Worker[]> {
    const rows = await this.db.selectFrom('workers').selectAll().where('token_id', '=', tokenId)
      .where('stopped_at', 'is', null).orderBy('id').execute();
    return rows.map((r) => toWorker(r, this.offlineAfterMs, now));
  }

  async list(includeStopped = false): Promise<Worker[]> {
    let q = this.db.selectFrom('workers').selectAll().orderBy('registered_at');
    if (!includeStopped) q = q.where('stopped_at', 'is', null);
    return (await q.execute()).map((r) => toWorker(r, this.offlineAfterMs));
  }

  /** The workers an autoscaler app's instances may run, not stopped: its own, and any registered for an instance. */
  async forApp(app: string): Promise<Worker[]> {
    const rows = await this.db.selectFrom('workers').selectAll().where('stopped_at', 'is', null)
      .where((eb) => eb.or([eb('app', '=', app), eb('instance_id', 'is not', null)])).orderBy('registered_at').execute();
    return rows.map((r) => toWorker(r, this.offlineAfterMs));
  }

  // Changes of a worker's record, for the queue service (services/queue.ts), which publishes the events:
  // `db` is the service's transaction when the change goes with a task's.

  async seen(id: string, now: number, db: Kysely<Database> = this.db): Promise<void> {
    await db.updateTable('workers').set({ last_seen: now }).where('id', '=', id).execute();
  }

  /** Busy with a task, or idle again (taskId null); the worker was seen now. */
  async setTask(id: string, taskId: string | null, now: number, db: Kysely<Database> = this.db): Promise<void> {
    await db.updateTable('workers')
      .set({ current_task: taskId, idle_since: taskId ? null : now, last_seen: now })
      .where('id', '=', id).execute();
  }

  /**
   * Idle again, if the worker still holds `taskId` (one that moved on keeps its new task). `seen`: the worker
   * itself asked (a release); not when its lease ran out or its pod went (that worker may be dead).
   */
  async letGo(id: string, taskId: string, now: number, seen: boolean, db: Kysely<Database> = this.db): Promise<boolean> {
    const r = await db.updateTable('workers')
      .set({ current_task: null, idle_since: now, ...(seen ? { last_seen: now } : {}) })
      .where('id', '=', id).where('current_task', '=', taskId).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Stops a worker only if it holds no task; false when it took one meanwhile. */
  async stopIfIdle(id: string, now: number, db: Kysely<Database> = this.db): Promise<boolean> {
    const r = await db.updateTable('workers').set({ stopped_at: now }).where('id', '=', id)
      .where('current_task', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Drains a worker (console): it takes no new task; its reconciler stops it once it is idle. */
  async drain(id: string, now: number): Promise<void> {
    await this.db.updateTable('workers').set({ draining_at: now }).where('id', '=', id).where('draining_at', 'is', null).execute();
  }

  async stop(id: string, now: number, db: Kysely<Database> = this.db): Promise<void> {
    await db.updateTable('workers').set({ stopped_at: now, current_task: null }).where('id', '=', id).execute();
  }
}
