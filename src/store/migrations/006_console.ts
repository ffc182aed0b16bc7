// The web console (issue 14): sessions (only a hash of the session id is stored), per-app history samples for
// the console's charts (bounded, pruned), and the instance requests a person makes from the console (drain,
// terminate) that the app's reconciler carries out. A draining worker takes no new task (checked in the take).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('sessions')
    .addColumn('hash', 'text', (c) => c.primaryKey())
    .addColumn('token_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_expiry').on('sessions').column('expires_at').execute();

  await db.schema.createTable('app_history')
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('by_state', 'text', (c) => c.notNull())
    .addColumn('waiting', 'integer', (c) => c.notNull())
    .addColumn('dollars_per_hour', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('app_history_pk', ['app', 'at'])
    .execute();

  // 'drain' (no new task; stopped when idle) or 'terminate' (now; its task goes back to its queue).
  await db.schema.alterTable('instances').addColumn('requested', 'text').execute();
  await db.schema.alterTable('workers').addColumn('draining_at', 'bigint').execute();
  await db.schema.createIndex('tasks_started').on('tasks').column('started_at').execute();
}
