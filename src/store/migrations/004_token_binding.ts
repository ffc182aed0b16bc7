// The binding of an agent token: the autoscaler app, resource and queues it may register a worker for (issue
// 13, defect 2). Null: not bound (a hand-made token has no app unless an admin grants one; a token with an app
// but no queues may serve the queues the app maps to its resource now).
//
// Agent tokens of machines launched before this migration are bound here to their instance's app and resource
// (queues: those the app maps to that resource), so a running fleet keeps reading its app's secrets.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('tokens').addColumn('app', 'text').execute();
  await db.schema.alterTable('tokens').addColumn('resource', 'text').execute();
  await db.schema.alterTable('tokens').addColumn('queues', 'text').execute();
  await sql`UPDATE tokens SET
      app = (SELECT i.app FROM instances i WHERE i.id = tokens.scope OR i.provider_id = tokens.scope LIMIT 1),
      resource = (SELECT i.resource FROM instances i WHERE i.id = tokens.scope OR i.provider_id = tokens.scope LIMIT 1)
    WHERE role IN ('agent', 'bootstrap') AND scope IS NOT NULL`.execute(db);
}
