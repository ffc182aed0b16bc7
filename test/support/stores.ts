// Every store and API test runs on both dialects: a fresh SQLite file and a fresh PostgreSQL database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.FLOTILLA_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDb {
  dialect: 'sqlite' | 'postgres';
  url: string;
  drop(): Promise<void>;
}

export async function createTestDb(dialect: 'sqlite' | 'postgres'): Promise<TestDb> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-test-'));
    return { dialect, url: `sqlite:${join(dir, 'flotilla.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `flotilla_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    dialect,
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const DIALECTS = ['sqlite', 'postgres'] as const;
