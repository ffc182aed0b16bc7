// The dequeue long poll on one keep-alive connection, as an agent holds it for its whole life: each poll that
// waits must leave nothing behind on the socket (a listener per poll once piled up into a
// MaxListenersExceededWarning in the server's log after 11 polls, and kept every poll's signal alive).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaClient } from '../../src/client/index.js';
import { startControlPlane, type ControlPlane } from '../../src/server/main.js';

let dir: string;
let cp: ControlPlane;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-long-poll-'));
  cp = await startControlPlane({ dataDir: dir, port: 0, logLevel: 'silent' });
});
after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('30 waiting polls on one connection: no listener left behind, each answers empty', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    const admin = new FlotillaClient(cp.url, cp.adminToken!);
    await admin.createQueue('quiet');
    const agent = new FlotillaClient(cp.url, (await admin.createToken('poller', 'agent')).token);
    await agent.register({ id: 'poller', queues: ['quiet'] });
    for (let i = 0; i < 30; i++) assert.equal(await agent.dequeue('poller', { waitMs: 20 }), undefined, `poll ${i} took nothing`);
    // A warning is emitted on the next tick after the listener that crossed the limit.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), []);
  } finally {
    process.off('warning', onWarning);
  }
});

test('20 polls held at once, then answered by enqueues: no listener warning, every task taken once', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    const admin = new FlotillaClient(cp.url, cp.adminToken!);
    await admin.createQueue('many');
    const agent = new FlotillaClient(cp.url, (await admin.createToken('many-pollers', 'agent')).token);
    const ids = Array.from({ length: 20 }, (_, i) => `many-${i}`);
    for (const id of ids) await agent.register({ id, queues: ['many'] });
    const polls = ids.map((id) => agent.dequeue(id, { waitMs: 30_000 }));
    const tasks = await admin.createTasks(ids.map(() => ({ queue: 'many', command: 'true' })));
    const taken = await Promise.all(polls);
    assert.deepEqual(taken.map((t) => t?.task.id).sort(), tasks.map((t) => t.id).sort());
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), []);
  } finally {
    process.off('warning', onWarning);
  }
});
