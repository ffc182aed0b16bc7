// The control plane killed with SIGKILL mid-run and started again: its live local workers are adopted,
// no task runs twice, and no worker process is left that no instance owns. Both stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaClient } from '../../src/client/index.js';
import { createTestDb, DIALECTS } from '../support/stores.js';
import { startFlotilla, type FlotillaProcess } from '../support/flotilla-process.js';
import { waitFor } from '../support/wait.js';
import { applyApp, killLocalWorkers, localApp, localWorkerProcesses, status } from './helpers.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startServer(db: string, dataDir: string, port: number): Promise<FlotillaProcess> {
  const p = startFlotilla(['server', '--db', db, '--data-dir', dataDir, '--port', String(port), '--log-level', 'warn']);
  await waitFor('the control plane to answer', async () => {
    if (p.child.exitCode !== null) throw new Error(`server exited:\n${p.output()}`);
    return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok;
  }, 30_000, 100);
  return p;
}

for (const dialect of DIALECTS) {
  test(`${dialect}: SIGKILL of the control plane mid-run loses nothing and leaks no worker`, async () => {
    const db = await createTestDb(dialect);
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-restart-'));
    const marks = join(dir, 'marks');
    const app = `restart-${dialect}`;
    const port = await freePort();
    let server = await startServer(db.url, dir, port);
    try {
      const c = new FlotillaClient(`http://127.0.0.1:${port}`, readFileSync(join(dir, 'admin-token'), 'utf8').trim());
      await applyApp(c, localApp(app, 'jobs', { max: 3, idleS: 3 }));
      const ids: string[] = [];
      for (let i = 0; i < 6; i++)
        ids.push((await c.createTask({ queue: 'jobs', command: `sleep 2; echo $FLOTILLA_TASK_ID >> ${marks}` })).id);
      await waitFor('tasks to run', async () => (await c.listTasks({ status: 'running' })).length >= 2, 30_000, 50);

      server.child.kill('SIGKILL');
      await server.exited;
      assert.ok((await localWorkerProcesses(app)).length >= 2, 'workers outlive the killed control plane');
      server = await startServer(db.url, dir, port);

      await waitFor('every task to complete', async () =>
        (await Promise.all(ids.map((id) => c.getTask(id)))).every((t) => t.status === 'completed'), 90_000, 200)
        .catch(async (e) => {
          const tasks = await Promise.all(ids.map((id) => c.getTask(id)));
          throw new Error(`${e.message}\n${JSON.stringify(tasks.map((t) => [t.status, t.statusMessage, t.workerId]))}\n` +
            `${JSON.stringify(await status(c, app))}\n${server.output().slice(-3000)}`);
        });
      const ran = readFileSync(marks, 'utf8').trim().split('\n');
      assert.deepEqual([...ran].sort(), [...ids].sort(), 'each task ran exactly once');
      await waitFor('idle workers to stop', async () => (await status(c, app)).instances.length === 0, 30_000, 200);
      await waitFor('no worker process left', async () => (await localWorkerProcesses(app)).length === 0, 15_000, 100);
    } finally {
      await killLocalWorkers(app);
      await server.stop();
      await db.drop();
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  });
}
