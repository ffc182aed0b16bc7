// The main job on the local provider: tasks wait, workers start (never past the max), the tasks
// finish, idle workers stop, and no worker process is left behind. Both stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import { applyApp, decisions, killLocalWorkers, localApp, localWorkerProcesses, status } from './helpers.js';

for (const dialect of DIALECTS) {
  test(`${dialect}: 6 tasks on 4 local workers, then the workers stop after the idle timeout`, async () => {
    const t = await startTestControlPlane(dialect);
    const app = `local-${dialect}`;
    try {
      await applyApp(t.user, localApp(app, 'work', { max: 4, idleS: 2 }));
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await t.user.createTask({ queue: 'work', command: 'sleep 1.5; echo done' })).id);
      let peak = 0;
      await waitFor('all six tasks to complete', async () => {
        const s = await status(t.user, app);
        peak = Math.max(peak, s.instances.length);
        const tasks = await Promise.all(ids.map((id) => t.user.getTask(id)));
        return tasks.every((x) => x.status === 'completed');
      }, 60_000, 100);
      assert.equal(peak, 4, 'four workers at the peak, never more');
      await waitFor('idle workers to stop', async () => (await status(t.user, app)).instances.length === 0, 30_000, 200);
      await waitFor('worker processes to exit', async () => (await localWorkerProcesses(app)).length === 0, 15_000);
      const left = (await t.cp.store.tokens.list()).filter((k) => k.name.startsWith('instance '));
      assert.deepEqual(left, [], 'the stopped workers\' tokens are revoked');
      const kinds = (await decisions(t.user, app)).map((d) => d.kind);
      assert.equal(kinds.filter((k) => k === 'launch').length, 4);
      assert.equal(kinds.filter((k) => k === 'terminate').length, 4);
    } finally {
      await killLocalWorkers(app);
      await t.stop();
    }
  });
}

test('sqlite: the $/h cap holds under a burst and the refusal says why', async () => {
  const t = await startTestControlPlane('sqlite');
  const app = 'capped';
  try {
    // $1/h each, cap $2.5/h: at most two at once although the resource allows ten.
    await applyApp(t.user, localApp(app, 'burst', { max: 10, idleS: 1, price: 1, cap: 2.5 }));
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await t.user.createTask({ queue: 'burst', command: 'sleep 0.5' })).id);
    let peak = 0;
    await waitFor('the burst to finish', async () => {
      const s = await status(t.user, app);
      peak = Math.max(peak, s.instances.filter((i) => i.state !== 'terminating').length);
      assert.ok(s.spendRatePerHour <= 2.5, `spend rate ${s.spendRatePerHour} over the cap`);
      return (await Promise.all(ids.map((id) => t.user.getTask(id)))).every((x) => x.status === 'completed');
    }, 90_000, 50);
    assert.equal(peak, 2);
    const refusals = (await decisions(t.user, app)).filter((d) => d.kind === 'refuse');
    assert.ok(refusals.some((d) => /\$\/h cap: 2 × \$1\.00 running = \$2\.00 of \$2\.50/.test(d.reason)), JSON.stringify(refusals));
  } finally {
    await killLocalWorkers(app);
    await t.stop();
  }
});
