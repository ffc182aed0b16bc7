// The decision journal folds a repeated identical refusal into one row: `count` times, the last at `last_at`
// (`at` stays the first). Rows are pruned by age of their last repeat, hence the index on last_at.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('decisions').addColumn('count', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('decisions').addColumn('last_at', 'bigint').execute();
  await sql`UPDATE decisions SET last_at = at`.execute(db);
  await db.schema.createIndex('decisions_last_at').on('decisions').column('last_at').execute();
}
