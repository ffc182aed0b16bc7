// Opens the store: SQLite (embedded default, WAL) or PostgreSQL, and brings its schema up to date.
import { Kysely, Migrator, PostgresDialect, type Migration } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database } from './schema.js';
import * as m001 from './migrations/001_init.js';
import { GroupCommitSqliteDialect } from './sqlite-group-commit.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  url: string;
  /** Only for PostgreSQL: a pool for LISTEN and advisory locks. */
  pool?: pg.Pool;
  close(): Promise<void>;
}

const migrations: Record<string, { up: (db: Kysely<any>, d: Dialect) => Promise<void> }> = {
  '001_init': m001,
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
    if (target !== ':memory:') mkdirSync(dirname(target), { recursive: true });
    const sqlite = new BetterSqlite3(target);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    const kysely = new Kysely<Database>({ dialect: new GroupCommitSqliteDialect(sqlite) });
    db = { kysely, dialect, url, close: () => kysely.destroy() };
  } else {
    const pool = quiet(new pg.Pool({ connectionString: target, max: 4 }));
    const kysely = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: quiet(new pg.Pool({ connectionString: target, max: 10 })) }),
    });
    db = {
      kysely,
      dialect,
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
