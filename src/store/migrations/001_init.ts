import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../driver-types.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('queues')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('worker_id', 'text')
    .addColumn('lease_id', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('exit_code', 'integer')
    .addColumn('status_message', 'text')
    .addColumn('abort_requested', 'integer', (c) => c.notNull())
    .addColumn('log_seq', 'integer', (c) => c.notNull())
    .addColumn('log_bytes', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('queued_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('ended_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('tasks_dequeue')
    .on('tasks')
    .columns(['queue', 'status', 'priority desc', 'position'])
    .execute();
  await db.schema.createIndex('tasks_status').on('tasks').columns(['status', 'lease_expires_at']).execute();

  await db.schema
    .createTable('task_logs')
    .addColumn('task_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('task_logs_pk', ['task_id', 'seq'])
    .execute();

  await db.schema
    .createTable('workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('queues', 'text', (c) => c.notNull())
    .addColumn('token_id', 'text')
    .addColumn('app', 'text')
    .addColumn('resource', 'text')
    .addColumn('instance_id', 'text')
    .addColumn('current_task', 'text')
    .addColumn('registered_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addColumn('idle_since', 'bigint')
    .addColumn('stopped_at', 'bigint')
    .execute();

  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('scope', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('apps')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('provider_id', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('offering', 'text', (c) => c.notNull())
    .addColumn('price_per_hour', 'double precision', (c) => c.notNull())
    .addColumn('launched_at', 'bigint', (c) => c.notNull())
    .addColumn('state_changed_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('worker_id', 'text')
    .addColumn('message', 'text')
    .execute();
  await db.schema.createIndex('instances_app_state').on('instances').columns(['app', 'state']).execute();

  const id = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
  await db.schema
    .createTable('decisions')
    .addColumn('id', id as any)
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('queue', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('decisions_app_at').on('decisions').columns(['app', 'at']).execute();

  await db.schema
    .createTable('secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
