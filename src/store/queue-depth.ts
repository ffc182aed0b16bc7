// What the autoscaler's snapshot needs of each queue, at any depth in one statement of bounded cost: how
// many tasks wait, counted only up to a cap (the most the app could ever start for that queue at once:
// past it the plan is the same), and when the task at the head was queued. An exact count and the
// oldest `queued_at` read every waiting row: with 1,000,000 queued that was most of a reconciler pass
// (docs/benchmarks.md, bench:scale). Both reads walk the dequeue index (queue, status, priority, position).
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { Sql, type HotPath } from './hot-sql.js';

export interface Depth {
  waiting: number;
  /** When the head of the queue (the next task to run) was queued. */
  oldestAt?: number;
}

export async function waitingUpTo(db: Kysely<Database>, hot: HotPath, caps: Readonly<Record<string, number>>): Promise<Record<string, Depth>> {
  const out: Record<string, Depth> = {};
  const entries = Object.entries(caps);
  for (const [q] of entries) out[q] = { waiting: 0 };
  if (!entries.length) return out;
  const got = hot.dialect === 'postgres' ? await allAtOnce(hot, entries) : await queueByQueue(db, entries);
  for (const r of got) {
    const waiting = Number(r.n);
    out[r.name] = waiting ? { waiting, oldestAt: Number(r.head) } : { waiting: 0 };
  }
  return out;
}

type Row = { name: string; n: number | string; head: number | string | null };
const cap = (n: number) => Math.max(1, Math.floor(n));

/**
 * PostgreSQL: one text for any number of queues (the names and caps are two arrays), so it is a named prepared
 * statement, planned once per connection; a text per number of queues was parsed and planned on every pass. The
 * count walks the dequeue index in its order and stops at the cap: without the ORDER BY the planner may read every
 * entry of the queue (a bitmap scan) before the LIMIT applies.
 */
const ALL_AT_ONCE = `SELECT u.name,
    (SELECT count(*) FROM (SELECT 1 FROM tasks t WHERE t.queue = u.name AND t.status = 'queued'
      ORDER BY t.priority DESC, t.position LIMIT u.cap) AS s) AS n,
    (SELECT t.queued_at FROM tasks t WHERE t.queue = u.name AND t.status = 'queued' ORDER BY t.priority DESC, t.position LIMIT 1) AS head
  FROM unnest(?::text[], ?::bigint[]) AS u(name, cap)`;

async function allAtOnce(hot: HotPath, entries: [string, number][]): Promise<Row[]> {
  return (await hot.run<Row>(new Sql(ALL_AT_ONCE, [entries.map(([q]) => q), entries.map(([, c]) => cap(c))]))).rows;
}

/** SQLite: one SELECT per queue, joined (SQLite takes no column in a LIMIT, so each cap is a bound value). */
async function queueByQueue(db: Kysely<Database>, entries: [string, number][]): Promise<Row[]> {
  const parts = entries.map(([q, c]) => sql`SELECT CAST(${q} AS text) AS name,
      (SELECT count(*) FROM (SELECT 1 FROM tasks WHERE queue = ${q} AND status = 'queued' LIMIT ${cap(c)}) AS s) AS n,
      (SELECT queued_at FROM tasks WHERE queue = ${q} AND status = 'queued' ORDER BY priority DESC, position LIMIT 1) AS head`);
  return (await sql<Row>`${sql.join(parts, sql` UNION ALL `)}`.execute(db)).rows;
}
