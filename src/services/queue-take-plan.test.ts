// A take on PostgreSQL reads the head of its queue from the queue-order index, whatever the statistics say.
// Seen in the benchmark: statistics taken while few tasks waited made PostgreSQL's cached (generic) plan of the
// end-and-take statement read every waiting task through another index and sort them, 10 ms a take at 3,000
// waiting tasks. The plan is read here for the statement as the store sends it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Store } from '../store/index.js';
import { finishAndTakeSql } from '../store/holds.js';
import { forPostgres } from '../store/hot-sql.js';
import { createTestDb } from '../../test/support/stores.js';
import { QueueService } from './queue.js';

const spec = { command: 'true', env: {}, priority: 0, maxAttempts: 3 };
/** As users do: many small batches. */
async function enqueue(service: QueueService, queue: string, n: number) {
  for (let i = 0; i < n; i += 50) await service.createMany(Array.from({ length: 50 }, () => ({ queue, ...spec })), null);
}

test('postgres: a take reads the head of a deep queue through the queue-order index, even on stale statistics', async () => {
  const db = await createTestDb('postgres');
  const store = await Store.open(db.url);
  const service = new QueueService(store, { leaseTtlMs: 60_000 });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    for (const q of ['lat', 'a', 'deep']) await store.queues.create(q);
    await service.register({ id: 'w1', queues: ['a'], tokenId: null });
    // History: tasks of two queues ran; statistics are taken then, with nothing waiting. (With these, the index
    // on (status, lease_expires_at) that the schema had won the head of 'deep': checked against that schema.)
    for (const [queue, n] of [['lat', 200], ['a', 1000]] as const) {
      await enqueue(service, queue, n);
      // Each agent still runs its last task.
      let held = await service.take('w1', { queues: [queue] });
      for (let k = 1; k < n; k++) held = await service.finishAndTake('w1',
        { taskId: held!.task.id, leaseId: held!.lease.id, status: 'completed', exitCode: 0 }, { queues: [queue] });
    }
    await client.query('ANALYZE tasks');
    // Then a deep queue, which the statistics do not know of.
    await enqueue(service, 'deep', 1000);

    const s = finishAndTakeSql({ workerId: 'w1', queue: 'deep', now: Date.now(), lease: { id: 'l', expiresAt: Date.now() },
      done: { taskId: 'none', leaseId: 'none', status: 'completed', exitCode: 0 } });
    const types = ['text', 'integer', 'text', 'bigint', 'text', 'text', 'text', 'text', 'text', 'bigint', 'bigint', 'text', 'text', 'bigint', 'bigint', 'text'];
    assert.equal(s.params.length, types.length);
    // The plan the store's connections end up with: PostgreSQL's generic plan for a prepared statement.
    await client.query('SET plan_cache_mode = force_generic_plan');
    await client.query(`PREPARE take (${types.join(', ')}) AS ${forPostgres(s.text)}`);
    const literal = (p: unknown) => (p === null ? 'NULL' : typeof p === 'number' ? String(p) : `'${String(p).replace(/'/g, "''")}'`);
    const plan = (await client.query(`EXPLAIN EXECUTE take (${s.params.map(literal).join(', ')})`))
      .rows.map((r) => r['QUERY PLAN'] as string).join('\n');
    assert.match(plan, /Index Scan using tasks_dequeue on tasks/, plan);
    assert.doesNotMatch(plan, /Sort Key: tasks_\d+\.priority/, `the take sorts the waiting tasks:\n${plan}`);
  } finally {
    await client.end();
    await store.close();
    await db.drop();
  }
});
