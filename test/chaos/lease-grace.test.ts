// Found by the kill -9 soak: a control plane down for longer than a lease TTL expired every running lease at
// its first sweep after the restart, so a task whose work was done (its finish report waiting for the control
// plane) was handed to a second agent and its side effect ran twice. Now the sweeper waits one TTL after it
// starts, and the first agent's heartbeat renews its lease. Both stores.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { killAgents, spawnAgent } from '../support/agents.js';
import { Marks } from '../support/marks.js';
import { waitFor } from '../support/wait.js';

afterEach(() => killAgents());

for (const dialect of DIALECTS) {
  test(`${dialect}: a control plane down longer than a lease TTL hands no running task to another agent`, async () => {
    const t = await startTestControlPlane(dialect, { leaseTtlS: 2 });
    const marks = new Marks();
    try {
      await t.user.createQueue('jobs');
      spawnAgent(t.cp.url, t.agentToken, ['jobs']);
      const task = await t.user.createTask({ queue: 'jobs', command: `echo $FLOTILLA_TASK_ID >> ${marks.path('ran')}; sleep 1` });
      await waitFor('the task to run', () => marks.lines('ran').length === 1, 60_000, 50);
      // Down for twice the TTL while the task ends: its finish report waits for the control plane.
      await t.restart(async () => {
        await new Promise((r) => setTimeout(r, 4_000));
        spawnAgent(t.cp.url, t.agentToken, ['jobs']);
      });
      const done = await waitFor('the task to end', async () => {
        const x = await t.user.getTask(task.id);
        return x.status === 'completed' && x;
      }, 60_000, 100);
      assert.equal(done.attempts, 1, 'the task was not handed out again');
      assert.deepEqual(marks.lines('ran'), [task.id], 'its side effect ran once');
    } finally {
      marks.cleanup();
      await t.stop();
    }
  });
}
