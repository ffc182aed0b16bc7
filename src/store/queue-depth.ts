// What the autoscaler's snapshot needs of each queue, at any depth in one statement of bounded cost: how
// many tasks wait, counted only up to a cap (the most the app could ever start for that queue at once:
// past it the plan is the same), and when the task at the head was queued. An exact count and the
// oldest `queued_at` read every waiting row: with 1,000,000 queued that was most of a reconciler pass
// (docs/benchmarks.md, bench:scale). Both reads walk the dequeue index (queue, status, priority, position).
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface Depth {
  waiting: number;
  /** When the head of the queue (the next task to run) was queued. */
  oldestAt?: number;
}

export async function waitingUpTo(db: Kysely<Database>, caps: Readonly<Record<string, number>>): Promise<Record<string, Depth>> {
  const out: Record<string, Depth> = {};
  const entries = Object.entries(caps);
  for (const [q] of entries) out[q] = { waiting: 0 };
  if (!entries.length) return out;
  // One SELECT per queue, joined: SQLite takes no column in a LIMIT, so each cap is a bound value.
  const parts = entries.map(([q, cap]) => sql`SELECT CAST(${q} AS text) AS name,
      (SELECT count(*) FROM (SELECT 1 FROM tasks WHERE queue = ${q} AND status = 'queued' LIMIT ${Math.max(1, Math.floor(cap))}) AS s) AS n,
      (SELECT queued_at FROM tasks WHERE queue = ${q} AND status = 'queued' ORDER BY priority DESC, position LIMIT 1) AS head`);
  const { rows: got } = await sql<{ name: string; n: number | string; head: number | string | null }>`${sql.join(parts, sql` UNION ALL `)}`.execute(db);
  for (const r of got) {
    const waiting = Number(r.n);
    out[r.name] = waiting ? { waiting, oldestAt: Number(r.head) } : { waiting: 0 };
  }
  return out;
}
