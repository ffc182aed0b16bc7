// Tasks, queues order and leases. Every change of a running task checks its lease id, so a stale
// agent can never complete a task that was handed to another.
import { type Kysely, type Selectable, type Transaction } from 'kysely';
import { randomFillSync } from 'node:crypto';
import type { Database, TaskTable } from './schema.js';
import type { Dialect } from './db.js';
import type { Events } from './events.js';
import type { Lease, Task, TaskSpec, TaskStatus, ValidTask } from '../domain/task.js';
import { ConflictError, NotFoundError } from './errors.js';
import { endBeforeTake, endTask, finishAndTakeOne, headOf, markWorker, scheduleHead, takeTask } from './holds.js';
import { EnqueueBatch } from './enqueue-batch.js';

// Ids come from a pool of random bytes refilled 4 KiB at a time: one system call per id was a visible
// share of a busy queue's CPU.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
export function newId(bytes = 6): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += bytes;
  return pool.toString('hex', poolAt - bytes, poolAt);
}

/** `spec`: the row's spec as an object, when the caller has it (it just wrote the row). */
export function toTask(r: Selectable<TaskTable>, spec?: TaskSpec): Task {
  return {
    id: r.id,
    queue: r.queue,
    name: r.name,
    priority: r.priority,
    status: r.status as TaskStatus,
    spec: spec ?? JSON.parse(r.spec) as TaskSpec,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    workerId: r.worker_id,
    exitCode: r.exit_code,
    statusMessage: r.status_message,
    abortRequested: r.abort_requested === 1,
    createdAt: r.created_at,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
  };
}

export interface FinishReport {
  status: 'completed' | 'failed' | 'aborted';
  exitCode: number | null;
  message?: string;
}

export class TaskRepo {
  private lastPosition = 0;
  private readonly enqueues: EnqueueBatch;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly events: Events,
  ) {
    this.enqueues = new EnqueueBatch(db, dialect);
  }

  /** Later enqueues sort after earlier ones, across replicas too (milliseconds x 1000, then + 1 within a millisecond). */
  private nextPosition(now: number): number {
    // Strictly increasing in this process (a counter that wrapped could put a later task first).
    this.lastPosition = Math.max(now * 1000, this.lastPosition + 1);
    return this.lastPosition;
  }

  /** Enqueues one task (validated by the API with CreateTaskSchema); its queue must exist (checked in the inserting statement). */
  async create(input: ValidTask, createdBy: string | null, now = Date.now()): Promise<Task> {
    const { row, task } = this.newRow(input, createdBy, now);
    if (!await this.enqueues.insert(row)) throw missingQueue(row.queue);
    this.events.publish({ kind: 'enqueue', queue: row.queue });
    return task;
  }

  /** Enqueues several tasks in one statement: all of them or, on any error, none. */
  async createMany(inputs: ValidTask[], createdBy: string | null, now = Date.now()): Promise<Task[]> {
    const made = inputs.map((input) => this.newRow(input, createdBy, now));
    const rows = made.map((m) => m.row);
    const queues = [...new Set(rows.map((r) => r.queue))];
    const known = new Set((await this.db.selectFrom('queues').select('name').where('name', 'in', queues).execute()).map((q) => q.name));
    const missing = queues.find((q) => !known.has(q));
    if (missing) throw missingQueue(missing);
    // SQLite binds at most 32766 values per statement: larger batches go in chunks, in one transaction.
    const CHUNK = 500;
    if (rows.length <= CHUNK) await this.db.insertInto('tasks').values(rows).execute();
    else await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += CHUNK) await tx.insertInto('tasks').values(rows.slice(i, i + CHUNK)).execute();
    });
    for (const queue of queues) this.events.publish({ kind: 'enqueue', queue });
    return made.map((m) => m.task);
  }

  private newRow(t: ValidTask, createdBy: string | null, now: number) {
    const { queue, name, priority, maxAttempts, ...spec } = t;
    const row = {
      id: newId(),
      queue,
      name: name ?? (spec.command ?? spec.git?.entryPoint ?? 'task').slice(0, 80),
      priority,
      position: this.nextPosition(now),
      status: 'queued',
      spec: JSON.stringify(spec),
      attempts: 0,
      max_attempts: maxAttempts,
      abort_requested: 0,
      log_seq: 0,
      log_bytes: 0,
      created_by: createdBy,
      created_at: now,
      queued_at: now,
      worker_id: null, lease_id: null, lease_expires_at: null, exit_code: null, status_message: null, started_at: null, ended_at: null,
    };
    return { row, task: toTask(row, spec) };
  }

  async get(id: string): Promise<Task> {
    const r = await this.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new NotFoundError(`task "${id}" not found`);
    return toTask(r);
  }

  async list(f: { queue?: string; status?: TaskStatus; limit?: number; offset?: number }): Promise<Task[]> {
    let q = this.db.selectFrom('tasks').selectAll();
    if (f.queue) q = q.where('queue', '=', f.queue);
    if (f.status) q = q.where('status', '=', f.status);
    const queuedOrder = f.status === 'queued';
    q = queuedOrder
      ? q.orderBy('priority', 'desc').orderBy('position', 'asc')
      : q.orderBy('created_at', 'desc').orderBy('id');
    const rows = await q.limit(f.limit ?? 100).offset(f.offset ?? 0).execute();
    return rows.map((r) => toTask(r));
  }

  async countByQueueAndStatus(): Promise<{ queue: string; status: string; n: number }[]> {
    const rows = await this.db
      .selectFrom('tasks')
      .select(['queue', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['queue', 'status'])
      .execute();
    return rows.map((r) => ({ queue: r.queue, status: r.status, n: Number(r.n) }));
  }

  /** Per queue: tasks waiting for a worker, and when the oldest of them was queued. */
  async waitingByQueue(queues: string[]): Promise<Record<string, { waiting: number; oldestAt?: number }>> {
    const out: Record<string, { waiting: number; oldestAt?: number }> = {};
    for (const q of queues) out[q] = { waiting: 0 };
    if (!queues.length) return out;
    const rows = await this.db.selectFrom('tasks')
      .select(['queue', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('queued_at').as('oldest')])
      .where('status', '=', 'queued').where('queue', 'in', queues).groupBy('queue').execute();
    for (const r of rows) out[r.queue] = { waiting: Number(r.n), oldestAt: Number(r.oldest) };
    return out;
  }

  /** Takes the head of the first non-empty queue, in the order given. */
  async dequeue(workerId: string, queues: string[], leaseTtlMs: number, now = Date.now()) {
    for (const queue of queues) {
      const got = await this.dequeueOne(workerId, queue, leaseTtlMs, now);
      if (got) return got;
    }
    return null;
  }

  /**
   * Ends the task the worker holds (stale lease: 409, nothing taken), then takes the head of its first non-empty
   * queue. On PostgreSQL the end and the take from the first queue are one statement: one commit, not two.
   */
  async finishAndDequeue(workerId: string, done: FinishReport & { taskId: string; leaseId: string }, queues: string[],
    leaseTtlMs: number, now = Date.now()) {
    if (this.dialect !== 'postgres' || !queues.length) return this.finishThenDequeue(workerId, done, queues, leaseTtlMs, now);
    const lease: Lease = { id: newId(8), expiresAt: now + leaseTtlMs };
    const r = await finishAndTakeOne(this.db, { workerId, done, queue: queues[0], lease, now });
    if (!r) throw staleLease(done.taskId);
    this.events.publish({ kind: 'task', taskId: done.taskId, queue: r.finishedQueue });
    this.events.publish({ kind: 'worker', workerId });
    if (r.taken) return { task: toTask(r.taken), lease };
    return this.dequeue(workerId, queues.slice(1), leaseTtlMs, now);
  }

  /** SQLite: the end, then the take, in the same group commit; the worker's record is written once. */
  private async finishThenDequeue(workerId: string, done: FinishReport & { taskId: string; leaseId: string }, queues: string[],
    leaseTtlMs: number, now: number) {
    const ended = await endBeforeTake(this.db, this.dialect, { taskId: done.taskId, leaseId: done.leaseId, workerId, report: done, now });
    if (!ended) throw staleLease(done.taskId);
    // The end is not yet committed (see endBeforeTake): the worker's record, written last either way, waits for that.
    const got = await this.dequeue(workerId, queues, leaseTtlMs, now);
    if (!got) {
      await markWorker(this.db, this.dialect, workerId, null, now);
      this.events.publish({ kind: 'worker', workerId });
    }
    this.events.publish({ kind: 'task', taskId: ended.id, queue: ended.queue });
    return got;
  }

  /** Takes one specific task (a pod's agent runs exactly the task it was made for). */
  async dequeueById(workerId: string, taskId: string, leaseTtlMs: number, now = Date.now()) {
    return this.take(workerId, taskId, 'queued or scheduled', leaseTtlMs, now);
  }

  private async dequeueOne(workerId: string, queue: string, leaseTtlMs: number, now: number) {
    return this.take(workerId, headOf(this.dialect, queue), 'queued', leaseTtlMs, now);
  }

  /** Starts a task under a new lease; the worker's record says it holds the task (same statement on PostgreSQL). */
  private async take(workerId: string, which: Parameters<typeof takeTask>[2]['which'],
    statuses: Parameters<typeof takeTask>[2]['statuses'], leaseTtlMs: number, now: number) {
    const lease: Lease = { id: newId(8), expiresAt: now + leaseTtlMs };
    const r = await takeTask(this.db, this.dialect, { workerId, which, statuses, lease, now });
    if (!r) return null;
    this.events.publish({ kind: 'worker', workerId });
    return { task: toTask(r), lease };
  }

  /** Extends the lease; tells the agent whether the task was aborted meanwhile. */
  async heartbeat(taskId: string, leaseId: string, leaseTtlMs: number, now = Date.now()) {
    const r = await this.db
      .updateTable('tasks')
      .set({ lease_expires_at: now + leaseTtlMs })
      .where('id', '=', taskId)
      .where('lease_id', '=', leaseId)
      .where('status', '=', 'running')
      .returning(['abort_requested', 'lease_expires_at'])
      .executeTakeFirst();
    if (!r) throw staleLease(taskId);
    return { abort: r.abort_requested === 1, leaseExpiresAt: r.lease_expires_at! };
  }

  /** Ends a running task for the holder of its lease; its worker is idle again (same statement on PostgreSQL). */
  async finish(taskId: string, leaseId: string, rep: FinishReport, now = Date.now(), workerId?: string): Promise<Task> {
    const r = await endTask(this.db, this.dialect, { taskId, leaseId, workerId, report: rep, now });
    if (!r) throw staleLease(taskId);
    this.events.publish({ kind: 'task', taskId, queue: r.queue });
    if (r.worker_id) this.events.publish({ kind: 'worker', workerId: r.worker_id });
    return toTask(r);
  }

  /** The agent hands the task back (it was told to stop): head of its queue, the attempt not counted. */
  async release(taskId: string, leaseId: string, reason: string): Promise<Task> {
    const r = await this.db.transaction().execute(async (tx) => {
      const cur = await tx.selectFrom('tasks').selectAll().where('id', '=', taskId)
        .where('lease_id', '=', leaseId).where('status', '=', 'running').executeTakeFirst();
      if (!cur) throw staleLease(taskId);
      if (cur.abort_requested) return this.end(tx, cur, 'aborted', 'aborted while its agent was stopping');
      return this.requeueAtHead(tx, cur, reason, cur.attempts - 1);
    });
    return toTask(r);
  }

  /** Running tasks whose lease ran out go back to the head of their queue, or fail at the attempt limit. */
  async expireLeases(now = Date.now()): Promise<Task[]> {
    const expired = await this.db.selectFrom('tasks').selectAll()
      .where('status', '=', 'running').where('lease_expires_at', '<', now).execute();
    const out: Task[] = [];
    for (const t of expired) {
      const r = await this.db.transaction().execute((tx) =>
        this.recover(tx, t.id, t.lease_id, `lease expired: worker ${t.worker_id} stopped reporting`));
      if (r) out.push(toTask(r));
    }
    return out;
  }

  /** The worker's machine is gone (spot reclaim, instance lost): recover its task now, not at lease expiry. */
  async recoverFromWorker(workerId: string, reason: string): Promise<Task[]> {
    const held = await this.db.selectFrom('tasks').select(['id', 'lease_id'])
      .where('worker_id', '=', workerId).where('status', '=', 'running').execute();
    const out: Task[] = [];
    for (const t of held) {
      const r = await this.db.transaction().execute((tx) => this.recover(tx, t.id, t.lease_id, reason));
      if (r) out.push(toTask(r));
    }
    return out;
  }

  private async recover(tx: Transaction<Database>, id: string, leaseId: string | null, reason: string) {
    const cur = await tx.selectFrom('tasks').selectAll().where('id', '=', id)
      .where('status', '=', 'running').where('lease_id', '=', leaseId ?? '').executeTakeFirst();
    if (!cur) return null;
    if (cur.abort_requested) return this.end(tx, cur, 'aborted', `aborted; ${reason}`);
    if (cur.attempts >= cur.max_attempts)
      return this.end(tx, cur, 'failed', `${reason}; failed after ${cur.attempts} of ${cur.max_attempts} attempts`);
    return this.requeueAtHead(tx, cur, `${reason}; back at the head of the queue (attempt ${cur.attempts} of ${cur.max_attempts} used)`, cur.attempts);
  }

  /** A scheduled or running task goes back to the head of its queue (e.g. its pod was evicted). */
  async requeue(taskId: string, reason: string): Promise<Task> {
    const r = await this.db.transaction().execute(async (tx) => {
      const cur = await tx.selectFrom('tasks').selectAll().where('id', '=', taskId)
        .where('status', 'in', ['scheduled', 'running']).executeTakeFirst();
      if (!cur) throw new ConflictError(`task "${taskId}" is not scheduled or running`);
      return this.requeueAtHead(tx, cur, reason, cur.attempts);
    });
    return toTask(r);
  }

  private async requeueAtHead(tx: Transaction<Database>, cur: Selectable<TaskTable>, reason: string, attempts: number) {
    const head = await tx.selectFrom('tasks').select((eb) => eb.fn.min('position').as('p'))
      .where('queue', '=', cur.queue).where('status', '=', 'queued').executeTakeFirst();
    const position = Math.min(Number(head?.p ?? cur.position), cur.position) - 1;
    const r = await tx.updateTable('tasks')
      .set({ status: 'queued', position, attempts, worker_id: null, lease_id: null, lease_expires_at: null,
        status_message: reason, queued_at: Date.now(), started_at: null })
      .where('id', '=', cur.id).returningAll().executeTakeFirstOrThrow();
    this.events.publish({ kind: 'enqueue', queue: cur.queue });
    return r;
  }

  private async end(tx: Transaction<Database>, cur: Selectable<TaskTable>, status: TaskStatus, message: string) {
    const r = await tx.updateTable('tasks')
      .set({ status, status_message: message, ended_at: Date.now(), lease_id: null, lease_expires_at: null })
      .where('id', '=', cur.id).returningAll().executeTakeFirstOrThrow();
    this.events.publish({ kind: 'task', taskId: cur.id, queue: cur.queue });
    return r;
  }

  /** Queued or scheduled: ended at once. Running: the agent is told on its next heartbeat. */
  async abort(taskId: string): Promise<Task> {
    const r = await this.db.transaction().execute(async (tx) => {
      const cur = await tx.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
      if (!cur) throw new NotFoundError(`task "${taskId}" not found`);
      if (cur.status === 'queued' || cur.status === 'scheduled') return this.end(tx, cur, 'aborted', 'aborted by user');
      if (cur.status !== 'running') throw new ConflictError(`task "${taskId}" has already ended (${cur.status})`);
      return tx.updateTable('tasks').set({ abort_requested: 1, status_message: 'abort requested; stopping' })
        .where('id', '=', taskId).returningAll().executeTakeFirstOrThrow();
    });
    this.events.publish({ kind: 'task', taskId, queue: r.queue });
    return toTask(r);
  }

  /** Marks a queued task as handed to an outside scheduler (the Kubernetes glue); it stays in its queue's listing. */
  async schedule(taskId: string, message: string): Promise<Task | null> {
    const r = await this.db.updateTable('tasks').set({ status: 'scheduled', status_message: message })
      .where('id', '=', taskId).where('status', '=', 'queued').returningAll().executeTakeFirst();
    return r ? toTask(r) : null;
  }

  /** Atomically takes the head of the queue for an outside scheduler: it keeps its place in the queue's order. */
  async scheduleNext(queue: string, message: string): Promise<Task | null> {
    const r = await scheduleHead(this.db, this.dialect, queue, message);
    return r ? toTask(r) : null;
  }

  async setMessage(taskId: string, message: string): Promise<void> {
    await this.db.updateTable('tasks').set({ status_message: message }).where('id', '=', taskId)
      .where('status', 'in', ['queued', 'scheduled', 'running']).execute();
  }

  /** Ends a task that is not held by an agent lease (e.g. its pod could not pull the image). */
  async failUnleased(taskId: string, status: 'failed' | 'aborted', message: string, exitCode: number | null = null) {
    const r = await this.db.updateTable('tasks')
      .set({ status, status_message: message, exit_code: exitCode, ended_at: Date.now(), lease_id: null, lease_expires_at: null })
      .where('id', '=', taskId).where('status', 'in', ['queued', 'scheduled', 'running'])
      .returningAll().executeTakeFirst();
    if (r) this.events.publish({ kind: 'task', taskId, queue: r.queue });
    return r ? toTask(r) : null;
  }
}


function missingQueue(queue: string) {
  return new NotFoundError(`queue "${queue}" does not exist: create it with "flotilla queue create ${queue}"`);
}

function staleLease(taskId: string) {
  return new ConflictError(
    `lease for task "${taskId}" is no longer valid: the task ended or was handed to another worker`,
  );
}
