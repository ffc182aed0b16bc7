// Opens the store: SQLite (embedded default, WAL) or PostgreSQL, and brings its schema up to date.
import { Kysely, Migrator, PostgresDialect, type Migration } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { privateFile, tightenIfExists } from './private-files.js';
import { dirname } from 'node:path';
import type { Database } from './schema.js';
import * as m001 from './migrations/001_init.js';
import * as m002 from './migrations/002_running_index.js';
import * as m003 from './migrations/003_journal_fold.js';
import * as m004 from './migrations/004_token_binding.js';
import * as m005 from './migrations/005_money.js';
import * as m006 from './migrations/006_console.js';
import * as m007 from './migrations/007_scale_pass.js';
import { GroupCommitSqliteDialect } from './sqlite-group-commit.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { HotPath } from './hot-sql.js';
import type { Dialect } from './driver-types.js';

export type { Dialect } from './driver-types.js';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** The hot path's statements, straight to the driver (hot-sql.ts). */
  hot: HotPath;
  url: string;
  /** Only for PostgreSQL: a pool for LISTEN and advisory locks. */
  pool?: pg.Pool;
  close(): Promise<void>;
}

const migrations: Record<string, { up: (db: Kysely<any>, d: Dialect) => Promise<void> }> = {
  '001_init': m001,
  '002_running_index': m002,
  '003_journal_fold': m003,
  '004_token_binding': m004,
  '005_money': m005,
  '006_console': m006,
  '007_scale_pass': m007,
};

// int8 columns hold epoch milliseconds, well inside Number's exact range.
pg.types.setTypeParser(20, (v) => Number(v));

export function parseDbUrl(url: string): { dialect: Dialect; target: string } {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { dialect: 'postgres', target: url };
  if (url.startsWith('sqlite:')) return { dialect: 'sqlite', target: url.slice('sqlite:'.length) };
  throw new Error(`--db "${url}" is not understood: use sqlite:PATH or postgres://USER@HOST:PORT/DB`);
}

export async function openDb(url: string): Promise<Db> {
  const { dialect, target } = parseDbUrl(url);
  let db: Db;
  if (dialect === 'sqlite') {
    if (target !== ':memory:') {
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      // Tasks, environments, logs and token hashes: the file is 0600 before SQLite opens it, and SQLite gives the
      // -wal and -shm files it creates the database file's mode. Ones left by an earlier version are tightened.
      privateFile(target);
      for (const f of [`${target}-wal`, `${target}-shm`, `${target}-journal`]) tightenIfExists(f);
    }
    const sqlite = new BetterSqlite3(target);
    sqlite.pragma('journal_mode = WAL');
    if (target !== ':memory:') for (const f of [`${target}-wal`, `${target}-shm`]) tightenIfExists(f);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    const checkpointer = target === ':memory:' ? undefined : startCheckpointer(target);
    if (checkpointer) sqlite.pragma('wal_autocheckpoint = 20000');
    const groupCommit = new GroupCommitSqliteDialect(sqlite);
    const kysely = new Kysely<Database>({ dialect: groupCommit });
    db = {
      kysely, dialect, url, hot: new HotPath(dialect, groupCommit.direct()),
      close: async () => {
        await checkpointer?.stop();
        await kysely.destroy();
      },
    };
  } else {
    const pool = quiet(new pg.Pool({ connectionString: target, max: 4 }));
    const queries = preparing(quiet(new pg.Pool({ connectionString: target, max: 10 })));
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: queries }) });
    const hot = new HotPath(dialect, async (text, params) => {
      const client = await queries.connect();
      try {
        const r = await client.query(text, params as unknown[]);
        return { rows: r.rows, numAffectedRows: r.rowCount === null ? undefined : BigInt(r.rowCount) };
      } finally {
        client.release();
      }
    });
    db = {
      kysely,
      dialect,
      hot,
      url,
      pool,
      close: async () => {
        await kysely.destroy();
        await pool.end();
      },
    };
  }
  await migrate(db);
  return db;
}

/**
 * PostgreSQL parses and plans every unnamed statement anew, and Kysely sends only unnamed ones: on the hot
 * path that was most of the database's own CPU. Data statements go as named prepared statements instead
 * (pg prepares each once per connection). A bounded number of distinct texts get names; the rest (IN lists
 * of every length, batch inserts) run unnamed as before.
 */
function preparing(pool: pg.Pool): pg.Pool {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (!name && names.size < 300 && text.length < 4000 && /^\s*(select|insert|update|delete|with)\b/i.test(text))
      names.set(text, (name = `flotilla_${names.size}`));
    return name;
  };
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: unknown }).query = (text: unknown, values?: unknown) => {
      const name = typeof text === 'string' && Array.isArray(values) ? nameOf(text) : undefined;
      return name ? query({ name, text, values }) : query(text, values);
    };
  });
  return pool;
}

/** An idle connection the server dropped (restart, failover) is replaced on next use; it must not crash us. */
function quiet(pool: pg.Pool): pg.Pool {
  pool.on('error', () => undefined);
  return pool;
}

async function migrate(db: Db): Promise<void> {
  const provider = {
    async getMigrations(): Promise<Record<string, Migration>> {
      return Object.fromEntries(
        Object.entries(migrations).map(([name, m]) => [name, { up: (k: Kysely<any>) => m.up(k, db.dialect) }]),
      );
    },
  };
  const { error } = await new Migrator({ db: db.kysely, provider }).migrateToLatest();
  if (error) throw new Error(`store migration failed: ${(error as Error).message}`);
}
