// Two control-plane replicas on one PostgreSQL database behind a TCP front (as a load balancer): the leader,
// which runs the controllers, is killed with SIGKILL while its local autoscaler launches workers for a burst.
// The other replica must take the controllers within 15 s (measured, printed), launch nothing twice (every
// worker process the provider lists carries a record of its own, and each record launched one process), and
// every task must complete exactly once. Extends test/api/replicas.test.ts (wake-ups across replicas).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDb } from '../support/stores.js';
import { Marks } from '../support/marks.js';
import { waitFor } from '../support/wait.js';
import { LocalProvider } from '../../src/autoscaler/providers/local/index.js';
import { applyApp, decisions, killLocalWorkers, localApp, status } from '../autoscaler/helpers.js';
import { CpProcess, freePort } from './cp-process.js';
import { startFront } from './front.js';
import { counts } from './soak.js';
import { report } from './report.js';

const TASKS = 12;
const leading = (cp: CpProcess) => /leading: starting controllers/.test(cp.output());

test('postgres: the leader killed mid-burst, the other replica takes over within 15 s; no double launch, nothing lost', async () => {
  const db = await createTestDb('postgres');
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-failover-'));
  const marks = new Marks();
  const app = `failover-${process.pid}`;
  const ports = [await freePort(), await freePort()];
  const front = await startFront(() => ports);
  // One data dir for both (its secret key and admin token), as replicas share them; workers reach the front.
  const [a, b] = ports.map((p) => new CpProcess(db.url, dir, p, {}, ['--public-url', front.url]));
  const provider = new LocalProvider({ logDir: join(dir, 'probe-logs') });
  const seen = new Map<string, string>(); // pid → its record (flotilla-instance tag)
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const i of await provider.list(app)) seen.set(i.providerId, i.clientToken ?? '?');
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    await a.start();
    await waitFor('replica a to lead', () => leading(a), 30_000, 50);
    await b.start();
    const admin = a.admin();
    await applyApp(admin, localApp(app, 'jobs', { max: 3, idleS: 3 }));
    const ids = await Promise.all(Array.from({ length: TASKS }, () =>
      admin.createTask({ queue: 'jobs', command: `sleep 1; echo $FLOTILLA_TASK_ID >> ${marks.path('ran')}` }).then((x) => x.id)));
    await waitFor('the leader to launch', async () => (await decisions(admin, app)).some((d) => d.kind === 'launch'), 60_000, 50);
    const killedAt = Date.now();
    await a.kill9();
    await waitFor('replica b to lead', () => leading(b), 60_000, 50);
    const takeoverS = (Date.now() - killedAt) / 1000;
    const c = b.admin();
    await waitFor('every task to complete', async () =>
      (await Promise.all(ids.map((id) => c.getTask(id)))).every((x) => x.status === 'completed'), 180_000, 250);
    const launches = (await decisions(c, app)).filter((d) => d.kind === 'launch').length;
    const perRecord = counts([...seen.values()]);
    const doubles = [...perRecord].filter(([, n]) => n > 1);
    const ran = marks.lines('ran');
    report({ part: 'replica failover (postgres)', kills: 1,
      notes: `takeover in ${takeoverS.toFixed(1)} s; ${launches} launch decisions, ${seen.size} worker processes seen; ${TASKS} tasks`,
      zeros: { doubleLaunch: doubles.length, lost: TASKS - new Set(ran).size, twice: ran.length - new Set(ran).size } });
    assert.ok(takeoverS <= 15, `the other replica took the controllers after ${takeoverS} s`);
    assert.deepEqual(doubles, [], 'a record launched more than one worker process');
    assert.ok(seen.size <= launches, `${seen.size} worker processes for ${launches} launch decisions`);
    assert.deepEqual([...ran].sort(), [...ids].sort(), 'every task ran, once');
    const { instances } = await status(c, app);
    for (const i of instances) assert.ok(i.providerId && seen.has(i.providerId), `record ${i.id} owns a process the provider listed`);
  } finally {
    watching = false;
    await watcher;
    await a.stop();
    await b.stop();
    await killLocalWorkers(app);
    await front.close();
    marks.cleanup();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
