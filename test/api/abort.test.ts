// Abort as a user sees it: a running task is stopped by its agent and ends `aborted`; a queued one
// leaves its queue and never runs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_WAIT_MS, useControlPlane } from '../support/suite.js';
import { DIALECTS } from '../support/stores.js';
import { isAlive } from '../support/marks.js';
import { waitFor } from '../support/wait.js';
import { ApiError } from '../../src/client/index.js';

describe('abort', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    const s = useControlPlane(dialect);

    test('abort of a running task stops its process and ends it aborted; the agent goes on', async () => {
      const { t, marks } = s;
      await t.user.createQueue('run');
      const task = await t.user.createTask({ queue: 'run', command: `echo $$ > ${marks.path('s.pid')}; exec sleep 60` });
      const agent = s.spawn(['run']);
      const pid = await waitFor('the task running', () => marks.pid('s'), AGENT_WAIT_MS);
      assert.equal((await t.user.getTask(task.id)).status, 'running');

      const asked = await t.user.abortTask(task.id);
      assert.equal(asked.status, 'running');
      assert.equal(asked.abortRequested, true);
      const ended = await waitFor('the task aborted', s.statusIs(task.id, 'aborted'), AGENT_WAIT_MS);
      assert.equal(isAlive(pid), false, 'the task process is gone');
      assert.equal(ended.workerId, agent.workerId);
      const text = (await t.user.logs(task.id)).lines.map((l) => l.text).join('');
      assert.match(text, /abort requested/);
      await assert.rejects(t.user.abortTask(task.id), (e) => e instanceof ApiError && e.status === 409);

      const next = await t.user.createTask({ queue: 'run', command: 'echo next' });
      await waitFor('the agent runs the next task', s.statusIs(next.id, 'completed'), AGENT_WAIT_MS);
    });

    test('an abort reaches the running task at once (the agent long-polls for it), not at the next heartbeat', async () => {
      const { t, marks } = s;
      await t.user.createQueue('fast');
      // The shell records when SIGTERM came (ms since the epoch), then ends.
      const task = await t.user.createTask({ queue: 'fast',
        command: `trap 'date +%s%3N > ${marks.path('term')}; exit 0' TERM; echo $$ > ${marks.path('f.pid')}; sleep 60 & wait` });
      s.spawn(['fast']);
      await waitFor('the task running', () => marks.pid('f'), AGENT_WAIT_MS);
      // The agent's wait-abort poll is open once the task runs; give it a moment to be sent.
      await new Promise((r) => setTimeout(r, 300));
      const asked = Date.now();
      await t.user.abortTask(task.id);
      const got = Number((await waitFor('SIGTERM in the task', () => marks.lines('term')[0], AGENT_WAIT_MS)));
      const ms = got - asked;
      console.log(`# ${dialect}: abort → SIGTERM in the task's process: ${ms} ms`);
      // Heartbeats come every 5 s here (a 30 s lease): the abort must not have waited for one.
      assert.ok(ms < 5_000, `abort → SIGTERM took ${ms} ms`);
      await waitFor('the task aborted', s.statusIs(task.id, 'aborted'), AGENT_WAIT_MS);
    });

    test('abort of a queued task removes it from its queue; it never runs', async () => {
      const { t, marks } = s;
      await t.user.createQueue('wait');
      const a = await t.user.createTask({ queue: 'wait', name: 'a', command: `echo a >> ${marks.path('ran')}` });
      const b = await t.user.createTask({ queue: 'wait', name: 'b', command: `echo b >> ${marks.path('ran')}` });
      const aborted = await t.user.abortTask(a.id);
      assert.equal(aborted.status, 'aborted');
      assert.deepEqual((await t.user.listTasks({ queue: 'wait', status: 'queued' })).map((x) => x.id), [b.id]);
      assert.equal((await t.user.listQueues()).find((q) => q.name === 'wait')?.queued, 1);

      s.spawn(['wait']);
      await waitFor('b completed', s.statusIs(b.id, 'completed'), AGENT_WAIT_MS);
      assert.deepEqual(marks.lines('ran'), ['b']);
      const final = await t.user.getTask(a.id);
      assert.deepEqual([final.status, final.attempts, final.workerId], ['aborted', 0, null]);
    });
  });
});
