// Leases with real agent processes: a killed agent's task comes back after its lease expires and another
// agent finishes it; the attempt limit fails it; a stale lease is refused; SIGTERM hands the task back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { AGENT_WAIT_MS, useControlPlane } from '../support/suite.js';
import { DIALECTS } from '../support/stores.js';
import { isAlive } from '../support/marks.js';
import { waitFor } from '../support/wait.js';
import { ApiError, FlotillaClient } from '../../src/client/index.js';

async function refused(call: Promise<unknown>, status: number) {
  await assert.rejects(call, (e) => e instanceof ApiError && e.status === status);
}

// The dialects run side by side (most of the time goes in waiting for leases to run out).
describe('leases', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    const s = useControlPlane(dialect, { leaseTtlS: 2 });

    test('an agent killed with SIGKILL mid-task: the task returns to the head of its queue and another agent finishes it', async () => {
      const { t, marks } = s;
      await t.user.createQueue('kill');
      const a = await t.user.createTask({ queue: 'kill', name: 'a', command: marks.sleepsFirstTime('a') });
      const b = await t.user.createTask({ queue: 'kill', name: 'b', command: 'echo b' });
      const first = s.spawn(['kill']);
      await waitFor('task a running on the first agent, its output shipped', async () =>
        marks.pid('a') && (await t.user.logs(a.id)).lines.length > 0, AGENT_WAIT_MS);
      first.kill('SIGKILL');
      await first.exited;

      const back = await waitFor('task a queued again after its lease expired', s.statusIs(a.id, 'queued'), AGENT_WAIT_MS);
      assert.equal(back.attempts, 1);
      assert.match(back.statusMessage ?? '', /lease expired.*back at the head of the queue/);
      assert.deepEqual((await t.user.listTasks({ queue: 'kill', status: 'queued' })).map((x) => x.id), [a.id, b.id]);

      const second = s.spawn(['kill']);
      const done = await waitFor('task a completed by the second agent', s.statusIs(a.id, 'completed'), AGENT_WAIT_MS);
      assert.equal(done.workerId, second.workerId);
      assert.equal(done.attempts, 2);
      const text = (await t.user.logs(a.id)).lines.map((l) => l.text).join('');
      assert.match(text, /first run\n[^]*second run\n/);
      const bDone = await waitFor('task b completed after a', s.statusIs(b.id, 'completed'), AGENT_WAIT_MS);
      assert.ok(bDone.startedAt! >= done.endedAt!, 'b started only after a, which was back at the head');
    });

    test('a task whose agents keep dying fails at the attempt limit, with the reason', async () => {
      const { t, marks } = s;
      await t.user.createQueue('limit');
      const cmd = `echo $$ > $(mktemp -p ${marks.dir} --suffix .pid); exec sleep 60`;
      const task = await t.user.createTask({ queue: 'limit', command: cmd, maxAttempts: 2 });
      for (let attempt = 1; attempt <= 2; attempt++) {
        const agent = s.spawn(['limit']);
        await waitFor(`attempt ${attempt} running`, () => marks.pids().length === attempt, AGENT_WAIT_MS);
        agent.kill('SIGKILL');
        await agent.exited;
        if (attempt === 1) await waitFor('task queued again', s.statusIs(task.id, 'queued'), AGENT_WAIT_MS);
      }
      const failed = await waitFor('task failed', s.statusIs(task.id, 'failed'), AGENT_WAIT_MS);
      assert.equal(failed.attempts, 2);
      assert.match(failed.statusMessage ?? '', /lease expired.*failed after 2 of 2 attempts/);
      assert.equal((await t.user.listTasks({ queue: 'limit', status: 'queued' })).length, 0);
    });

    test('a report with a stale lease is refused (409) and the task is not completed twice', async () => {
      const { t, marks } = s;
      await t.user.createQueue('stale');
      const task = await t.user.createTask({ queue: 'stale', command: 'true' });
      const agent = new FlotillaClient(t.cp.url, t.agentToken);
      await agent.register({ id: 'stale-1', queues: ['stale'] });
      const d1 = await agent.dequeue('stale-1', { queues: ['stale'], waitMs: 0 });
      assert.equal(d1?.task.id, task.id);
      // No heartbeats: the lease runs out and the task goes back to the queue.
      await waitFor('lease expired', s.statusIs(task.id, 'queued'), AGENT_WAIT_MS);
      await agent.register({ id: 'stale-2', queues: ['stale'] });
      const d2 = await agent.dequeue('stale-2', { queues: ['stale'], waitMs: 0 });
      assert.equal(d2?.task.id, task.id);
      assert.notEqual(d2!.lease.id, d1!.lease.id);

      await refused(agent.finish(task.id, d1!.lease.id, { status: 'completed', exitCode: 0 }), 409);
      await refused(agent.heartbeat(task.id, d1!.lease.id), 409);
      await refused(agent.appendLogs(task.id, d1!.lease.id, [{ stream: 'stdout', text: 'stale\n' }]), 409);
      await refused(agent.release(task.id, d1!.lease.id, 'stale'), 409);
      assert.equal((await t.user.getTask(task.id)).status, 'running');

      const done = await agent.finish(task.id, d2!.lease.id, { status: 'completed', exitCode: 0 });
      assert.equal(done.status, 'completed');
      await refused(agent.finish(task.id, d2!.lease.id, { status: 'failed', exitCode: 1 }), 409);
      const final = await t.user.getTask(task.id);
      assert.deepEqual([final.status, final.exitCode, final.attempts, final.workerId], ['completed', 0, 2, 'stale-2']);
      assert.equal((await t.user.logs(task.id)).lines.length, 0, 'the stale log lines were not kept');
    });

    test('the end of a task sent with the next dequeue completes it and takes the next; a stale or foreign one takes nothing', async () => {
      const { t } = s;
      await t.user.createQueue('chain');
      const tasks = await t.user.createTasks(['a', 'b', 'c'].map((name) => ({ queue: 'chain', name, command: 'true' })));
      const agent = new FlotillaClient(t.cp.url, t.agentToken);
      await agent.register({ id: 'chain-1', queues: ['chain'] });
      await agent.register({ id: 'chain-2', queues: ['chain'] });
      const d1 = await agent.dequeue('chain-1', { waitMs: 0 });
      const d2 = await agent.dequeue('chain-1', {
        waitMs: 0, finished: { taskId: d1!.task.id, leaseId: d1!.lease.id, status: 'failed', exitCode: 3, message: 'exit code 3' } });
      assert.deepEqual([d1!.task.id, d2!.task.id], [tasks[0].id, tasks[1].id]);
      const ended = await t.user.getTask(tasks[0].id);
      assert.deepEqual([ended.status, ended.exitCode, ended.statusMessage], ['failed', 3, 'exit code 3']);

      // The same report again (a retry whose answer was lost), or one for a task another worker holds: 409, nothing taken.
      await refused(agent.dequeue('chain-1', { waitMs: 0, finished: { taskId: d1!.task.id, leaseId: d1!.lease.id, status: 'completed', exitCode: 0 } }), 409);
      await refused(agent.dequeue('chain-2', { waitMs: 0, finished: { taskId: d2!.task.id, leaseId: d2!.lease.id, status: 'completed', exitCode: 0 } }), 409);
      assert.equal((await t.user.getTask(tasks[2].id)).status, 'queued');
      assert.equal((await t.user.getTask(tasks[1].id)).status, 'running');
      assert.equal((await t.user.getTask(tasks[0].id)).status, 'failed');

      // The last task's end with a dequeue on an empty queue: recorded at once, then the long poll answers 204.
      const d3 = await agent.dequeue('chain-1', { waitMs: 0, finished: { taskId: d2!.task.id, leaseId: d2!.lease.id, status: 'completed', exitCode: 0 } });
      assert.equal(d3!.task.id, tasks[2].id);
      const none = await agent.dequeue('chain-1', { waitMs: 50, finished: { taskId: d3!.task.id, leaseId: d3!.lease.id, status: 'completed', exitCode: 0 } });
      assert.equal(none, undefined);
      assert.deepEqual((await t.user.listTasks({ queue: 'chain' })).map((x) => x.status).sort(), ['completed', 'completed', 'failed']);
      const worker = (await t.user.listWorkers()).find((w) => w.id === 'chain-1');
      assert.equal(worker?.currentTask ?? null, null, 'the worker holds nothing after its last report');
    });

    test('an agent paused past its lease cannot complete the task another agent finished', async () => {
      const { t, marks } = s;
      await t.user.createQueue('paused');
      const go = marks.path('go');
      const cmd = `echo $$ > $(mktemp -p ${marks.dir} --suffix .pid); while [ ! -f ${go} ] && [ -d ${marks.dir} ]; do sleep 0.05; done; echo finished`;
      const task = await t.user.createTask({ queue: 'paused', command: cmd });
      const first = s.spawn(['paused']);
      await waitFor('first run started', () => marks.pids().length === 1, AGENT_WAIT_MS);
      first.kill('SIGSTOP');
      await waitFor('task queued again', s.statusIs(task.id, 'queued'), AGENT_WAIT_MS);
      const second = s.spawn(['paused']);
      await waitFor('second run started', () => marks.pids().length === 2, AGENT_WAIT_MS);
      writeFileSync(go, '');
      const done = await waitFor('completed by the second agent', s.statusIs(task.id, 'completed'), AGENT_WAIT_MS);
      assert.equal(done.workerId, second.workerId);
      first.kill('SIGCONT');
      await waitFor('the first agent saw its lease was gone', () => /lease lost|no longer valid/.test(first.output()), AGENT_WAIT_MS);
      const final = await t.user.getTask(task.id);
      assert.deepEqual([final.status, final.workerId, final.endedAt], ['completed', second.workerId, done.endedAt]);
      assert.equal(first.proc.exitCode, null, 'the first agent goes on running');
    });

    test('SIGTERM to an agent hands its task back to the queue, not completed', async () => {
      const { t, marks } = s;
      await t.user.createQueue('term');
      const task = await t.user.createTask({ queue: 'term', command: marks.sleepsFirstTime('s') });
      const agent = s.spawn(['term']);
      const pid = await waitFor('task running', () => marks.pid('s'), AGENT_WAIT_MS);
      agent.kill('SIGTERM');
      assert.deepEqual(await agent.exited, { code: 0, signal: null });
      const back = await t.user.getTask(task.id);
      assert.equal(back.status, 'queued');
      assert.equal(back.attempts, 0, 'a handed-back attempt is not counted');
      assert.match(back.statusMessage ?? '', /stopped/);
      assert.equal(isAlive(pid), false, 'the task process was stopped');
      const workers = await t.user.listWorkers(true);
      assert.equal(workers.find((w) => w.id === agent.workerId)?.status, 'stopped');
    });

    test('SIGTERM while the control plane is down: the agent still exits, and the task returns after its lease', async () => {
      const { t, marks } = s;
      await t.user.createQueue('down');
      const task = await t.user.createTask({ queue: 'down', command: marks.sleepsFirstTime('d') });
      const agent = s.spawn(['down']);
      const pid = await waitFor('task running', () => marks.pid('d'), AGENT_WAIT_MS);
      await t.restart(async () => {
        agent.kill('SIGTERM');
        assert.deepEqual(await agent.exited, { code: 0, signal: null });
      });
      assert.equal(isAlive(pid), false, 'the task process was stopped');
      assert.match(agent.output(), /could not hand it back/);
      const back = await waitFor('task queued again after its lease expired', s.statusIs(task.id, 'queued'), AGENT_WAIT_MS);
      assert.match(back.statusMessage ?? '', /lease expired/);
    });
  });
});
