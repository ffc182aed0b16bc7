// Types shared by the store's opening (db.ts), its migrations, its hot-path statements (hot-sql.ts) and the SQLite
// group-commit driver (sqlite-group-commit.ts). They live here so those files import one another in
// one direction only: db → hot-sql, db → sqlite-group-commit, db → migrations, each of them → this file.
import type { CompiledQuery, QueryResult } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** Runs a statement on the store's database itself (not in a transaction), as its driver would. */
export type Direct = (text: string, params: readonly unknown[], commitLater: boolean) => Promise<QueryResult<unknown>>;

/** See hot-sql.ts: a statement answered before its COMMIT, for a caller that then runs one that waits. */
export type CommitLater = CompiledQuery & { commitLater?: boolean };
