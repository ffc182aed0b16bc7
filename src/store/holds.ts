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

/**
 * PostgreSQL only: ends the task `done` (if the worker still holds it under that lease) and, in the same
 * statement, takes the head of `queue` for the worker; the worker's record follows. Undefined when the end
 * was refused (nothing is taken then). The statement commits durably: it carries the end of a task.
 */
export async function finishAndTakeOne(db: Kysely<Database>, a: {
  workerId: string; queue: string; now: number; lease: { id: string; expiresAt: number };
  done: { taskId: string; leaseId: string; status: string; exitCode: number | null; message?: string };
}): Promise<{ finishedQueue: string; taken?: Selectable<TaskTable> } | undefined> {
  const { workerId, queue, now, lease, done } = a;
  const r = await sql<Selectable<TaskTable> & { finished_queue: string }>`
    WITH f AS (
      UPDATE tasks SET status = ${done.status}, exit_code = ${done.exitCode}, status_message = ${done.message ?? null},
        ended_at = ${now}, lease_id = NULL, lease_expires_at = NULL
      WHERE id = ${done.taskId} AND lease_id = ${done.leaseId} AND status = 'running' AND worker_id = ${workerId}
      RETURNING queue
    ), t AS (
      UPDATE tasks SET status = 'running', worker_id = ${workerId}, lease_id = ${lease.id}, lease_expires_at = ${lease.expiresAt},
        attempts = attempts + 1, started_at = ${now}, status_message = NULL
      WHERE id = (SELECT id FROM tasks WHERE queue = ${queue} AND status = 'queued'
                  ORDER BY priority DESC, position ASC LIMIT 1 FOR UPDATE SKIP LOCKED)
        AND status = 'queued' AND EXISTS (SELECT 1 FROM f)
        AND NOT EXISTS (SELECT 1 FROM workers WHERE id = ${workerId} AND stopped_at IS NOT NULL)
      RETURNING *
    ), w AS (
      UPDATE workers SET current_task = (SELECT id FROM t), last_seen = ${now},
        idle_since = CASE WHEN EXISTS (SELECT 1 FROM t) THEN NULL ELSE ${now}::bigint END
      WHERE id = ${workerId} AND EXISTS (SELECT 1 FROM f)
      RETURNING id
    )
    SELECT f.queue AS finished_queue, t.* FROM f LEFT JOIN t ON true`.execute(db);
  const row = r.rows[0];
  if (!row) return undefined;
  const { finished_queue, ...taken } = row;
  return { finishedQueue: finished_queue, taken: taken.id ? taken as Selectable<TaskTable> : undefined };
}
