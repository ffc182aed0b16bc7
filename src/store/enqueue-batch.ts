// Single enqueues that arrive together (in one turn of the event loop) go to the database as one INSERT. On
// PostgreSQL every statement is a network round trip and a durable commit, and the round trips, not the
// database, were most of a busy control plane's CPU; on SQLite it saves the per-statement work. A lone
// enqueue still goes at once (the batch is flushed in the same turn). Each caller learns whether its own row
// went in (its queue exists); a statement that fails is retried row by row, so one bad row fails alone.
import { Sql, type HotPath } from './hot-sql.js';

/** The columns an enqueue writes, and their SQL types (the CASTs type the bound values). */
export const ENQUEUE_COLUMNS = {
  id: 'text', queue: 'text', name: 'text', priority: 'integer', position: 'bigint', status: 'text', spec: 'text',
  attempts: 'integer', max_attempts: 'integer', abort_requested: 'integer', log_seq: 'integer', log_bytes: 'bigint',
  created_by: 'text', created_at: 'bigint', queued_at: 'bigint',
} as const;
type Column = keyof typeof ENQUEUE_COLUMNS;
export type EnqueueRow = { [C in Column]: string | number | null } & { id: string; queue: string };

const COLUMNS = Object.keys(ENQUEUE_COLUMNS) as Column[];
const ROW = `(${COLUMNS.map((c) => `CAST(? AS ${ENQUEUE_COLUMNS[c]})`).join(', ')})`;
/** Rows per statement: 15 values each, far below both stores' limits on bound values. */
const MAX_ROWS = 100;

const statements: string[] = [];
/** The INSERT of `n` rows; a row whose queue does not exist is left out, and the ids of those written come back. */
function insertOf(n: number): string {
  return statements[n] ??= `WITH v (${COLUMNS.join(', ')}) AS (VALUES ${Array(n).fill(ROW).join(', ')})
    INSERT INTO tasks (${COLUMNS.join(', ')}) SELECT ${COLUMNS.join(', ')} FROM v
    WHERE EXISTS (SELECT 1 FROM queues WHERE queues.name = v.queue) RETURNING id`;
}

interface Waiting { row: EnqueueRow; resolve(written: boolean): void; reject(e: unknown): void }

export class EnqueueBatch {
  private waiting: Waiting[] = [];

  constructor(private readonly hot: HotPath) {}

  /** Writes the row with the others of this turn; resolves false when its queue does not exist. */
  insert(row: EnqueueRow): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (!this.waiting.length) setImmediate(this.flush);
      this.waiting.push({ row, resolve, reject });
    });
  }

  private flush = () => {
    const batch = this.waiting.splice(0, MAX_ROWS);
    if (this.waiting.length) setImmediate(this.flush);
    void this.write(batch);
  };

  private async write(batch: Waiting[]): Promise<void> {
    let written: Set<string>;
    try {
      const params = batch.flatMap((w) => COLUMNS.map((c) => w.row[c]));
      const r = await this.hot.run<{ id: string }>(new Sql(insertOf(batch.length), params));
      written = new Set(r.rows.map((x) => x.id));
    } catch (e) {
      if (batch.length === 1) return batch[0].reject(e);
      for (const w of batch) void this.write([w]);
      return;
    }
    for (const w of batch) w.resolve(written.has(w.row.id));
  }
}
