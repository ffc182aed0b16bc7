// Queue order as a user sees it through real agent processes: FIFO within a priority, higher priority
// first, the first non-empty of an agent's queues first, and a long poll that wakes an idle agent.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestControlPlane } from '../support/control-plane.js';
import { AGENT_WAIT_MS, useControlPlane } from '../support/suite.js';
import { DIALECTS } from '../support/stores.js';
import type { Marks } from '../support/marks.js';
import { waitFor } from '../support/wait.js';

/** Each task appends its name to the marker file `order`, so the file shows the order they ran in. */
const marking = (marks: Marks, name: string) => `echo ${name} >> ${marks.path('order')}`;

async function allEnded(t: TestControlPlane, ids: string[]) {
  const tasks = await Promise.all(ids.map((id) => t.user.getTask(id)));
  return tasks.every((x) => x.status === 'completed') && tasks;
}

// The dialects run side by side; each has one control plane and a queue per test.
describe('queue order', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    const s = useControlPlane(dialect);

    test('FIFO within a priority, higher priority first', async () => {
      const { t, marks } = s;
      await t.user.createQueue('prio');
      const plan = [['a', 0], ['b', 0], ['c', 5], ['d', 0], ['e', 5], ['f', -3], ['g', 5]] as const;
      const ids: string[] = [];
      for (const [name, priority] of plan)
        ids.push((await t.user.createTask({ queue: 'prio', name, priority, command: marking(marks, name) })).id);
      const queued = await t.user.listTasks({ queue: 'prio', status: 'queued' });
      assert.deepEqual(queued.map((x) => x.name), ['c', 'e', 'g', 'a', 'b', 'd', 'f']);
      s.spawn(['prio']);
      await waitFor('all tasks completed', () => allEnded(t, ids), AGENT_WAIT_MS);
      assert.deepEqual(marks.lines('order'), ['c', 'e', 'g', 'a', 'b', 'd', 'f']);
    });

    test('an agent on q1,q2 takes from q1 first, whatever the priorities', async () => {
      const { t, marks } = s;
      await t.user.createQueue('q1');
      await t.user.createQueue('q2');
      const ids: string[] = [];
      // q2's tasks are older and of higher priority: queue order still wins.
      for (const [queue, name, priority] of [['q2', 'x1', 100], ['q2', 'x2', 0], ['q1', 'y1', 0], ['q1', 'y2', -5]] as const)
        ids.push((await t.user.createTask({ queue, name, priority, command: marking(marks, name) })).id);
      s.spawn(['q1', 'q2']);
      await waitFor('all tasks completed', () => allEnded(t, ids), AGENT_WAIT_MS);
      assert.deepEqual(marks.lines('order'), ['y1', 'y2', 'x1', 'x2']);
    });

    test("an idle agent's long poll wakes when a task is enqueued, well before its deadline", async () => {
      const { t, marks } = s;
      await t.user.createQueue('wake');
      // Watch the server's dequeue: once this worker's poll has found nothing, it is waiting.
      const agent = s.spawn(['wake']);
      const tasks = t.cp.store.tasks;
      const original = tasks.dequeue;
      let emptyPollAt = 0;
      tasks.dequeue = async (workerId, queues, ttl, now) => {
        const got = await original.call(tasks, workerId, queues, ttl, now);
        if (!got && workerId === agent.workerId && !emptyPollAt) emptyPollAt = Date.now();
        return got;
      };
      try {
        await waitFor('the agent waiting in a dequeue long poll', () => emptyPollAt, AGENT_WAIT_MS);
        const task = await t.user.createTask({ queue: 'wake', command: 'echo woke' });
        const done = await waitFor('the task completed', async () => {
          const x = await t.user.getTask(task.id);
          return x.status === 'completed' && x;
        }, AGENT_WAIT_MS);
        assert.equal(done.workerId, agent.workerId);
        // The agent asks for 20 s polls: a polling agent would start the task near the end of that wait.
        const waited = done.startedAt! - emptyPollAt;
        assert.ok(waited < 10_000, `the task started ${waited} ms after the poll began waiting`);
        assert.equal((await t.user.logs(task.id)).lines.map((l) => l.text).join(''), 'woke\n');
      } finally {
        tasks.dequeue = original;
      }
    });
  });
});
