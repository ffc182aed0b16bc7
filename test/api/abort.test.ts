// Abort as a user sees it: a running task is stopped by its agent and ends `aborted`; a queued one
// leaves its queue and never runs.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { killAgents, spawnAgent, type AgentProc } from '../support/agents.js';
import { Marks, isAlive } from '../support/marks.js';
import { waitFor } from '../support/wait.js';
import { ApiError } from '../../src/client/index.js';
import type { TaskStatus } from '../../src/domain/task.js';

describe('abort', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    let t: TestControlPlane;
    let marks: Marks;
    const group = new Set<AgentProc>();
    const spawn = (queues: string[]) => spawnAgent(t.cp.url, t.agentToken, queues, { group });
    const statusIs = (id: string, status: TaskStatus) => async () => {
      const x = await t.user.getTask(id);
      return x.status === status && x;
    };
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(() => t.stop());
    afterEach(async () => {
      await killAgents(group);
      marks.cleanup();
    });

    test('abort of a running task stops its process and ends it aborted; the agent goes on', async () => {
      marks = new Marks();
      await t.user.createQueue('run');
      const task = await t.user.createTask({ queue: 'run', command: `echo $$ > ${marks.path('s.pid')}; exec sleep 60` });
      const agent = spawn(['run']);
      const pid = await waitFor('the task running', () => marks.pid('s'), 30_000);
      assert.equal((await t.user.getTask(task.id)).status, 'running');

      const asked = await t.user.abortTask(task.id);
      assert.equal(asked.status, 'running');
      assert.equal(asked.abortRequested, true);
      const ended = await waitFor('the task aborted', statusIs(task.id, 'aborted'), 15_000);
      assert.equal(isAlive(pid), false, 'the task process is gone');
      assert.equal(ended.workerId, agent.workerId);
      const text = (await t.user.logs(task.id)).lines.map((l) => l.text).join('');
      assert.match(text, /abort requested/);
      await assert.rejects(t.user.abortTask(task.id), (e) => e instanceof ApiError && e.status === 409);

      const next = await t.user.createTask({ queue: 'run', command: 'echo next' });
      await waitFor('the agent runs the next task', statusIs(next.id, 'completed'), 15_000);
    });

    test('abort of a queued task removes it from its queue; it never runs', async () => {
      marks = new Marks();
      await t.user.createQueue('wait');
      const a = await t.user.createTask({ queue: 'wait', name: 'a', command: `echo a >> ${marks.path('ran')}` });
      const b = await t.user.createTask({ queue: 'wait', name: 'b', command: `echo b >> ${marks.path('ran')}` });
      const aborted = await t.user.abortTask(a.id);
      assert.equal(aborted.status, 'aborted');
      assert.deepEqual((await t.user.listTasks({ queue: 'wait', status: 'queued' })).map((x) => x.id), [b.id]);
      assert.equal((await t.user.listQueues()).find((q) => q.name === 'wait')?.queued, 1);

      spawn(['wait']);
      await waitFor('b completed', statusIs(b.id, 'completed'), 30_000);
      assert.deepEqual(marks.lines('ran'), ['b']);
      const final = await t.user.getTask(a.id);
      assert.deepEqual([final.status, final.attempts, final.workerId], ['aborted', 0, null]);
    });
  });
});
