// The control plane restarts (twice) while agents run tasks: agents ride it out and nothing is lost;
// every task completes exactly once. On a SQLite file and on PostgreSQL.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { killAgents, spawnAgent } from '../support/agents.js';
import { Marks } from '../support/marks.js';
import { waitFor } from '../support/wait.js';
import { assertRanOnce, enqueueMany, tasksOf, unfinished } from '../support/drain.js';

const TASKS = 120;
const AGENTS = 4;

afterEach(() => killAgents());

for (const dialect of DIALECTS) {
  test(`${dialect}: a control plane restarted mid-run loses nothing; every task completes once`, async () => {
    // A short lease bounds the wait should a dequeue's answer be lost in a restart.
    const t = await startTestControlPlane(dialect, { leaseTtlS: 5 });
    const marks = new Marks();
    try {
      await t.user.createQueue('jobs');
      const ids = await enqueueMany(t, 'jobs', TASKS, `sleep 0.02; echo $FLOTILLA_TASK_ID >> ${marks.path('ran')}`);
      for (let i = 0; i < AGENTS; i++) spawnAgent(t.cp.url, t.agentToken, ['jobs']);
      let runningAtRestart = 0;
      for (const share of [0.25, 0.6]) {
        await waitFor(`${share * 100}% of the tasks ended`, async () =>
          (await unfinished(t, 'jobs')) <= TASKS * (1 - share), 120_000, 100);
        runningAtRestart += (await t.cp.store.tasks.list({ queue: 'jobs', status: 'running' })).length;
        await t.restart();
      }
      assert.ok(runningAtRestart > 0, 'the restarts came while tasks were running');
      await waitFor('every task ended', async () => (await unfinished(t, 'jobs')) === 0, 180_000, 250);
      assertRanOnce(await tasksOf(t, 'jobs'), ids, marks.lines('ran'));
      const workers = await t.user.listWorkers();
      assert.equal(workers.length, AGENTS, 'the agents are still registered after the restarts');
    } finally {
      await killAgents();
      marks.cleanup();
      await t.stop();
    }
  });
}
