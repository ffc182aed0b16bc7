// Eight real agent processes drain 1,000 tasks: every task runs exactly once. Proven twice: by the store
// (each task completed at its first attempt) and by the tasks themselves (each appends its id to a file).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { killAgents, spawnAgent } from '../support/agents.js';
import { Marks } from '../support/marks.js';
import { waitFor } from '../support/wait.js';
import { assertRanOnce, enqueueMany, tasksOf, unfinished } from '../support/drain.js';

// 1,000 in npm test; FLOTILLA_DRAIN_TASKS=2000 (or more) for the long form. The chaos soak also counts runs.
const TASKS = Number(process.env.FLOTILLA_DRAIN_TASKS ?? 1000);
const AGENTS = 8;

afterEach(() => killAgents());

for (const dialect of DIALECTS) {
  test(`${dialect}: ${AGENTS} agents drain ${TASKS} tasks, each run exactly once`, async () => {
    const t = await startTestControlPlane(dialect);
    const marks = new Marks();
    try {
      await t.user.createQueue('drain');
      const ids = await enqueueMany(t, 'drain', TASKS, `echo $FLOTILLA_TASK_ID >> ${marks.path('ran')}`);
      for (let i = 0; i < AGENTS; i++) spawnAgent(t.cp.url, t.agentToken, ['drain']);
      // Each task is a process spawn (tens of ms of CPU on a loaded 2-core machine): allow minutes.
      await waitFor('every task ended', async () => (await unfinished(t, 'drain')) === 0, 300_000, 250);
      const rows = await tasksOf(t, 'drain');
      assertRanOnce(rows, ids, marks.lines('ran'));
      const workers = new Set(rows.map((r) => r.worker_id));
      assert.ok(workers.size > 1, `the work was shared (${workers.size} agents took tasks)`);
    } finally {
      await killAgents();
      marks.cleanup();
      await t.stop();
    }
  });
}
