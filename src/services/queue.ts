// The queue service: the one owner of every change of a task, and of its worker's record with it. Each
// transition is one transaction (or, on the hot path, the one statement or group commit the store already
// makes of it), and its events are published only once that has committed: a waiter woken by an event reads
// the committed state. On PostgreSQL that matters beyond taste: a take is `FOR UPDATE SKIP LOCKED`, so an
// agent woken before the COMMIT skips the still-locked row and sleeps through its whole long poll.
//
// The store's repositories (store/tasks.ts, workers.ts, holds.ts) are its data layer; nothing else calls
// their mutating methods. Time comes from the injected clock.
import type { Store } from '../store/index.js';
import type { StoreEvent } from '../store/events.js';
import type { Executor, FinishReport, Taken } from '../store/tasks.js';
import { staleLease } from '../store/tasks.js';
import type { Registration } from '../store/workers.js';
import type { Task, ValidTask, Worker } from '../domain/task.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { ConflictError, GoneError, NotFoundError } from '../domain/errors.js';

export type { Taken, FinishReport } from '../store/tasks.js';

/** What an agent takes from: the head of the first non-empty of `queues`, or (a pod's agent) the one task `taskId`. */
export interface Want {
  queues: string[];
  taskId?: string;
}

/** The end of the task a worker held, reported with its next dequeue. */
export type Finished = FinishReport & { taskId: string; leaseId: string };

export interface QueueServiceOptions {
  /** How long a lease lasts without a heartbeat. */
  leaseTtlMs: number;
  clock?: Clock;
}

export class QueueService {
  readonly clock: Clock;
  readonly leaseTtlMs: number;

  constructor(private readonly store: Store, o: QueueServiceOptions) {
    this.clock = o.clock ?? systemClock;
    this.leaseTtlMs = o.leaseTtlMs;
  }

  private now(): number {
    return this.clock.now();
  }

  private publish(events: StoreEvent[]): void {
    for (const e of events) this.store.events.publish(e);
  }

  /** Runs `work` in one transaction; the events it collects are published after the COMMIT (none on a rollback). */
  private async transaction<T>(work: (tx: Executor, events: StoreEvent[], now: number) => Promise<T>): Promise<T> {
    const events: StoreEvent[] = [];
    const now = this.now();
    const out = await this.store.kysely.transaction().execute((tx) => work(tx, events, now));
    this.publish(events);
    return out;
  }

  // ---- Enqueue ----

  /** Puts a task on its queue (which must exist). */
  async create(input: ValidTask, createdBy: string | null): Promise<Task> {
    const task = await this.store.tasks.create(input, createdBy, this.now());
    this.store.events.publish({ kind: 'enqueue', queue: task.queue });
    return task;
  }

  /** Puts several tasks on their queues: all of them or, on any error, none. */
  async createMany(inputs: ValidTask[], createdBy: string | null): Promise<Task[]> {
    const tasks = await this.store.tasks.createMany(inputs, createdBy, this.now());
    for (const queue of new Set(tasks.map((t) => t.queue))) this.store.events.publish({ kind: 'enqueue', queue });
    return tasks;
  }

  // ---- Agents ----

  /**
   * Registers (or registers again) an agent as a worker. The same token may register its worker again (an agent
   * does after a control-plane restart); another token may not take it over while the token that registered it
   * is valid, whatever its state, an admin's included: 409, nothing changed (issue 13, defect 4).
   */
  async register(reg: Registration): Promise<Worker> {
    const worker = await this.store.workers.register(reg, this.now());
    if (!worker) throw new ConflictError(`worker "${reg.id}" was registered with another token, which is still valid: ` +
      'register under another worker id, or revoke that token first');
    this.store.events.publish({ kind: 'worker', workerId: reg.id });
    return worker;
  }

  /**
   * The hot path, no transaction added: takes a task for the worker now, or null. The store's take writes the
   * worker's record in the same statement (PostgreSQL) or group commit (SQLite), and a stopped worker takes nothing.
   */
  async take(workerId: string, want: Want): Promise<Taken | null> {
    const now = this.now();
    // Looked up on the repository each time (a test may watch the takes).
    const got = want.taskId
      ? await this.store.tasks.dequeueById(workerId, want.taskId, this.leaseTtlMs, now)
      : await this.store.tasks.dequeue(workerId, want.queues, this.leaseTtlMs, now);
    if (got) this.publish(takenEvents(workerId, got));
    return got;
  }

  /**
   * Ends the task the worker held (a stale lease: 409, nothing taken), then takes the next. From queues, the end
   * and the first take are one statement on PostgreSQL and one group commit on SQLite.
   */
  async finishAndTake(workerId: string, finished: Finished, want: Want): Promise<Taken | null> {
    if (want.taskId) {
      await this.finish(finished.taskId, finished.leaseId, finished, workerId);
      return this.take(workerId, want);
    }
    const r = await this.store.tasks.finishAndDequeue(workerId, finished, want.queues, this.leaseTtlMs, this.now());
    this.publish([{ kind: 'task', taskId: finished.taskId, queue: r.finishedQueue }, ...takenEvents(workerId, r.taken)]);
    return r.taken;
  }

  /**
   * The dequeue long poll: reports `finished` (if given), takes the next task, and when there is none waits up to
   * `waitMs` for an enqueue on the wanted queues (or `signal`: the client went away, the server is closing).
   * Null when nothing came; GoneError when the worker was stopped meanwhile.
   */
  async dequeue(workerId: string, want: Want,
    o: { finished?: Finished; waitMs?: number; signal?: () => AbortSignal } = {}): Promise<Taken | null> {
    const first = o.finished ? await this.finishAndTake(workerId, o.finished, want) : await this.take(workerId, want);
    if (first || !o.waitMs) return first;
    return this.waitAndTake(workerId, want, o.waitMs, o.signal?.());
  }

  private async waitAndTake(workerId: string, want: Want, waitMs: number, signal?: AbortSignal): Promise<Taken | null> {
    const wanted = new Set(want.queues);
    const over = new AbortController();
    const end = () => over.abort();
    const timer = setTimeout(end, waitMs);
    signal?.addEventListener('abort', end);
    if (signal?.aborted) end();
    try {
      for (;;) {
        // Subscribed before the take, so an enqueue between the two is not missed.
        let wake = () => {};
        const woke = new Promise<void>((r) => (wake = r));
        const off = this.store.events.on((e) => {
          if (e.kind === 'enqueue' && (want.taskId !== undefined || wanted.has(e.queue))) wake();
        });
        over.signal.addEventListener('abort', wake);
        try {
          const got = await this.take(workerId, want);
          if (got) return got;
          if ((await this.store.workers.get(workerId))?.status === 'stopped')
            throw new GoneError(`worker "${workerId}" was stopped (by its autoscaler or at sign-off); register again to serve`);
          if (over.signal.aborted) {
            await this.store.workers.seen(workerId, this.now());
            return null;
          }
          await woke;
        } finally {
          off();
          over.signal.removeEventListener('abort', wake);
        }
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', end);
    }
  }

  /** The worker is alive though it holds no long poll (a ClearML agent polls, then sleeps): its last-seen time moves. */
  seen(workerId: string): Promise<void> {
    return this.store.workers.seen(workerId, this.now());
  }

  /** Extends the lease (a stale one: 409); tells the agent whether the task was aborted meanwhile. */
  heartbeat(taskId: string, leaseId: string): Promise<{ abort: boolean; leaseExpiresAt: number }> {
    return this.store.tasks.heartbeat(taskId, leaseId, this.leaseTtlMs, this.now());
  }

  /** Ends a running task for the holder of its lease (a stale one: 409); its worker is idle again, in the same statement. */
  async finish(taskId: string, leaseId: string, report: FinishReport, workerId?: string): Promise<Task> {
    const task = await this.store.tasks.finish(taskId, leaseId, report, this.now(), workerId);
    const events: StoreEvent[] = [{ kind: 'task', taskId, queue: task.queue }];
    if (task.workerId) events.push({ kind: 'worker', workerId: task.workerId });
    this.publish(events);
    return task;
  }

  /**
   * The agent hands its task back (it was told to stop): to the head of its queue, the attempt not counted; or
   * ended aborted when an abort was asked for meanwhile. The worker is idle again, in the same transaction.
   */
  release(taskId: string, leaseId: string, reason: string): Promise<Task> {
    return this.transaction(async (tx, events, now) => {
      const cur = await this.store.tasks.lock(tx, taskId, { statuses: ['running'], leaseId });
      if (!cur) {
        if (!await this.store.tasks.lock(tx, taskId)) throw new NotFoundError(`task "${taskId}" not found`);
        throw staleLease(taskId);
      }
      const task = cur.abortRequested
        ? await this.store.tasks.end(tx, cur, 'aborted', 'aborted while its agent was stopping', now)
        : await this.store.tasks.requeueAtHead(tx, cur, reason, cur.attempts - 1, now);
      await this.letGo(tx, events, cur, now, true);
      events.push(...changed(task));
      return task;
    });
  }

  /**
   * A running task changes holder, its lease kept: a ClearML agent's dequeue does not say which of the workers
   * registered with one token on one host it is (its only header is the host name), so the adapter learns it from
   * the agent's next report (src/clearml/). The task and both workers' records change in one transaction.
   */
  handOver(taskId: string, leaseId: string, to: string): Promise<void> {
    return this.transaction(async (tx, events, now) => {
      const cur = await this.store.tasks.lock(tx, taskId, { statuses: ['running'], leaseId });
      if (!cur) throw staleLease(taskId);
      if (cur.workerId === to) return;
      await this.store.tasks.setHolder(tx, taskId, to);
      await this.letGo(tx, events, cur, now, false);
      await this.store.workers.setTask(to, taskId, now, tx);
      events.push({ kind: 'worker', workerId: to }, { kind: 'task', taskId, queue: cur.queue });
    });
  }

  /** An agent going away (sign-off): the worker is stopped and takes nothing more. */
  async stopWorker(workerId: string): Promise<void> {
    await this.store.workers.stop(workerId, this.now());
    this.store.events.publish({ kind: 'worker', workerId });
  }

  // ---- Users ----

  /** Queued or scheduled: ended at once. Running: its agent is told at once (its wait-abort poll wakes on the task event), or at its next heartbeat. */
  abort(taskId: string): Promise<Task> {
    return this.transaction(async (tx, events, now) => {
      const cur = await this.store.tasks.lock(tx, taskId);
      if (!cur) throw new NotFoundError(`task "${taskId}" not found`);
      let task: Task;
      if (cur.status === 'queued' || cur.status === 'scheduled') task = await this.store.tasks.end(tx, cur, 'aborted', 'aborted by user', now);
      else if (cur.status === 'running') task = await this.store.tasks.requestAbort(tx, cur);
      else throw new ConflictError(`task "${taskId}" has already ended (${cur.status})`);
      events.push({ kind: 'task', taskId, queue: task.queue });
      return task;
    });
  }

  // ---- Controllers (the lease sweeper, the autoscaler) ----

  /** Running tasks whose lease ran out go back to the head of their queue, or fail at the attempt limit. */
  async expireLeases(): Promise<Task[]> {
    const out: Task[] = [];
    for (const t of await this.store.tasks.expiredLeases(this.now())) {
      const task = await this.transaction(async (tx, events, now) => {
        const cur = await this.store.tasks.lock(tx, t.id, { statuses: ['running'], leaseId: t.leaseId });
        if (!cur) return undefined; // finished or released meanwhile
        return this.recover(tx, events, cur, `lease expired: worker ${cur.workerId} stopped reporting`, now);
      });
      if (task) out.push(task);
    }
    return out;
  }

  /**
   * The worker's machine is gone (spot reclaim, instance lost, its app deleted): its tasks are recovered now, not
   * at lease expiry, and the worker is stopped, in one transaction.
   */
  workerGone(workerId: string, reason: string): Promise<Task[]> {
    return this.transaction(async (tx, events, now) => {
      const out: Task[] = [];
      for (const cur of await this.store.tasks.lockRunningOn(tx, workerId)) out.push(await this.recover(tx, events, cur, reason, now));
      await this.store.workers.stop(workerId, now, tx);
      if (!events.some((e) => e.kind === 'worker' && e.workerId === workerId)) events.push({ kind: 'worker', workerId });
      return out;
    });
  }

  /**
   * The autoscaler takes the worker's machine away on purpose (a budget reached with onExhausted: terminate): its
   * tasks go back to the head of their queues with the attempt not counted (or end aborted if asked), and the worker
   * is stopped, in one transaction.
   */
  reclaimWorker(workerId: string, reason: string): Promise<Task[]> {
    return this.transaction(async (tx, events, now) => {
      const out: Task[] = [];
      for (const cur of await this.store.tasks.lockRunningOn(tx, workerId)) {
        const task = cur.abortRequested ? await this.store.tasks.end(tx, cur, 'aborted', `aborted; ${reason}`, now)
          : await this.store.tasks.requeueAtHead(tx, cur, `${reason}; back at the head of the queue (attempt not counted)`, cur.attempts - 1, now);
        await this.letGo(tx, events, cur, now, false);
        events.push(...changed(task));
        out.push(task);
      }
      await this.store.workers.stop(workerId, now, tx);
      if (!events.some((e) => e.kind === 'worker' && e.workerId === workerId)) events.push({ kind: 'worker', workerId });
      return out;
    });
  }

  /** Stops a worker only if it holds no task; false when it took one meanwhile. */
  async stopIfIdle(workerId: string): Promise<boolean> {
    const stopped = await this.store.workers.stopIfIdle(workerId, this.now());
    this.store.events.publish({ kind: 'worker', workerId });
    return stopped;
  }

  // ---- The Kubernetes glue ----

  /** Takes the head of a queue for a pod: it becomes 'scheduled' and keeps its place; null when the queue is empty. */
  scheduleNext(queue: string, message: string): Promise<Task | null> {
    return this.store.tasks.scheduleNext(queue, message);
  }

  /** Sets a waiting or running task's status message. */
  setMessage(taskId: string, message: string): Promise<void> {
    return this.store.tasks.setMessage(taskId, message);
  }

  /**
   * A scheduled or running task whose pod was evicted or preempted: back at the head of its queue; a running one
   * that was aborted ends aborted, one out of attempts ends failed. Its worker is idle again.
   */
  requeue(taskId: string, reason: string): Promise<Task> {
    return this.transaction(async (tx, events, now) => {
      const cur = await this.store.tasks.lock(tx, taskId);
      if (!cur) throw new NotFoundError(`task "${taskId}" not found`);
      let task: Task;
      if (cur.status === 'scheduled') task = await this.store.tasks.requeueAtHead(tx, cur, `${reason}; back at the head of its queue`, cur.attempts, now);
      else if (cur.status !== 'running') throw new ConflictError(`task "${taskId}" is not scheduled or running`);
      else if (cur.abortRequested) task = await this.store.tasks.end(tx, cur, 'aborted', `aborted; ${reason}`, now);
      else if (cur.attempts >= cur.maxAttempts)
        task = await this.store.tasks.end(tx, cur, 'failed', `${reason}; failed after ${cur.attempts} of ${cur.maxAttempts} attempts`, now);
      else task = await this.store.tasks.requeueAtHead(tx, cur,
        `${reason}; back at the head of its queue (attempt ${cur.attempts} of ${cur.maxAttempts} used)`, cur.attempts, now);
      if (cur.status === 'running') await this.letGo(tx, events, cur, now, false);
      events.push(...changed(task));
      return task;
    });
  }

  /** Ends a task its agent did not report on (image pull, OOMKilled, pod gone); 409 when it has already ended. */
  fail(taskId: string, status: 'failed' | 'aborted', message: string, exitCode: number | null = null): Promise<Task> {
    return this.transaction(async (tx, events, now) => {
      const cur = await this.store.tasks.lock(tx, taskId, { statuses: ['queued', 'scheduled', 'running'] });
      if (!cur) throw new ConflictError(`task "${taskId}" has already ended`);
      const task = await this.store.tasks.end(tx, cur, status, message, now, exitCode);
      if (cur.status === 'running') await this.letGo(tx, events, cur, now, false);
      events.push(...changed(task));
      return task;
    });
  }

  // ---- Shared steps ----

  /** A running task whose holder is gone: aborted if asked, failed at the attempt limit, else back at the head. */
  private async recover(tx: Executor, events: StoreEvent[], cur: Task, reason: string, now: number): Promise<Task> {
    const task = cur.abortRequested ? await this.store.tasks.end(tx, cur, 'aborted', `aborted; ${reason}`, now)
      : cur.attempts >= cur.maxAttempts
        ? await this.store.tasks.end(tx, cur, 'failed', `${reason}; failed after ${cur.attempts} of ${cur.maxAttempts} attempts`, now)
        : await this.store.tasks.requeueAtHead(tx, cur,
          `${reason}; back at the head of the queue (attempt ${cur.attempts} of ${cur.maxAttempts} used)`, cur.attempts, now);
    await this.letGo(tx, events, cur, now, false);
    events.push(...changed(task));
    return task;
  }

  /** The worker that held `cur` is idle again (if it still holds it). `seen`: the worker itself asked. */
  private async letGo(tx: Executor, events: StoreEvent[], cur: Task, now: number, seen: boolean): Promise<void> {
    if (!cur.workerId) return;
    if (await this.store.workers.letGo(cur.workerId, cur.id, now, seen, tx)) events.push({ kind: 'worker', workerId: cur.workerId });
  }
}

/** The events of a changed task: it changed, and, back on its queue, an enqueue (which wakes waiting agents). */
function changed(task: Task): StoreEvent[] {
  const events: StoreEvent[] = [{ kind: 'task', taskId: task.id, queue: task.queue }];
  if (task.status === 'queued') events.push({ kind: 'enqueue', queue: task.queue });
  return events;
}

/** A take changes the worker and the task (queued → running: the console's task page and list follow it live). */
function takenEvents(workerId: string, taken: Taken | null): StoreEvent[] {
  const worker: StoreEvent = { kind: 'worker', workerId };
  return taken ? [worker, { kind: 'task', taskId: taken.task.id, queue: taken.task.queue }] : [worker];
}
