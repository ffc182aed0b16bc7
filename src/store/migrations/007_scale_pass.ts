// A reconciler pass at fleet scale (docs/benchmarks.md, "Second round").
// - instances.rev: a number every write of an instance sets anew, larger than any before it. The reconciler keeps
//   its app's live records in memory (store/live-instances.ts) and, each pass, compares a census of them (how many,
//   the largest rev, the sum of revs) with its own: one covering index read instead of every record. Rows from
//   before keep 0: a census counts them as they are, and their next write gives them a new rev. PostgreSQL takes
//   it from a sequence (drawn when the row is written, also after waiting for another writer's lock); SQLite,
//   whose writers never overlap, from the largest one plus one.
// - The journal is read by id order only (the newest row of an app and queue, the prune's edge, the listings):
//   (app, id) and (app, queue, id) serve them; (app, at) served none.
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../driver-types.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema.alterTable('instances').addColumn('rev', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  if (dialect === 'postgres') await sql`CREATE SEQUENCE instances_rev_seq`.execute(db);
  // SQLite's next rev (the largest plus one), and on both what changed since a census (rev above the largest seen).
  await db.schema.createIndex('instances_rev').on('instances').column('rev').execute();
  await db.schema.dropIndex('instances_app_state').execute();
  await db.schema.createIndex('instances_app_state_rev').on('instances').columns(['app', 'state', 'rev']).execute();

  await db.schema.dropIndex('decisions_app_at').execute();
  await db.schema.createIndex('decisions_app_id').on('decisions').columns(['app', 'id']).execute();
  await db.schema.createIndex('decisions_app_queue_id').on('decisions').columns(['app', 'queue', 'id']).execute();
}
