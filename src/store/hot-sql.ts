// Statements on a busy queue's hot path, as plain text: Kysely's `sql` template builds an operation tree,
// freezes it and compiles it on every call, which cost more than SQLite took to run the statement. Here a
// statement is a string and its bound values; only the placeholders differ between the stores.
import { CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type { CommitLater, Dialect, Direct } from './driver-types.js';

export type { CommitLater, Dialect, Direct } from './driver-types.js';

/** A piece of SQL text with the values bound to its `?` placeholders, in order. */
export class Sql {
  constructor(readonly text: string, readonly params: readonly unknown[]) {}
}

/** Like Kysely's `sql`: a Sql value is spliced in as text, any other value is bound as a parameter. */
export function q(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  let text = strings[0];
  const params: unknown[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v instanceof Sql) {
      text += v.text;
      params.push(...v.params);
    } else {
      text += '?';
      params.push(v);
    }
    text += strings[i + 1];
  }
  return new Sql(text, params);
}

/** Text spliced in as is: only ever constants written here, never input. */
export const raw = (text: string) => new Sql(text, []);

// PostgreSQL numbers its placeholders. The texts are few (they are built from constants), so they are kept.
const numbered = new Map<string, string>();
export function forPostgres(text: string): string {
  let out = numbered.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/\?/g, () => `$${++n}`);
    if (numbered.size < 1000) numbered.set(text, out);
  }
  return out;
}

/**
 * How the store runs its hot-path statements: one object per store, built when the store opens (db.ts), and
 * given to the repositories that use it. `direct` is the driver's own way to run a statement: Kysely's
 * executor (connection provider, plugins, several awaits) was ~5% of a busy control plane's CPU.
 */
export class HotPath {
  constructor(readonly dialect: Dialect, private readonly direct: Direct) {}

  /**
   * Runs a statement without the query builder. `commitLater`: on SQLite, answer before the group's COMMIT,
   * for a caller that always runs another statement after it, without it, in the same call: that one waits
   * for the COMMIT, which makes both durable (sqlite-group-commit.ts).
   */
  run<R>(s: Sql, opts: { commitLater?: boolean } = {}): Promise<QueryResult<R>> {
    const text = this.dialect === 'postgres' ? forPostgres(s.text) : s.text;
    return this.direct(text, s.params, opts.commitLater ?? false) as Promise<QueryResult<R>>;
  }

  /** The same statements through a Kysely instance (a transaction, or a database opened without a driver seam). */
  static via(db: Kysely<any>, dialect: Dialect): HotPath {
    return new HotPath(dialect, (text, params, commitLater) => {
      const compiled: CommitLater = CompiledQuery.raw(text, params as unknown[]);
      return db.executeQuery(commitLater ? { ...compiled, commitLater: true } : compiled);
    });
  }
}

