// Enqueues of one turn share an INSERT: each caller still gets its own answer, in enqueue order, and a row
// that cannot be written fails alone. On both stores.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../store/index.js';
import { createTestDb, DIALECTS } from '../../test/support/stores.js';
import type { ValidTask } from '../domain/task.js';
import { QueueService } from './queue.js';

const task = (queue: string, name: string): ValidTask =>
  ({ queue, name, command: `echo ${name}`, env: {}, priority: 0, maxAttempts: 3 }) as ValidTask;

describe('enqueue batch', { concurrency: true }, () => {
  for (const dialect of DIALECTS) {
    test(`${dialect}: concurrent enqueues keep their order; one for a missing queue fails alone`, async () => {
      const db = await createTestDb(dialect);
      const store = await Store.open(db.url);
      const service = new QueueService(store, { leaseTtlMs: 60_000 });
      try {
        await store.queues.create('batch');
        const names = Array.from({ length: 30 }, (_, i) => `t${i}`);
        // All issued in one turn: one statement on the database.
        const results = await Promise.allSettled([
          ...names.slice(0, 15).map((n) => service.create(task('batch', n), null)),
          service.create(task('no-such-queue', 'lost'), null),
          ...names.slice(15).map((n) => service.create(task('batch', n), null)),
        ]);
        const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        assert.equal(failed.length, 1);
        assert.match(String(failed[0].reason), /queue "no-such-queue" does not exist/);
        const queued = await store.tasks.list({ queue: 'batch', status: 'queued', limit: 100 });
        assert.deepEqual(queued.map((t) => t.name), names, 'every other task, in the order it was enqueued');
        const returned = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ id: string }>).value.id);
        assert.deepEqual(returned, queued.map((t) => t.id), 'each caller got its own task');
      } finally {
        await store.close();
        await db.drop();
      }
    });

    test(`${dialect}: a row the database refuses fails alone; the rest of its batch is written`, async () => {
      const db = await createTestDb(dialect);
      const store = await Store.open(db.url);
      const service = new QueueService(store, { leaseTtlMs: 60_000 });
      try {
        await store.queues.create('batch');
        const first = await service.create(task('batch', 'first'), null);
        // A second task with the first one's id (the ids are random; here one is forced to collide).
        const { EnqueueBatch } = await import('../store/enqueue-batch.js');
        const batch = new EnqueueBatch(store.db.hot);
        const row = (id: string, name: string, position: number) => ({
          id, queue: 'batch', name, priority: 0, position, status: 'queued', spec: '{"env":{}}', attempts: 0,
          max_attempts: 3, abort_requested: 0, log_seq: 0, log_bytes: 0, created_by: null, created_at: 1, queued_at: 1,
        });
        const results = await Promise.allSettled([
          batch.insert(row('aaaa01', 'a', 5 * 10 ** 15)),
          batch.insert(row(first.id, 'duplicate', 5 * 10 ** 15 + 1)),
          batch.insert(row('aaaa02', 'b', 5 * 10 ** 15 + 2)),
        ]);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
        const queued = await store.tasks.list({ queue: 'batch', status: 'queued' });
        assert.deepEqual(queued.map((t) => t.name), ['first', 'a', 'b']);
      } finally {
        await store.close();
        await db.drop();
      }
    });
  }
});
