// The snapshot's queue depths: counted up to a cap, with the head's enqueue time; both stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../store/index.js';
import { QueueService } from './queue.js';
import { CreateTaskSchema } from '../domain/task.js';
import { DIALECTS, createTestDb } from '../../test/support/stores.js';

for (const dialect of DIALECTS) {
  test(`${dialect}: waiting tasks are counted up to each queue's cap; the head's enqueue time comes along`, async () => {
    const db = await createTestDb(dialect);
    const store = await Store.open(db.url);
    try {
      const queue = new QueueService(store, { leaseTtlMs: 60_000 });
      for (const q of ['a', 'b', 'c']) await store.queues.create(q);
      await queue.createMany(Array.from({ length: 7 }, (_, i) => CreateTaskSchema.parse({ queue: 'a', command: `a${i}` })), null);
      const urgent = await queue.create(CreateTaskSchema.parse({ queue: 'b', command: 'b0', priority: 5 }), null);
      await queue.create(CreateTaskSchema.parse({ queue: 'b', command: 'b1' }), null);
      await queue.register({ id: 'w', queues: ['b'], tokenId: null });
      const taken = await queue.take('w', { queues: ['b'] }); // the priority task runs: no longer waiting
      assert.equal(taken?.task.id, urgent.id);
      const got = await store.tasks.waitingUpTo({ a: 3, b: 10, c: 4 });
      assert.equal(got.a.waiting, 3, 'a deep queue is counted up to its cap');
      assert.equal(got.b.waiting, 1);
      assert.deepEqual(got.c, { waiting: 0 });
      const all = await store.tasks.waitingByQueue(['a', 'b']);
      assert.equal(all.a.waiting, 7);
      assert.equal(got.a.oldestAt, all.a.oldestAt, 'the head of a FIFO queue is its oldest');
      assert.equal(got.b.oldestAt, all.b.oldestAt);
      assert.deepEqual(await store.tasks.waitingUpTo({}), {});
    } finally {
      await store.close();
      await db.drop();
    }
  });
}
