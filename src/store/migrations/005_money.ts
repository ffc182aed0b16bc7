// Money (issue 16): what attribution and the period budgets need, kept in the store so the figures survive a restart.
// - instances.cause_queue: the queue whose waiting task caused the launch (its boot and idle time are billed there);
//   instances.ready_at: when its worker registered (boot time ends).
// - task_runs: each earlier run of a task on a worker (a run that ended by a release, a lost lease or a lost machine
//   before the task went back to its queue). A task's last run stays on its own row (worker_id, started_at,
//   ended_at), so the hot path (take, finish) writes nothing more.
// - budget_warnings: which warning fraction of which budget period was already sent, so each is sent once.
import { type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('instances').addColumn('cause_queue', 'text').execute();
  await db.schema.alterTable('instances').addColumn('ready_at', 'bigint').execute();
  await db.schema
    .createTable('task_runs')
    .addColumn('task_id', 'text', (c) => c.notNull())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('worker_id', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('task_runs_pk', ['task_id', 'started_at'])
    .execute();
  await db.schema.createIndex('task_runs_worker').on('task_runs').columns(['worker_id', 'ended_at']).execute();
  // No index on tasks.worker_id: every take writes that column, and the queue's throughput is worth more than a cost
  // report's scan (docs/costs.md).
  await db.schema
    .createTable('budget_warnings')
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('fraction', 'real', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('budget_warnings_pk', ['app', 'period', 'fraction'])
    .execute();
}
