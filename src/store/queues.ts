// Named queues.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';

export interface QueueInfo {
  name: string;
  createdAt: number;
  queued: number;
  running: number;
}

export class QueueRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(name: string, now = Date.now()): Promise<void> {
    const r = await this.db.insertInto('queues').values({ name, created_at: now })
      .onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) throw new ConflictError(`queue "${name}" already exists`);
  }

  async ensure(name: string, now = Date.now()): Promise<void> {
    await this.db.insertInto('queues').values({ name, created_at: now })
      .onConflict((oc) => oc.column('name').doNothing()).execute();
  }

  async list(): Promise<QueueInfo[]> {
    const rows = await this.db.selectFrom('queues').leftJoin('tasks', (j) =>
      j.onRef('tasks.queue', '=', 'queues.name').on('tasks.status', 'in', ['queued', 'scheduled', 'running']))
      .select((eb) => [
        'queues.name as name',
        'queues.created_at as createdAt',
        eb.fn.sum<number>(eb.case().when('tasks.status', 'in', ['queued', 'scheduled']).then(1).else(0).end()).as('queued'),
        eb.fn.sum<number>(eb.case().when('tasks.status', '=', 'running').then(1).else(0).end()).as('running'),
      ])
      .groupBy(['queues.name', 'queues.created_at']).orderBy('queues.name').execute();
    return rows.map((r) => ({ ...r, queued: Number(r.queued ?? 0), running: Number(r.running ?? 0) }));
  }

  /** Refuses while tasks wait or run in it, so no task is orphaned. */
  async delete(name: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const busy = await tx.selectFrom('tasks').select('id').where('queue', '=', name)
        .where('status', 'in', ['queued', 'scheduled', 'running']).executeTakeFirst();
      if (busy) throw new ConflictError(`queue "${name}" still has waiting or running tasks: abort them first`);
      const r = await tx.deleteFrom('queues').where('name', '=', name).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw new NotFoundError(`queue "${name}" not found`);
    });
  }
}
