// The hot path of a queue: a task changes hands, and its worker's record says what the worker holds.
// On PostgreSQL both go in one statement (a data-modifying CTE), which saves a round trip on every
// dequeue and every finish; SQLite runs the two statements back to back in-process.
import { sql, type Kysely, type QueryCreator, type Selectable, type UpdateQueryBuilder } from 'kysely';
import type { Database, TaskTable } from './schema.js';
import type { Dialect } from './db.js';

export type TaskUpdate = UpdateQueryBuilder<Database, 'tasks', 'tasks', Selectable<TaskTable>>;

/**
 * Runs `update` (an UPDATE of one task … RETURNING *) and marks the task's worker (its worker_id after the
 * update) as holding it ('holds') or as idle again ('idle'). Resolves with the updated row, if any.
 */
export async function updateTaskAndWorker(
  db: Kysely<Database>,
  dialect: Dialect,
  update: (qc: QueryCreator<Database>) => TaskUpdate,
  mark: 'holds' | 'idle',
  now: number,
): Promise<Selectable<TaskTable> | undefined> {
  const idle = { current_task: null, idle_since: now, last_seen: now };
  if (dialect === 'postgres') {
    // A take commits without waiting for the disk flush (that wait is most of a dequeue's time). Safe: a take
    // lost in a database crash leaves the task queued; its first agent then meets a stale lease (409) and stops,
    // so the task may start twice but never completes twice. The finish, which commits durably, also makes
    // every earlier take durable (the log is written in order). Enqueues and finishes wait for the flush.
    const commit = mark === 'holds' ? 'off' : 'on';
    return db
      .with('t', (qc) => update(qc))
      .with('c', (qc) => qc.selectNoFrom(sql<string>`set_config('synchronous_commit', ${commit}, true)`.as('sc')))
      .with('w', (qc) => qc.updateTable('workers').from('t')
        .set(mark === 'holds' ? { current_task: sql<string>`t.id`, idle_since: null, last_seen: now } : idle)
        .whereRef('workers.id', '=', 't.worker_id').returning('workers.id'))
      .selectFrom(['t', 'c']).selectAll('t').executeTakeFirst();
  }
  const r = await update(db).executeTakeFirst();
  if (r?.worker_id)
    await db.updateTable('workers').set(mark === 'holds' ? { current_task: r.id, idle_since: null, last_seen: now } : idle)
      .where('id', '=', r.worker_id).execute();
  return r;
}
