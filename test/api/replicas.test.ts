// Two control planes on one PostgreSQL database: an enqueue through one wakes an agent waiting on the other,
// and a lone replica sends no NOTIFY at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../../src/server/main.js';
import { FlotillaClient } from '../../src/client/index.js';
import { startTestControlPlane } from '../support/control-plane.js';
import { waitFor } from '../support/wait.js';

test('postgres: an agent waiting on one replica gets a task enqueued through another at once', async () => {
  const a = await startTestControlPlane('postgres');
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-replica-'));
  assert.equal(a.cp.store.events.peerCount(), 0, 'alone: no replica to tell');
  const b = await startControlPlane({ db: a.db.url, dataDir, port: 0, logLevel: 'silent' });
  try {
    await waitFor('each replica hears the other', () =>
      a.cp.store.events.peerCount() === 1 && b.store.events.peerCount() === 1, 10_000);
    assert.match(await (await fetch(`${a.cp.url}/metrics`, { headers: { authorization: `Bearer ${a.cp.adminToken}` } })).text(),
      /flotilla_peer_replicas 1/);
    await a.user.createQueue('across');
    const agent = new FlotillaClient(b.url, a.agentToken);
    await agent.register({ id: 'across-1', queues: ['across'] });
    const t0 = Date.now();
    // A minute-long poll: only the event from the other replica can answer it early.
    const poll = agent.dequeue('across-1', { waitMs: 60_000 });
    await waitFor('the agent waiting on replica b', async () =>
      (await a.user.listWorkers()).some((w) => w.id === 'across-1'), 10_000);
    const task = await a.user.createTask({ queue: 'across', command: 'true' });
    const got = await poll;
    assert.equal(got?.task.id, task.id);
    assert.ok(Date.now() - t0 < 30_000, 'woken by the enqueue on replica a, not by the end of its wait');
  } finally {
    await b.close();
    await waitFor('replica a hears replica b leave', () => a.cp.store.events.peerCount() === 0, 10_000);
    await a.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
