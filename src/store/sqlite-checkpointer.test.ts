// The write-ahead log is copied back into the database file by the background thread while the store is
// open, long before SQLite's own (raised) threshold would do it inside a commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from './db.js';
import { waitFor } from '../../test/support/wait.js';

test('the database file takes in what was committed while the store stays open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-ckpt-'));
  const file = join(dir, 'flotilla.db');
  const db = await openDb(`sqlite:${file}`);
  try {
    await waitFor('the migration checkpointed', () => statSync(`${file}-wal`, { throwIfNoEntry: false }) !== undefined, 10_000);
    const before = statSync(file).size;
    // About 2 MB over 400 commits: far below the 20,000-page (80 MB) threshold SQLite itself would wait for.
    for (let i = 0; i < 400; i++)
      await db.kysely.insertInto('queues').values({ name: `q-${i}-${'x'.repeat(5000)}`, created_at: i }).execute();
    await waitFor('the rows copied into the database file', () => statSync(file).size > before + 1_000_000, 10_000);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
