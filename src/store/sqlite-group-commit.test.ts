// Group commit on a real SQLite file: what a caller was told is committed is visible to another connection,
// one caller's failure or rollback never takes another caller's statements with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, sql } from 'kysely';
import { GroupCommitSqliteDialect } from './sqlite-group-commit.js';
import type { CommitLater } from './hot-sql.js';

interface Db { items: { id: number; name: string } }

async function open() {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-gc-'));
  const file = join(dir, 'db.sqlite');
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  const db = new Kysely<Db>({ dialect: new GroupCommitSqliteDialect(raw) });
  await sql`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)`.execute(db);
  // Another connection to the same file sees only what is committed.
  const other = new BetterSqlite3(file, { readonly: true });
  const committed = () => (other.prepare('SELECT id FROM items ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  return {
    db, committed, file,
    async close() {
      await db.destroy();
      other.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('statements of one turn share a commit, and each is answered only once another connection can see it', async () => {
  const t = await open();
  try {
    const seenAtAnswer: number[][] = [];
    await Promise.all([1, 2, 3].map(async (id) => {
      await t.db.insertInto('items').values({ id, name: `n${id}` }).execute();
      seenAtAnswer.push(t.committed());
    }));
    for (const seen of seenAtAnswer) assert.deepEqual(seen, [1, 2, 3]);
    const raw = new BetterSqlite3(t.file, { readonly: true });
    assert.equal((raw.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n, 3);
    raw.close();
  } finally {
    await t.close();
  }
});

test('a failing statement rejects alone: the others of its turn are committed', async () => {
  const t = await open();
  try {
    await t.db.insertInto('items').values({ id: 1, name: 'taken' }).execute();
    const results = await Promise.allSettled([
      t.db.insertInto('items').values({ id: 2, name: 'a' }).execute(),
      t.db.insertInto('items').values({ id: 3, name: 'taken' }).execute(),
      t.db.insertInto('items').values({ id: 4, name: 'b' }).execute(),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/);
    assert.deepEqual(t.committed(), [1, 2, 4]);
  } finally {
    await t.close();
  }
});

test('a rolled-back transaction undoes only itself; another caller waits for it and is not caught in it', async () => {
  const t = await open();
  try {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = t.db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 1, name: 'in tx' }).execute();
      await held;
      throw new Error('changed my mind');
    });
    // Issued while the transaction is open: it must not land inside it (and be rolled back with it).
    let outsideDone = false;
    const outside = t.db.insertInto('items').values({ id: 2, name: 'outside' }).execute().then(() => (outsideDone = true));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(outsideDone, false, 'waits while the transaction is open');
    assert.deepEqual(t.committed(), [], 'nothing committed while the transaction is open');
    release();
    await assert.rejects(tx, /changed my mind/);
    await outside;
    assert.deepEqual(t.committed(), [2]);
    await t.db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 3, name: 'kept' }).execute();
    });
    assert.deepEqual(t.committed(), [2, 3]);
  } finally {
    await t.close();
  }
});

test('a statement marked commitLater answers at once; the next one of its caller answers once both are committed', async () => {
  const t = await open();
  try {
    const later = CompiledQuery.raw('INSERT INTO items (id, name) VALUES (1, \'taken\')');
    await t.db.executeQuery({ ...later, commitLater: true } as CommitLater);
    assert.deepEqual(t.committed(), [], 'answered before its COMMIT');
    await t.db.insertInto('items').values({ id: 2, name: 'its worker' }).execute();
    assert.deepEqual(t.committed(), [1, 2], 'the waiting statement is answered after the COMMIT that covers both');
  } finally {
    await t.close();
  }
});
