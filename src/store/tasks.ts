// Tasks, queues order and leases: the data layer of the queue service (services/queue.ts), which decides
// every transition, keeps the worker's record in step and publishes the events after COMMIT. Nothing here
// publishes an event or reads the time: `now` comes from the service's clock. Every change of a running task
// checks its lease id, so a stale agent can never complete a task that was handed to another.
import { sql, type Kysely, type Selectable } from 'kysely';
import { randomFillSync } from 'node:crypto';
import type { Database, TaskTable } from './schema.js';
import type { Lease, Task, TaskSpec, TaskStatus, ValidTask } from '../domain/task.js';
import type { ArrivalHistory } from '../domain/autoscaler/warm.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { endBeforeTake, endTask, finishAndTakeOne, headOf, markWorker, scheduleHead, takeTask } from './holds.js';
import { EnqueueBatch } from './enqueue-batch.js';
import { waitingUpTo, type Depth } from './queue-depth.js';
import type { HotPath } from './hot-sql.js';

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

const encodeCursor = (parts: (string | number)[]) => Buffer.from(parts.join(':')).toString('base64url');
/** A cursor from an earlier page; one that is not (edited, or from another listing) is a ValidationError-like 400. */
function decodeCursor(c: string): string[] {
  const parts = Buffer.from(c, 'base64url').toString().split(':');
  if (parts.length !== 2 || !/^-?\d+$/.test(parts[0])) throw new BadCursorError();
  return parts;
}

export class BadCursorError extends Error {
  readonly statusCode = 400;
  constructor() {
    super('cursor: not a cursor this listing gave; start again without it');
  }
}

export interface FinishReport {
  status: 'completed' | 'failed' | 'aborted';
  exitCode: number | null;
  message?: string;
}

/** A task taken under a new lease. */
export interface Taken { task: Task; lease: Lease }

/** The database or a transaction of it: the steps of a transition run in the service's transaction. */
export type Executor = Kysely<Database>;

export class TaskRepo {
  private lastPosition = 0;
  private readonly enqueues: EnqueueBatch;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly hot: HotPath,
  ) {
    this.enqueues = new EnqueueBatch(hot);
  }

  /** Later enqueues sort after earlier ones, across replicas too (milliseconds x 1000, then + 1 within a millisecond). */
  private nextPosition(now: number): number {
    // Strictly increasing in this process (a counter that wrapped could put a later task first).
    this.lastPosition = Math.max(now * 1000, this.lastPosition + 1);
    return this.lastPosition;
  }

  /** Enqueues one task (validated by the API with CreateTaskSchema); its queue must exist (checked in the inserting statement). */
  async create(input: ValidTask, createdBy: string | null, now: number): Promise<Task> {
    const { row, task } = this.newRow(input, createdBy, now);
    if (!await this.enqueues.insert(row)) throw missingQueue(row.queue);
    return task;
  }

  /** Enqueues several tasks in one statement: all of them or, on any error, none. */
  async createMany(inputs: ValidTask[], createdBy: string | null, now: number): Promise<Task[]> {
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
    return (await this.page(f)).tasks;
  }

  /**
   * One page of tasks, newest first (queued ones in queue order), and the cursor of the next page: keyset paging, so
   * page 100 of a long list costs what page 1 does (an offset reads and drops every row before it).
   */
  async page(f: { queue?: string; status?: TaskStatus; limit?: number; offset?: number; cursor?: string }): Promise<{ tasks: Task[]; nextCursor: string | null }> {
    let q = this.db.selectFrom('tasks').selectAll();
    if (f.queue) q = q.where('queue', '=', f.queue);
    if (f.status) q = q.where('status', '=', f.status);
    const queuedOrder = f.status === 'queued';
    const after = f.cursor ? decodeCursor(f.cursor) : undefined;
    if (after && queuedOrder) {
      const [priority, position] = after.map(Number);
      q = q.where((eb) => eb.or([eb('priority', '<', priority), eb.and([eb('priority', '=', priority), eb('position', '>', position)])]));
    } else if (after) {
      const [createdAt, id] = after;
      q = q.where((eb) => eb.or([eb('created_at', '<', Number(createdAt)), eb.and([eb('created_at', '=', Number(createdAt)), eb('id', '>', id)])]));
    }
    q = queuedOrder
      ? q.orderBy('priority', 'desc').orderBy('position', 'asc')
      : q.orderBy('created_at', 'desc').orderBy('id');
    const limit = f.limit ?? 100;
    const rows = await q.limit(limit + 1).offset(after ? 0 : f.offset ?? 0).execute();
    const more = rows.length > limit;
    const tasks = rows.slice(0, limit);
    const last = tasks[tasks.length - 1];
    const nextCursor = more && last ? encodeCursor(queuedOrder ? [last.priority, last.position] : [last.created_at, last.id]) : null;
    return { tasks: tasks.map((r) => toTask(r)), nextCursor };
  }

  /** The scheduled and running tasks of these queues, in one statement per 500 queues (SQLite's bound-value cap). */
  async active(queues: string[]): Promise<Task[]> {
    const unique = [...new Set(queues)];
    const out: Task[] = [];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.db.selectFrom('tasks').selectAll()
        .where('queue', 'in', unique.slice(i, i + 500)).where('status', 'in', ['scheduled', 'running'])
        .orderBy('created_at', 'desc').orderBy('id').execute();
      out.push(...rows.map((r) => toTask(r)));
    }
    return out;
  }

  async countByQueueAndStatus(): Promise<{ queue: string; status: string; n: number }[]> {
    const rows = await this.db
      .selectFrom('tasks')
      .select(['queue', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['queue', 'status'])
      .execute();
    return rows.map((r) => ({ queue: r.queue, status: r.status, n: Number(r.n) }));
  }

  /** How long each task started since `since` waited (queued → started), by queue: the console's wait percentiles. */
  async waitsSince(since: number): Promise<Map<string, number[]>> {
    const rows = await this.db.selectFrom('tasks').select(['queue', 'queued_at', 'started_at'])
      .where('started_at', '>=', since).execute();
    const out = new Map<string, number[]>();
    for (const r of rows) {
      const list = out.get(r.queue) ?? [];
      list.push(Math.max(0, Number(r.started_at) - Number(r.queued_at)));
      out.set(r.queue, list);
    }
    return out;
  }

  /** Tasks of these queues that ran and ended since `since` (a trace of what an app served), oldest first. */
  async endedSince(queues: string[], since: number, limit: number): Promise<{ id: string; queue: string; createdAt: number; startedAt: number; endedAt: number }[]> {
    if (!queues.length) return [];
    const rows = await this.db.selectFrom('tasks').select(['id', 'queue', 'created_at', 'started_at', 'ended_at'])
      .where('queue', 'in', queues).where('started_at', '>=', since).where('ended_at', 'is not', null)
      .orderBy('created_at').limit(limit).execute();
    return rows.map((r) => ({ id: r.id, queue: r.queue, createdAt: Number(r.created_at), startedAt: Number(r.started_at), endedAt: Number(r.ended_at) }));
  }

  /** Per queue: tasks waiting for a worker, and when the oldest of them was queued. */
  /** Per queue: tasks waiting, counted up to its cap, and when its head was queued (queue-depth.ts). */
  waitingUpTo(caps: Readonly<Record<string, number>>): Promise<Record<string, Depth>> {
    return waitingUpTo(this.db, this.hot, caps);
  }

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

  /**
   * Tasks created per queue in buckets aligned on multiples of bucketMs, from the bucket holding `since` to
   * the one holding `now`: the warm pool's arrival history (domain/autoscaler/warm.ts). One grouped read.
   */
  async arrivals(queues: string[], since: number, now: number, bucketMs: number): Promise<ArrivalHistory> {
    const first = Math.floor(since / bucketMs);
    const last = Math.floor(now / bucketMs);
    const counts: Record<string, number[]> = {};
    for (const q of queues) counts[q] = new Array<number>(last - first + 1).fill(0);
    if (queues.length) {
      const bucket = sql<number>`(created_at / ${sql.lit(Math.round(bucketMs))})`; // a literal: PostgreSQL matches the GROUP BY to the select by text
      const rows = await this.db.selectFrom('tasks')
        .select(['queue', bucket.as('b'), (eb) => eb.fn.countAll<number>().as('n')])
        .where('queue', 'in', queues).where('created_at', '>=', first * bucketMs).where('created_at', '<=', now)
        .groupBy(['queue', bucket]).execute();
      for (const r of rows) {
        const i = Math.floor(Number(r.b)) - first;
        if (i >= 0 && i < counts[r.queue]!.length) counts[r.queue]![i] = Number(r.n);
      }
    }
    return { bucketMs, last, counts };
  }

  // The hot path: one statement each (PostgreSQL) or statements in one group commit (SQLite), no transaction.

  /** Takes the head of the first non-empty queue, in the order given; the worker's record says it holds it. */
  async dequeue(workerId: string, queues: string[], leaseTtlMs: number, now: number): Promise<Taken | null> {
    for (const queue of queues) {
      const got = await this.take(workerId, headOf(this.hot.dialect, queue), 'queued', leaseTtlMs, now);
      if (got) return got;
    }
    return null;
  }

  /**
   * Ends the task the worker holds (stale lease: 409, nothing taken), then takes the head of its first non-empty
   * queue. On PostgreSQL the end and the take from the first queue are one statement: one commit, not two.
   * Answers once both are committed; `finished` is the ended task's queue (for the service's events).
   */
  async finishAndDequeue(workerId: string, done: FinishReport & { taskId: string; leaseId: string }, queues: string[],
    leaseTtlMs: number, now: number): Promise<{ finishedQueue: string; taken: Taken | null }> {
    if (this.hot.dialect !== 'postgres' || !queues.length) return this.finishThenDequeue(workerId, done, queues, leaseTtlMs, now);
    const lease: Lease = { id: newId(8), expiresAt: now + leaseTtlMs };
    const r = await finishAndTakeOne(this.hot, { workerId, done, queue: queues[0], lease, now });
    if (!r) throw staleLease(done.taskId);
    if (r.taken) return { finishedQueue: r.finishedQueue, taken: { task: toTask(r.taken), lease } };
    return { finishedQueue: r.finishedQueue, taken: await this.dequeue(workerId, queues.slice(1), leaseTtlMs, now) };
  }

  /** SQLite: the end, then the take, in the same group commit; the worker's record is written once. */
  private async finishThenDequeue(workerId: string, done: FinishReport & { taskId: string; leaseId: string }, queues: string[],
    leaseTtlMs: number, now: number) {
    const ended = await endBeforeTake(this.hot, { taskId: done.taskId, leaseId: done.leaseId, workerId, report: done, now });
    if (!ended) throw staleLease(done.taskId);
    // The end is not yet committed (see endBeforeTake): the worker's record, written last either way, waits for that.
    const taken = await this.dequeue(workerId, queues, leaseTtlMs, now);
    if (!taken) await markWorker(this.hot, workerId, null, now);
    return { finishedQueue: ended.queue, taken };
  }

  /** Takes one specific task (a pod's agent runs exactly the task it was made for). */
  async dequeueById(workerId: string, taskId: string, leaseTtlMs: number, now: number): Promise<Taken | null> {
    return this.take(workerId, taskId, 'queued or scheduled', leaseTtlMs, now);
  }

  /** Starts a task under a new lease; the worker's record says it holds the task (same statement on PostgreSQL). */
  private async take(workerId: string, which: Parameters<typeof takeTask>[1]['which'],
    statuses: Parameters<typeof takeTask>[1]['statuses'], leaseTtlMs: number, now: number): Promise<Taken | null> {
    const lease: Lease = { id: newId(8), expiresAt: now + leaseTtlMs };
    const r = await takeTask(this.hot, { workerId, which, statuses, lease, now });
    return r ? { task: toTask(r), lease } : null;
  }

  /** Extends the lease; tells the agent whether the task was aborted meanwhile. */
  async heartbeat(taskId: string, leaseId: string, leaseTtlMs: number, now: number) {
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

  /**
   * Who holds a running task, and under which lease: for an adapter whose clients name the task but not the lease
   * (the ClearML API, src/clearml/); it still changes the task only through the queue service with this lease.
   */
  async holder(taskId: string): Promise<{ workerId: string; leaseId: string } | undefined> {
    const r = await this.db.selectFrom('tasks').select(['worker_id', 'lease_id'])
      .where('id', '=', taskId).where('status', '=', 'running').executeTakeFirst();
    return r?.worker_id && r.lease_id ? { workerId: r.worker_id, leaseId: r.lease_id } : undefined;
  }

  /** Whether an abort was asked for the task this lease runs (a read: the lease is not extended); a stale lease: 409. */
  async abortRequested(taskId: string, leaseId: string): Promise<boolean> {
    const r = await this.db.selectFrom('tasks').select('abort_requested')
      .where('id', '=', taskId).where('lease_id', '=', leaseId).where('status', '=', 'running')
      .executeTakeFirst();
    if (!r) throw staleLease(taskId);
    return r.abort_requested === 1;
  }

  /** Ends a running task for the holder of its lease; its worker is idle again (same statement on PostgreSQL). */
  async finish(taskId: string, leaseId: string, rep: FinishReport, now: number, workerId?: string): Promise<Task> {
    const r = await endTask(this.hot, { taskId, leaseId, workerId, report: rep, now });
    if (!r) throw staleLease(taskId);
    return toTask(r);
  }

  /** Atomically takes the head of the queue for an outside scheduler: it keeps its place in the queue's order. */
  async scheduleNext(queue: string, message: string): Promise<Task | null> {
    const r = await scheduleHead(this.hot, queue, message);
    return r ? toTask(r) : null;
  }

  async setMessage(taskId: string, message: string): Promise<void> {
    await this.db.updateTable('tasks').set({ status_message: message }).where('id', '=', taskId)
      .where('status', 'in', ['queued', 'scheduled', 'running']).execute();
  }

  // Steps of the service's transactions: each runs in the transaction `tx` it is given.

  /**
   * The task, locked for the rest of the transaction (PostgreSQL; SQLite runs one transaction at a time),
   * when it is in one of `statuses` (and, given, held under `leaseId`). Undefined otherwise.
   */
  async lock(tx: Executor, taskId: string, where: { statuses?: TaskStatus[]; leaseId?: string } = {}): Promise<Task | undefined> {
    let q = tx.selectFrom('tasks').selectAll().where('id', '=', taskId);
    if (where.statuses) q = q.where('status', 'in', where.statuses);
    if (where.leaseId !== undefined) q = q.where('lease_id', '=', where.leaseId);
    if (this.hot.dialect === 'postgres') q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? toTask(r) : undefined;
  }

  /** A running task's holder changes, its lease kept (the queue service's handOver). */
  async setHolder(tx: Executor, taskId: string, workerId: string): Promise<void> {
    await tx.updateTable('tasks').set({ worker_id: workerId }).where('id', '=', taskId).where('status', '=', 'running').execute();
  }

  /** Running tasks of a worker, locked (see lock). */
  async lockRunningOn(tx: Executor, workerId: string): Promise<Task[]> {
    let q = tx.selectFrom('tasks').selectAll().where('worker_id', '=', workerId).where('status', '=', 'running');
    if (this.hot.dialect === 'postgres') q = q.forUpdate();
    return (await q.execute()).map((r) => toTask(r));
  }

  /** Running tasks whose lease ran out before `now`: their ids and leases. */
  async expiredLeases(now: number): Promise<{ id: string; leaseId: string }[]> {
    const rows = await this.db.selectFrom('tasks').select(['id', 'lease_id'])
      .where('status', '=', 'running').where('lease_expires_at', '<', now).execute();
    return rows.map((r) => ({ id: r.id, leaseId: r.lease_id ?? '' }));
  }

  /** Puts the task back at the head of its queue, with `attempts` counted, no worker and no lease. */
  async requeueAtHead(tx: Executor, task: Task, reason: string, attempts: number, now: number): Promise<Task> {
    // The head of the queue, or the task's own place if it was further ahead still.
    // The run that ends here is kept for cost attribution (the task's row keeps only its last run).
    if (task.workerId && task.startedAt !== null)
      await tx.insertInto('task_runs').values({ task_id: task.id, queue: task.queue, worker_id: task.workerId,
        started_at: task.startedAt, ended_at: Math.max(now, task.startedAt) }).onConflict((oc) => oc.doNothing()).execute();
    const head = await tx.selectFrom('tasks').select((eb) => eb.fn.min('position').as('p'))
      .where('queue', '=', task.queue)
      .where((eb) => eb.or([eb('status', '=', 'queued'), eb('id', '=', task.id)])).executeTakeFirstOrThrow();
    const r = await tx.updateTable('tasks')
      .set({ status: 'queued', position: Number(head.p) - 1, attempts, worker_id: null, lease_id: null, lease_expires_at: null,
        status_message: reason, queued_at: now, started_at: null })
      .where('id', '=', task.id).returningAll().executeTakeFirstOrThrow();
    return toTask(r);
  }

  /** Ends the task (no lease any more). */
  async end(tx: Executor, task: Task, status: TaskStatus, message: string, now: number, exitCode?: number | null): Promise<Task> {
    const r = await tx.updateTable('tasks')
      .set({ status, status_message: message, ended_at: now, lease_id: null, lease_expires_at: null,
        ...(exitCode !== undefined ? { exit_code: exitCode } : {}) })
      .where('id', '=', task.id).returningAll().executeTakeFirstOrThrow();
    return toTask(r);
  }

  /** A running task's agent is told to stop on its next heartbeat. */
  async requestAbort(tx: Executor, task: Task): Promise<Task> {
    const r = await tx.updateTable('tasks').set({ abort_requested: 1, status_message: 'abort requested; stopping' })
      .where('id', '=', task.id).returningAll().executeTakeFirstOrThrow();
    return toTask(r);
  }
}

/** The store says what is missing; how to fix it is for whoever answers the user (the CLI adds a hint). */
function missingQueue(queue: string) {
  return new NotFoundError(`queue "${queue}" does not exist`);
}

export function staleLease(taskId: string) {
  return new ConflictError(
    `lease for task "${taskId}" is no longer valid: the task ended or was handed to another worker`,
  );
}
