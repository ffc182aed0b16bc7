// The hot path of a queue, in hand-written SQL (plain text, see hot-sql.ts): a task changes hands, and its
// worker's record says what the worker holds. These statements run on every task. On PostgreSQL the task and
// its worker change in one statement (a data-modifying CTE), which saves a round trip; SQLite runs the two
// back to back in-process.
import type { Selectable } from 'kysely';
import type { TaskTable } from './schema.js';
import { q, raw, type Dialect, type HotPath, type Sql } from './hot-sql.js';

type Row = Selectable<TaskTable>;
export interface LeaseGrant { id: string; expiresAt: number }
export interface EndReport { status: string; exitCode: number | null; message?: string }

const SKIP_LOCKED = raw('FOR UPDATE SKIP LOCKED');
const NOTHING = raw('');

/** The head of a queue (locked on PostgreSQL, so two takers never get the same task). */
export function headOf(dialect: Dialect, queue: string): Sql {
  return q`(SELECT id FROM tasks WHERE queue = ${queue} AND status = 'queued'
    ORDER BY priority DESC, position ASC LIMIT 1 ${dialect === 'postgres' ? SKIP_LOCKED : NOTHING})`;
}

/**
 * A stopped worker (its autoscaler is taking its machine away) or a draining one (a person asked, from the console)
 * takes nothing: checked in the taking statement.
 */
const notStopped = (workerId: string) =>
  q`NOT EXISTS (SELECT 1 FROM workers WHERE id = ${workerId} AND (stopped_at IS NOT NULL OR draining_at IS NOT NULL))`;

type Take = { workerId: string; which: Sql | string; statuses: 'queued' | 'queued or scheduled'; lease: LeaseGrant; now: number };
type End = { taskId: string; leaseId: string; workerId?: string; report: EndReport; now: number };

const QUEUED = raw(`status = 'queued'`);
const QUEUED_OR_SCHEDULED = raw(`status IN ('queued', 'scheduled')`);

/** The UPDATE that starts a task under a lease (`also`: more conditions); the one text both takes share. */
function takeUpdate(a: Take, also = NOTHING) {
  const status = a.statuses === 'queued' ? QUEUED : QUEUED_OR_SCHEDULED;
  return q`UPDATE tasks SET status = 'running', worker_id = ${a.workerId}, lease_id = ${a.lease.id},
    lease_expires_at = ${a.lease.expiresAt}, attempts = attempts + 1, started_at = ${a.now}, status_message = NULL
    WHERE id = ${a.which} AND ${status} AND ${notStopped(a.workerId)} ${also}`;
}

/** The UPDATE that ends a running task for the holder of its lease (and, given, only on that worker). */
function endUpdate(a: End) {
  const onWorker = a.workerId !== undefined ? q`AND worker_id = ${a.workerId}` : NOTHING;
  return q`UPDATE tasks SET status = ${a.report.status}, exit_code = ${a.report.exitCode},
    status_message = ${a.report.message ?? null}, ended_at = ${a.now}, lease_id = NULL, lease_expires_at = NULL
    WHERE id = ${a.taskId} AND lease_id = ${a.leaseId} AND status = 'running' ${onWorker}`;
}

const first = (r: { rows: Row[] }) => r.rows[0] as Row | undefined;

/** Starts the task `which` (the head of a queue, or one id among `statuses`) for the worker under a new lease. */
export function takeTask(hot: HotPath, a: Take) {
  return withWorker(hot, q`${takeUpdate(a)} RETURNING *`, 'holds', a.now);
}

/** Ends a running task; its worker is idle again. */
export function endTask(hot: HotPath, a: End) {
  return withWorker(hot, q`${endUpdate(a)} RETURNING *`, 'idle', a.now);
}

/**
 * Ends a running task whose worker takes the next one at once: the caller then takes and writes the worker's
 * record, which waits for the COMMIT that covers this too.
 */
export async function endBeforeTake(hot: HotPath, a: End) {
  const r = await hot.run<{ id: string; queue: string }>(q`${endUpdate(a)} RETURNING id, queue`, { commitLater: true });
  return r.rows[0];
}

/** Hands the head of a queue to an outside scheduler (the Kubernetes glue): it keeps its place in the order. */
export function scheduleHead(hot: HotPath, queue: string, message: string) {
  return hot.run<Row>(q`UPDATE tasks SET status = 'scheduled', status_message = ${message}
    WHERE id = ${headOf(hot.dialect, queue)} AND status = 'queued' RETURNING *`).then(first);
}

const HOLDS = raw('current_task = t.id, idle_since = NULL');

/**
 * Runs `update` (an UPDATE of one task … RETURNING *) and marks the task's worker (its worker_id after the
 * update) as holding it ('holds') or as idle again ('idle'). Resolves with the updated row, if any.
 */
async function withWorker(hot: HotPath, update: Sql, mark: 'holds' | 'idle', now: number) {
  if (hot.dialect === 'postgres') {
    // A take commits without waiting for the disk flush (that wait is most of a dequeue's time). Safe: a take
    // lost in a database crash leaves the task queued; its first agent then meets a stale lease (409) and stops,
    // so the task may start twice but never completes twice. The finish, which commits durably, also makes
    // every earlier take durable (the log is written in order). Enqueues and finishes wait for the flush.
    const commit = mark === 'holds' ? 'off' : 'on';
    const set = mark === 'holds' ? HOLDS : q`current_task = NULL, idle_since = ${now}`;
    return first(await hot.run<Row>(q`WITH t AS (${update}),
      c AS (SELECT set_config('synchronous_commit', ${commit}, true) AS sc),
      w AS (UPDATE workers SET ${set}, last_seen = ${now} FROM t WHERE workers.id = t.worker_id RETURNING workers.id)
      SELECT t.* FROM t, c`));
  }
  // A row changed is always followed by its worker's record, which waits for the COMMIT; no row, nothing to commit.
  const row = first(await hot.run<Row>(update, { commitLater: true }));
  if (row?.worker_id) await markWorker(hot, row.worker_id, mark === 'holds' ? row.id : null, now);
  return row;
}

/** The worker's record: the task it holds, or idle since now. */
export async function markWorker(hot: HotPath, workerId: string, held: string | null, now: number) {
  await hot.run(q`UPDATE workers SET current_task = ${held}, idle_since = ${held ? null : now}, last_seen = ${now}
    WHERE id = ${workerId}`);
}

/**
 * PostgreSQL only: ends the task `done` (if the worker still holds it under that lease) and, in the same
 * statement, takes the head of `queue` for the worker; the worker's record follows. Undefined when the end
 * was refused (nothing is taken then). The statement commits durably: it carries the end of a task.
 */
export async function finishAndTakeOne(hot: HotPath, a: FinishAndTake): Promise<{ finishedQueue: string; taken?: Row } | undefined> {
  const r = await hot.run<Row & { finished_queue: string }>(finishAndTakeSql(a));
  const row = r.rows[0];
  if (!row) return undefined;
  const { finished_queue, ...taken } = row;
  return { finishedQueue: finished_queue, taken: taken.id ? taken as Row : undefined };
}

type FinishAndTake = {
  workerId: string; queue: string; now: number; lease: LeaseGrant;
  done: EndReport & { taskId: string; leaseId: string };
};

/** The statement of finishAndTakeOne (its test reads the plan PostgreSQL makes of it). */
export function finishAndTakeSql(a: FinishAndTake): Sql {
  const { workerId, queue, now, lease, done } = a;
  const take: Take = { workerId, which: headOf('postgres', queue), statuses: 'queued', lease, now };
  return q`
    WITH f AS (${endUpdate({ ...done, report: done, workerId, now })} RETURNING queue),
    t AS (${takeUpdate(take, raw('AND EXISTS (SELECT 1 FROM f)'))} RETURNING *),
    w AS (
      UPDATE workers SET current_task = (SELECT id FROM t), last_seen = ${now},
        idle_since = CASE WHEN EXISTS (SELECT 1 FROM t) THEN NULL ELSE ${now}::bigint END
      WHERE id = ${workerId} AND EXISTS (SELECT 1 FROM f) RETURNING id)
    SELECT f.queue AS finished_queue, t.* FROM f LEFT JOIN t ON true`;
}
