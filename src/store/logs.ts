// Task output: ordered lines, paged reads, a cap per task so one noisy task cannot fill the store.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Events } from './events.js';
import type { LogLine } from '../domain/task.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';

export interface NewLogLine {
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

export class LogRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly events: Events,
    private readonly maxBytesPerTask: number,
  ) {}

  /** Appends lines of a running task; only the holder of its lease may write. */
  async append(taskId: string, leaseId: string, lines: NewLogLine[], now = Date.now()): Promise<{ accepted: number }> {
    const accepted = await this.db.transaction().execute(async (tx) => {
      const t = await tx.selectFrom('tasks').select(['log_seq', 'log_bytes', 'lease_id', 'status'])
        .where('id', '=', taskId).executeTakeFirst();
      if (!t) throw new NotFoundError(`task "${taskId}" not found`);
      if (t.lease_id !== leaseId || t.status !== 'running')
        throw new ConflictError(`lease for task "${taskId}" is no longer valid`);
      const { rows, bytes } = this.fit(t.log_seq, t.log_bytes, lines, now, taskId);
      if (rows.length) await tx.insertInto('task_logs').values(rows.map((r) => ({ ...r, text: encodeLogText(r.text) }))).execute();
      await tx.updateTable('tasks').set({ log_seq: t.log_seq + rows.length, log_bytes: bytes })
        .where('id', '=', taskId).execute();
      return rows.length;
    });
    if (accepted) this.events.publish({ kind: 'log', taskId });
    return { accepted };
  }

  private fit(seq: number, bytes: number, lines: NewLogLine[], at: number, taskId: string) {
    const rows = [];
    for (const l of lines) {
      if (bytes >= this.maxBytesPerTask) break;
      const size = Buffer.byteLength(l.text);
      if (bytes + size > this.maxBytesPerTask) {
        // Keep what fits of this chunk (it may hold the whole output of a fast task), then say why it stops.
        const head = headOfBytes(l.text, this.maxBytesPerTask - bytes);
        if (head) rows.push({ task_id: taskId, seq: ++seq, stream: l.stream, text: head, at });
        const text = `${head.endsWith('\n') || !head ? '' : '\n'}[log truncated at ${this.maxBytesPerTask} bytes]\n`;
        rows.push({ task_id: taskId, seq: ++seq, stream: 'system', text, at });
        bytes = this.maxBytesPerTask;
        break;
      }
      rows.push({ task_id: taskId, seq: ++seq, stream: l.stream, text: l.text, at });
      bytes += size;
    }
    return { rows, bytes };
  }

  async read(taskId: string, after = 0, limit = 1000): Promise<LogLine[]> {
    const rows = await this.db.selectFrom('task_logs').select(['seq', 'stream', 'text', 'at'])
      .where('task_id', '=', taskId).where('seq', '>', after).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ ...r, text: decodeLogText(r.text) })) as LogLine[];
  }
}

/**
 * A task's output may hold U+0000, which PostgreSQL cannot keep in text (SQLite can: both stores keep the
 * same form). A line that holds it is stored as U+FFFF (a noncharacter, never meant to appear in text)
 * followed by the line as a JSON string, where U+0000 is `\u0000`; so is a line that starts with U+FFFF
 * itself, so every line reads back exactly as it was written. Every other line is stored as it is.
 */
const ESCAPED = '\uFFFF';

export function encodeLogText(text: string): string {
  return text.includes('\0') || text.startsWith(ESCAPED) ? ESCAPED + JSON.stringify(text) : text;
}

export function decodeLogText(stored: string): string {
  if (!stored.startsWith(ESCAPED)) return stored;
  try {
    const text: unknown = JSON.parse(stored.slice(1));
    if (typeof text === 'string') return text;
  } catch {
    // not written by encodeLogText (a line stored before it existed): as it is
  }
  return stored;
}

/** The longest start of `text` that takes at most `max` bytes in UTF-8, never cutting a character in two. */
export function headOfBytes(text: string, max: number): string {
  const head = Buffer.from(text).subarray(0, Math.max(0, max)).toString('utf8');
  // A cut character decodes as U+FFFD: drop it.
  return head.endsWith('\uFFFD') && !text.startsWith(head) ? head.slice(0, -1) : head;
}
