// Per-app samples for the console's charts: instances by state, waiting tasks and $/h, one row per app every
// sample interval. Bounded: rows older than the kept window (a day) are deleted as new ones come.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface HistorySample {
  at: number;
  byState: Record<string, number>;
  waiting: number;
  dollarsPerHour: number;
}

export const HISTORY_KEEP_MS = 24 * 3_600_000;

export class HistoryRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Adds one sample per app (one statement) and drops every app's samples older than the kept window. */
  async record(samples: (HistorySample & { app: string })[], now: number): Promise<void> {
    if (samples.length) {
      await this.db.insertInto('app_history').values(samples.map((s) => ({
        app: s.app, at: s.at, by_state: JSON.stringify(s.byState), waiting: s.waiting, dollars_per_hour: s.dollarsPerHour,
      }))).onConflict((oc) => oc.columns(['app', 'at']).doNothing()).execute();
    }
    await this.db.deleteFrom('app_history').where('at', '<', now - HISTORY_KEEP_MS).execute();
  }

  async list(app: string, since: number): Promise<HistorySample[]> {
    const rows = await this.db.selectFrom('app_history').selectAll().where('app', '=', app).where('at', '>=', since)
      .orderBy('at').execute();
    return rows.map((r) => ({ at: Number(r.at), byState: JSON.parse(r.by_state), waiting: r.waiting, dollarsPerHour: Number(r.dollars_per_hour) }));
  }

  async count(): Promise<number> {
    const r = await this.db.selectFrom('app_history').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
