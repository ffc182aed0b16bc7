// The data directory is the user's only: 0700, and the database (with its -wal and -shm), the admin token and the
// secret key 0600, whatever the umask, and also when an earlier version left them readable by all (issue 13, 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../src/server/main.js';
import { FlotillaClient } from '../src/client/index.js';

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

function assertPrivate(dataDir: string) {
  assert.equal(mode(dataDir), '700', dataDir);
  for (const f of ['flotilla.db', 'flotilla.db-wal', 'flotilla.db-shm', 'admin-token', 'secret-key']) {
    const p = join(dataDir, f);
    assert.ok(existsSync(p), `${f} exists`);
    assert.equal(mode(p), '600', f);
  }
}

test('the data directory is 0700 and its files 0600, even with umask 000 and after an earlier loose start', async () => {
  const root = mkdtempSync(join(tmpdir(), 'flotilla-modes-'));
  const dataDir = join(root, 'data');
  const old = process.umask(0o000);
  try {
    let cp = await startControlPlane({ dataDir, port: 0, logLevel: 'silent' });
    try {
      const admin = new FlotillaClient(cp.url, cp.adminToken!);
      await admin.createQueue('q');
      await admin.createTask({ queue: 'q', command: 'echo secret-ish' });
      assertPrivate(dataDir);
    } finally {
      await cp.close();
    }
    // As an earlier version left them; the next start tightens them.
    chmodSync(dataDir, 0o755);
    for (const f of ['flotilla.db', 'flotilla.db-wal', 'flotilla.db-shm'])
      if (existsSync(join(dataDir, f))) chmodSync(join(dataDir, f), 0o644);
    cp = await startControlPlane({ dataDir, port: 0, logLevel: 'silent' });
    try {
      await new FlotillaClient(cp.url, cp.adminToken!).createTask({ queue: 'q', command: 'true' });
      assertPrivate(dataDir);
    } finally {
      await cp.close();
    }
  } finally {
    process.umask(old);
    rmSync(root, { recursive: true, force: true });
  }
});
