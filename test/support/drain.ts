// Helpers for tests that run many tasks and prove each ran exactly once.
import assert from 'node:assert/strict';
import type { TestControlPlane } from './control-plane.js';

/** Enqueues over HTTP, a few requests in flight at a time, as several users would. */
export async function enqueueMany(t: TestControlPlane, queue: string, n: number, command: string): Promise<string[]> {
  const ids: string[] = new Array(n);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) ids[i] = (await t.user.createTask({ queue, command, name: `t${i}` })).id;
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return ids;
}

/** Status and attempts of every task of a queue, straight from the store. */
export async function tasksOf(t: TestControlPlane, queue: string) {
  return t.cp.store.kysely.selectFrom('tasks').select(['id', 'status', 'attempts', 'worker_id'])
    .where('queue', '=', queue).execute();
}

export function assertRanOnce(rows: { id: string; status: string; attempts: number }[], ids: string[], marker: string[]) {
  assert.equal(rows.length, ids.length);
  assert.deepEqual(rows.filter((r) => r.status !== 'completed'), [], 'every task completed');
  assert.deepEqual(rows.filter((r) => r.attempts !== 1), [], 'every task was dequeued exactly once');
  assert.equal(marker.length, ids.length, 'one marker line per task');
  assert.equal(new Set(marker).size, marker.length, 'no task ran twice');
  assert.deepEqual([...marker].sort(), [...ids].sort(), 'and every task ran');
}

/** Tasks of a queue still waiting or running. */
export async function unfinished(t: TestControlPlane, queue: string): Promise<number> {
  const r = await t.cp.store.kysely.selectFrom('tasks').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('queue', '=', queue).where('status', 'in', ['queued', 'running']).executeTakeFirstOrThrow();
  return Number(r.n);
}
