// The queue service on both stores, with a clock moved by hand: every transition, the worker's record in step
// with its task (never a task back on its queue while a worker still holds it), stale leases refused with
// nothing changed, and a task put back on its queue waking an agent already waiting in a long poll at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { Store } from '../store/index.js';
import { QueueService, type Taken } from './queue.js';
import { ManualClock } from '../domain/clock.js';
import { ConflictError, GoneError, NotFoundError } from '../domain/errors.js';
import type { Task, ValidTask } from '../domain/task.js';
import { createTestDb, DIALECTS, type TestDb } from '../../test/support/stores.js';
import { waitFor } from '../../test/support/wait.js';

const TTL = 30_000;
/** How soon a waiting agent must have the task once the call that put it back has returned. */
const WAKE_MS = 50;
/** A long poll in these tests: far longer than WAKE_MS, short enough that a missed wake-up fails quickly. */
const POLL_MS = 3_000;

const spec = (queue: string, over: Partial<ValidTask> = {}): ValidTask =>
  ({ queue, command: 'true', env: {}, priority: 0, maxAttempts: 3, ...over }) as ValidTask;

describe('queue service', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    let db: TestDb;
    let store: Store;
    let clock: ManualClock;
    let queue: QueueService;
    /** Takes that found nothing, per worker: a worker with one is waiting in its long poll. */
    const emptyTakes = new Map<string, number>();
    let n = 0;
    /** A fresh queue (and worker names) per test: the tests share one store per dialect. */
    const fresh = async () => {
      const name = `q${++n}`;
      await store.queues.create(name);
      const w = async (suffix: string) => (await queue.register({ id: `${name}-${suffix}`, queues: [name], tokenId: null })).id;
      return { name, w };
    };

    before(async () => {
      db = await createTestDb(dialect);
      store = await Store.open(db.url);
      clock = new ManualClock();
      queue = new QueueService(store, { leaseTtlMs: TTL, clock });
      // Watch the store's takes, as order.test.ts does: once a worker's take found nothing, it is waiting.
      const original = store.tasks.dequeue;
      store.tasks.dequeue = async (workerId, queues, ttl, now) => {
        const got = await original.call(store.tasks, workerId, queues, ttl, now);
        if (!got) emptyTakes.set(workerId, (emptyTakes.get(workerId) ?? 0) + 1);
        return got;
      };
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    test('a take publishes the task it took, also when it comes with a finish (the console follows starts live)', async () => {
      const { name, w } = await fresh();
      const id = await w('a');
      const [a, b] = await queue.createMany([spec(name), spec(name)], null);
      const seen: string[] = [];
      const off = store.events.on((e) => { if (e.kind === 'task') seen.push(e.taskId); });
      try {
        const first = (await queue.dequeue(id, { queues: [name] }))!;
        assert.deepEqual(seen, [a.id]);
        const second = await queue.dequeue(id, { queues: [name] },
          { finished: { taskId: a.id, leaseId: first.lease.id, status: 'completed', exitCode: 0 } });
        assert.equal(second?.task.id, b.id);
        assert.deepEqual(seen, [a.id, a.id, b.id], 'the finished task, then the one taken');
      } finally {
        off();
      }
    });

    const worker = async (id: string) => (await store.workers.get(id, clock.now()))!;
    const task = (id: string) => store.tasks.get(id);
    /** The sweep (the tests share a store: tasks other tests left running expire too, and are left out here). */
    const expire = async (name: string) => (await queue.expireLeases()).filter((t) => t.queue === name);

    /** Starts a long poll for `workerId`; resolves once it is waiting (its take found nothing), with the poll. */
    async function waiting(workerId: string, queues: string[]): Promise<{ poll: Promise<Taken | null> }> {
      const before = emptyTakes.get(workerId) ?? 0;
      const poll = queue.dequeue(workerId, { queues }, { waitMs: POLL_MS });
      poll.catch(() => undefined);
      await waitFor(`${workerId} waiting in its long poll`, () => (emptyTakes.get(workerId) ?? 0) > before, 5_000, 2);
      return { poll };
    }

    /**
     * Runs `putBack` while `agent` waits in its long poll; the agent must have task `id` within WAKE_MS of
     * putBack's return. Returns the milliseconds it took.
     */
    async function measureWake(agent: string, queueName: string, id: string, putBack: () => Promise<unknown>) {
      const { poll } = await waiting(agent, [queueName]);
      await putBack();
      const returned = performance.now();
      const got = await poll;
      const ms = performance.now() - returned;
      assert.equal(got?.task.id, id, `the waiting agent got the task (after ${ms.toFixed(1)} ms)`);
      assert.ok(ms < WAKE_MS, `the waiting agent had the task ${ms.toFixed(1)} ms after it was put back (limit ${WAKE_MS} ms)`);
      return ms;
    }

    /**
     * Reads a task and a worker in one statement, over and over while `during` runs: the task must never be
     * back on its queue (or ended) while the worker's record still says it holds it.
     */
    async function neverHeldWhileBack(taskId: string, workerId: string, during: () => Promise<unknown>) {
      let stop = false;
      const bad: string[] = [];
      let reads = 0;
      const reader = (async () => {
        while (!stop) {
          const r = await sql<{ status: string; current_task: string | null }>`SELECT t.status, w.current_task
            FROM tasks t, workers w WHERE t.id = ${taskId} AND w.id = ${workerId}`.execute(store.kysely);
          const row = r.rows[0];
          reads++;
          if (row && row.status !== 'running' && row.current_task === taskId) bad.push(row.status);
          await new Promise((res) => setImmediate(res));
        }
      })();
      try {
        return await during();
      } finally {
        // A few reads after it too: what the transition left must be right as well.
        const until = reads + 3;
        await waitFor('reads after the transition', () => reads >= until, 5_000, 1);
        stop = true;
        await reader;
        assert.deepEqual(bad, [], `the task was ${bad[0]} while its worker still held it`);
      }
    }

    test('enqueue: one task, several, and a missing queue named in plain words', async () => {
      const { name } = await fresh();
      const one = await queue.create(spec(name, { name: 'one' }), 'me');
      assert.equal(one.status, 'queued');
      assert.equal(one.createdAt, clock.now());
      const many = await queue.createMany([spec(name, { name: 'two' }), spec(name, { name: 'three' })], 'me');
      assert.deepEqual((await store.tasks.list({ queue: name, status: 'queued' })).map((t) => t.id), [one.id, ...many.map((t) => t.id)]);
      await assert.rejects(queue.create(spec('no-such-queue'), null), (e) => e instanceof NotFoundError && e.message === 'queue "no-such-queue" does not exist');
      await assert.rejects(queue.createMany([spec(name), spec('nope')], null), NotFoundError);
      assert.equal((await store.tasks.list({ queue: name })).length, 3, 'the failed batch wrote nothing');
    });

    test('take: in queue order; the worker is busy with it; finish: the worker is idle again', async () => {
      const a = await fresh();
      const b = await fresh();
      const w = await a.w('w');
      const tb = await queue.create(spec(b.name), null);
      const ta = await queue.create(spec(a.name), null);
      const got = await queue.take(w, { queues: [a.name, b.name] });
      assert.equal(got?.task.id, ta.id, 'the first non-empty queue first');
      assert.equal(got!.lease.expiresAt, clock.now() + TTL);
      assert.equal(got!.task.status, 'running');
      let rec = await worker(w);
      assert.equal(rec.status, 'busy');
      assert.equal(rec.currentTask, ta.id);
      assert.equal(rec.idleSince, null);

      clock.advance(1000);
      const done = await queue.finish(ta.id, got!.lease.id, { status: 'completed', exitCode: 0 });
      assert.equal(done.status, 'completed');
      assert.equal(done.endedAt, clock.now());
      rec = await worker(w);
      assert.equal(rec.currentTask, null);
      assert.equal(rec.idleSince, clock.now());
      assert.equal((await queue.take(w, { queues: [a.name, b.name] }))?.task.id, tb.id);
    });

    test('finish-and-take: ends the held task and takes the next; with none left the worker is idle', async () => {
      const { name, w: mk } = await fresh();
      const w = await mk('w');
      const [t1, t2] = await queue.createMany([spec(name), spec(name)], null);
      const first = await queue.take(w, { queues: [name] });
      const second = await queue.finishAndTake(w, { taskId: t1.id, leaseId: first!.lease.id, status: 'completed', exitCode: 0 }, { queues: [name] });
      assert.equal(second?.task.id, t2.id);
      assert.equal((await task(t1.id)).status, 'completed');
      assert.equal((await worker(w)).currentTask, t2.id);
      clock.advance(500);
      const none = await queue.finishAndTake(w, { taskId: t2.id, leaseId: second!.lease.id, status: 'failed', exitCode: 2 }, { queues: [name] });
      assert.equal(none, null);
      assert.equal((await task(t2.id)).exitCode, 2);
      const rec = await worker(w);
      assert.equal(rec.currentTask, null);
      assert.equal(rec.idleSince, clock.now());
    });

    test('a stale lease cannot finish, heartbeat, release or finish-and-take (409, nothing changed)', async () => {
      const { name, w: mk } = await fresh();
      const [a, b] = [await mk('a'), await mk('b')];
      const t = await queue.create(spec(name), null);
      const other = await queue.create(spec(name), null);
      const old = await queue.take(a, { queues: [name] });
      clock.advance(TTL + 1);
      assert.deepEqual((await expire(name)).map((x) => x.id), [t.id]);
      const cur = await queue.take(b, { queues: [name] });
      assert.equal(cur?.task.id, t.id, 'back at the head, before the other task');
      const before = await task(t.id);
      const stale = { taskId: t.id, leaseId: old!.lease.id, status: 'completed' as const, exitCode: 0 };
      await assert.rejects(queue.finish(t.id, old!.lease.id, stale), ConflictError);
      await assert.rejects(queue.heartbeat(t.id, old!.lease.id), ConflictError);
      await assert.rejects(queue.release(t.id, old!.lease.id, 'stopping'), ConflictError);
      await assert.rejects(queue.finishAndTake(a, stale, { queues: [name] }), ConflictError);
      await assert.rejects(queue.dequeue(a, { queues: [name] }, { finished: stale, waitMs: 1000 }), ConflictError);
      assert.deepEqual(await task(t.id), before, 'the task is as it was');
      assert.equal((await task(other.id)).status, 'queued', 'nothing was taken');
      assert.equal((await worker(b)).currentTask, t.id, 'its holder still holds it');
      const hb = await queue.heartbeat(t.id, cur!.lease.id);
      assert.deepEqual(hb, { abort: false, leaseExpiresAt: clock.now() + TTL });
    });

    test('release: back at the head, the attempt not counted, the worker idle, in one transaction', async () => {
      const { name, w: mk } = await fresh();
      const w = await mk('w');
      const t = await queue.create(spec(name), null);
      const got = await queue.take(w, { queues: [name] });
      const later = await queue.create(spec(name), null);
      clock.advance(2000);
      const back = await neverHeldWhileBack(t.id, w, () => queue.release(t.id, got!.lease.id, 'agent stopped')) as Task;
      assert.equal(back.status, 'queued');
      assert.equal(back.attempts, 0);
      assert.equal(back.statusMessage, 'agent stopped');
      assert.equal(back.queuedAt, clock.now());
      assert.deepEqual((await store.tasks.list({ queue: name, status: 'queued' })).map((x) => x.id), [t.id, later.id]);
      const rec = await worker(w);
      assert.equal(rec.currentTask, null);
      assert.equal(rec.idleSince, clock.now());
      assert.equal(rec.lastSeen, clock.now(), 'the worker itself asked');
    });

    test('lease expiry: back at the head (attempt counted), failed at the limit; the worker idle, not marked seen', async () => {
      const { name, w: mk } = await fresh();
      const w = await mk('w');
      const t = await queue.create(spec(name, { maxAttempts: 2 }), null);
      for (let attempt = 1; attempt <= 2; attempt++) {
        const got = await queue.take(w, { queues: [name] });
        assert.equal(got?.task.id, t.id);
        const seen = (await worker(w)).lastSeen;
        clock.advance(TTL - 1);
        assert.deepEqual(await expire(name), [], 'not before the lease runs out');
        clock.advance(2);
        const [x] = await neverHeldWhileBack(t.id, w, () => expire(name)) as Task[];
        assert.equal(x.id, t.id);
        assert.equal(x.attempts, attempt);
        if (attempt === 1) {
          assert.equal(x.status, 'queued');
          assert.match(x.statusMessage!, /^lease expired: worker .* stopped reporting; back at the head of the queue \(attempt 1 of 2 used\)$/);
        } else {
          assert.equal(x.status, 'failed');
          assert.match(x.statusMessage!, /failed after 2 of 2 attempts$/);
          assert.equal(x.endedAt, clock.now());
        }
        const rec = await worker(w);
        assert.equal(rec.currentTask, null);
        assert.equal(rec.idleSince, clock.now());
        assert.equal(rec.lastSeen, seen, 'a worker whose lease ran out was not seen');
      }
    });

    test('abort: a queued task ends at once; a running one is told on its heartbeat and ends aborted when released', async () => {
      const { name, w: mk } = await fresh();
      const w = await mk('w');
      const queued = await queue.create(spec(name), null);
      const running = await queue.create(spec(name), null);
      assert.equal((await queue.abort(queued.id)).status, 'aborted');
      const got = await queue.take(w, { queues: [name] });
      assert.equal(got?.task.id, running.id);
      const asked = await queue.abort(running.id);
      assert.equal(asked.status, 'running');
      assert.equal(asked.abortRequested, true);
      assert.equal((await queue.heartbeat(running.id, got!.lease.id)).abort, true);
      const ended = await neverHeldWhileBack(running.id, w, () => queue.release(running.id, got!.lease.id, 'stopping')) as Task;
      assert.equal(ended.status, 'aborted');
      assert.equal(ended.statusMessage, 'aborted while its agent was stopping');
      assert.equal((await worker(w)).currentTask, null);
      await assert.rejects(queue.abort(running.id), ConflictError);
      await assert.rejects(queue.abort('nope'), NotFoundError);
    });

    test('worker gone: its tasks back (or ended) and the worker stopped, in one transaction', async () => {
      const { name, w: mk } = await fresh();
      const w = await mk('w');
      const t = await queue.create(spec(name), null);
      await queue.take(w, { queues: [name] });
      const [back] = await neverHeldWhileBack(t.id, w, () => queue.workerGone(w, 'instance i-1 is gone')) as Task[];
      assert.equal(back.status, 'queued');
      assert.equal(back.statusMessage, 'instance i-1 is gone; back at the head of the queue (attempt 1 of 3 used)');
      const rec = await worker(w);
      assert.equal(rec.status, 'stopped');
      assert.equal(rec.currentTask, null);
      assert.equal(await queue.take(w, { queues: [name] }), null, 'a stopped worker takes nothing');
      await assert.rejects(queue.dequeue(w, { queues: [name] }, { waitMs: 1000 }), GoneError);
      assert.equal((await task(t.id)).status, 'queued');
    });

    test('stop if idle: only a worker that holds nothing; sign-off stops the worker', async () => {
      const { name, w: mk } = await fresh();
      const [busy, idle, leaving] = [await mk('busy'), await mk('idle'), await mk('leaving')];
      await queue.create(spec(name), null);
      await queue.take(busy, { queues: [name] });
      assert.equal(await queue.stopIfIdle(busy), false);
      assert.equal((await worker(busy)).status, 'busy');
      assert.equal(await queue.stopIfIdle(idle), true);
      assert.equal((await worker(idle)).status, 'stopped');
      await queue.stopWorker(leaving);
      assert.equal((await worker(leaving)).status, 'stopped');
    });

    test('k8s: schedule-next keeps the place; a pod agent takes it by id; message; requeue and fail decide and free the worker', async () => {
      const { name, w: mk } = await fresh();
      const pod = await mk('pod');
      const [t1, t2, t3] = await queue.createMany([spec(name, { maxAttempts: 1 }), spec(name), spec(name)], null);
      const s = await queue.scheduleNext(name, 'pod starting');
      assert.equal(s?.id, t1.id);
      assert.equal(s?.status, 'scheduled');
      await queue.setMessage(t1.id, 'pulling the image');
      assert.equal((await task(t1.id)).statusMessage, 'pulling the image');
      // A scheduled task evicted before its agent took it: back at the head, the attempt not counted.
      const back = await queue.requeue(t1.id, 'evicted');
      assert.equal(back.status, 'queued');
      assert.equal(back.statusMessage, 'evicted; back at the head of its queue');
      assert.equal((await queue.scheduleNext(name, 'again'))?.id, t1.id);
      const got = await queue.dequeue(pod, { queues: [], taskId: t1.id });
      assert.equal(got?.task.id, t1.id);
      assert.equal((await worker(pod)).currentTask, t1.id);
      // Running and out of attempts (1 of 1): the requeue ends it failed, and frees the worker.
      const failed = await neverHeldWhileBack(t1.id, pod, () => queue.requeue(t1.id, 'preempted')) as Task;
      assert.equal(failed.status, 'failed');
      assert.equal(failed.statusMessage, 'preempted; failed after 1 of 1 attempts');
      assert.equal((await worker(pod)).currentTask, null);
      await assert.rejects(queue.requeue(t1.id, 'again'), ConflictError);
      // Running with attempts left: back at the head with the attempt counted.
      await queue.scheduleNext(name, 'pod');
      const g2 = await queue.take(pod, { queues: [], taskId: t2.id });
      assert.equal(g2?.task.id, t2.id);
      const r2 = await neverHeldWhileBack(t2.id, pod, () => queue.requeue(t2.id, 'node drained')) as Task;
      assert.equal(r2.status, 'queued');
      assert.equal(r2.statusMessage, 'node drained; back at the head of its queue (attempt 1 of 3 used)');
      assert.equal((await worker(pod)).idleSince, clock.now());
      // Aborted while running: the requeue ends it aborted.
      await queue.scheduleNext(name, 'pod');
      await queue.take(pod, { queues: [], taskId: t2.id });
      await queue.abort(t2.id);
      assert.equal((await queue.requeue(t2.id, 'evicted')).status, 'aborted');
      // Fail: a running task ends with its exit code and frees the worker; an ended one is a 409.
      await queue.scheduleNext(name, 'pod');
      await queue.take(pod, { queues: [], taskId: t3.id });
      const f = await neverHeldWhileBack(t3.id, pod, () => queue.fail(t3.id, 'failed', 'OOMKilled', 137)) as Task;
      assert.deepEqual([f.status, f.exitCode, f.statusMessage], ['failed', 137, 'OOMKilled']);
      assert.equal((await worker(pod)).currentTask, null);
      await assert.rejects(queue.fail(t3.id, 'failed', 'again'), ConflictError);
    });

    test('events come after the commit: a listener reads the state they announce', async () => {
      const { name, w: mk } = await fresh();
      const w = await mk('w');
      const t = await queue.create(spec(name), null);
      const got = await queue.take(w, { queues: [name] });
      const seen: string[] = [];
      const reads: Promise<void>[] = [];
      const off = store.events.on((e) => {
        if (e.kind === 'task' && e.taskId === t.id) reads.push(task(t.id).then((x) => void seen.push(x.status)));
      });
      try {
        await queue.abort(t.id);
        await queue.release(t.id, got!.lease.id, 'stopping');
        await Promise.all(reads);
      } finally {
        off();
      }
      assert.deepEqual(seen.slice(-1), ['aborted']);
    });

    describe('a task put back on its queue wakes an agent already waiting in its long poll', () => {
      test('released', async () => {
        const { name, w: mk } = await fresh();
        const [a, b] = [await mk('a'), await mk('b')];
        const t = await queue.create(spec(name), null);
        const got = await queue.take(a, { queues: [name] });
        const ms = await measureWake(b, name, t.id, () => queue.release(t.id, got!.lease.id, 'agent stopped'));
        assert.equal((await worker(b)).currentTask, t.id);
        console.log(`# ${dialect}: released task taken by the waiting agent after ${ms.toFixed(1)} ms`);
      });

      test('lease expired (the sweeper, the clock moved on)', async () => {
        const { name, w: mk } = await fresh();
        const [a, b] = [await mk('a'), await mk('b')];
        const t = await queue.create(spec(name), null);
        await queue.take(a, { queues: [name] });
        clock.advance(TTL + 1);
        const ms = await measureWake(b, name, t.id, () => queue.expireLeases());
        console.log(`# ${dialect}: expired task taken by the waiting agent after ${ms.toFixed(1)} ms`);
      });

      test('requeued by the k8s glue (pod evicted)', async () => {
        const { name, w: mk } = await fresh();
        const [a, b] = [await mk('a'), await mk('b')];
        const t = await queue.create(spec(name), null);
        await queue.take(a, { queues: [name] });
        const ms = await measureWake(b, name, t.id, () => queue.requeue(t.id, 'evicted'));
        console.log(`# ${dialect}: requeued task taken by the waiting agent after ${ms.toFixed(1)} ms`);
      });

      test('aborted, then released: a waiter on the task reads it ended, and the waiting agent takes the next', async () => {
        const { name, w: mk } = await fresh();
        const [a, b] = [await mk('a'), await mk('b')];
        const t = await queue.create(spec(name), null);
        const got = await queue.take(a, { queues: [name] });
        await queue.abort(t.id);
        // What the log follower and the glue's wait do: wake on the task's event, then read it.
        let status = '';
        const read = new Promise<void>((resolve) => {
          const off = store.events.on((e) => {
            if (e.kind !== 'task' || e.taskId !== t.id) return;
            off();
            void task(t.id).then((x) => { status = x.status; resolve(); });
          });
        });
        await queue.release(t.id, got!.lease.id, 'stopping');
        await read;
        assert.equal(status, 'aborted');
        // The next task enqueued (here: a retry of the aborted one) wakes the agent waiting meanwhile.
        assert.equal((await worker(a)).currentTask, null);
        const { poll } = await waiting(b, [name]);
        const retry = await queue.create(spec(name, { name: 'retry' }), null);
        const returned = performance.now();
        const next = await poll;
        const ms = performance.now() - returned;
        assert.equal(next?.task.id, retry.id);
        assert.ok(ms < WAKE_MS, `${ms} ms`);
      });
    });
  });
});
