// SQLite with group commit. A commit costs more than a hot-path statement (the WAL gets every page the
// transaction touched), so the statements of one event-loop turn share one transaction: a busy queue pays
// one commit per turn, not one per statement. Nothing is acknowledged early: a statement's promise settles
// only after the COMMIT that made it durable (or rejects if that COMMIT failed). Durability is what it was
// with one commit per statement (WAL, synchronous = NORMAL).
import BetterSqlite3 from 'better-sqlite3';
import type { CommitLater, Direct } from './hot-sql.js';
import {
  CompiledQuery, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler,
  type DatabaseConnection, type Dialect, type Driver, type Kysely, type QueryResult,
} from 'kysely';

export class GroupCommitSqliteDialect implements Dialect {
  private driver?: GroupCommitDriver;
  constructor(private readonly db: BetterSqlite3.Database) {}
  createDriver(): Driver {
    return (this.driver = new GroupCommitDriver(this.db));
  }

  /** Runs a statement outside any transaction, as a query through Kysely would (see hot-sql.ts). */
  direct(): Direct {
    const conn = new Connection(this.driver!);
    return (text, params, commitLater) =>
      this.driver!.execute(conn, text, params as unknown[], commitLater);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  createAdapter() {
    return new SqliteAdapter();
  }
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

class GroupCommitDriver implements Driver {
  /** The connection inside an explicit transaction (a SAVEPOINT in the group); others wait for it to end. */
  private owner: Connection | null = null;
  private ownerDone: Promise<void> = Promise.resolve();
  private endOwner = () => {};
  private waiters: Waiter[] = [];
  private flushing = false;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly db: BetterSqlite3.Database) {}

  async init(): Promise<void> {}

  /** One connection object per use; all of them share the one database handle. */
  async acquireConnection(): Promise<DatabaseConnection> {
    return new Connection(this);
  }

  async releaseConnection(): Promise<void> {}

  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    while (this.owner) await this.ownerDone;
    this.owner = conn as Connection;
    this.ownerDone = new Promise((r) => (this.endOwner = r));
    this.open();
    this.db.exec('SAVEPOINT flotilla_tx');
  }

  async commitTransaction(): Promise<void> {
    this.db.exec('RELEASE flotilla_tx');
    this.release();
    await this.committed();
  }

  async rollbackTransaction(): Promise<void> {
    // An error that ended the whole transaction (disk full) has already failed the group's waiters.
    if (this.db.inTransaction) this.db.exec('ROLLBACK TO flotilla_tx; RELEASE flotilla_tx');
    this.release();
  }

  async destroy(): Promise<void> {
    while (this.owner) await this.ownerDone;
    this.flush();
    this.db.close();
  }

  /** Runs one statement; resolves once it is committed (at once inside an explicit transaction). */
  async execute(conn: Connection, text: string, params: unknown[], commitLater = false): Promise<QueryResult<unknown>> {
    // Checked and run with no await between: another caller's transaction cannot start in the gap.
    while (this.owner && this.owner !== conn) await this.ownerDone;
    const stmt = this.prepare(text);
    // A read outside any pending writes sees only committed data: nothing to wait for.
    if (stmt.readonly && !this.db.inTransaction) return { rows: stmt.all(params) };
    this.open();
    let result: QueryResult<unknown>;
    try {
      result = run(stmt, params);
    } catch (e) {
      // Some errors (disk full, I/O) roll back the whole transaction: the group's statements are lost too.
      if (!this.db.inTransaction) this.fail(e);
      throw e;
    }
    if (this.owner === conn) return result;
    // A statement the caller follows with others in the same call (a take, then its worker's record) need not
    // wait: the last one waits for the COMMIT, which covers them all. One commit wait per call, not one per statement.
    if (commitLater) this.schedule();
    else await this.committed();
    return result;
  }

  private release(): void {
    this.owner = null;
    this.endOwner();
    if (this.waiters.length) this.schedule();
  }

  private open(): void {
    if (!this.db.inTransaction) this.db.exec('BEGIN');
  }

  private committed(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      this.flush();
    });
  }

  /** Commits the group; an explicit transaction still open holds it until it ends. */
  private flush(): void {
    if (this.owner) return;
    const waiters = this.waiters;
    this.waiters = [];
    try {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const w of waiters) w.reject(e);
      return;
    }
    for (const w of waiters) w.resolve();
  }

  private fail(e: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(e);
  }

  /** Kysely prepares every query anew, and preparing costs more than running a hot-path statement. */
  private prepare(sql: string): BetterSqlite3.Statement {
    const hit = this.statements.get(sql);
    if (hit) return hit;
    const stmt = this.db.prepare(sql);
    if (this.statements.size >= 500) this.statements.delete(this.statements.keys().next().value!);
    this.statements.set(sql, stmt);
    return stmt;
  }
}

class Connection implements DatabaseConnection {
  constructor(private readonly driver: GroupCommitDriver) {}

  executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute(this, q.sql, q.parameters as unknown[], (q as CommitLater).commitLater) as Promise<QueryResult<R>>;
  }

  async *streamQuery<R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(q);
    for (const row of rows) yield { rows: [row] };
  }
}

function run(stmt: BetterSqlite3.Statement, params: unknown[]): QueryResult<unknown> {
  if (stmt.reader) return { rows: stmt.all(params) };
  const { changes, lastInsertRowid } = stmt.run(params);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}
