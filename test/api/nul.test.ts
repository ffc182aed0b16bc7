// U+0000 (issue 13, defect 1). PostgreSQL cannot keep it in text, SQLite can: input that holds it is refused
// with a 400 naming the field, the same on both stores, and nothing is written; a task's output may hold it,
// and its log keeps every line exactly (a real agent's task that prints one ends, with its whole log).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_WAIT_MS, useControlPlane } from '../support/suite.js';
import { DIALECTS } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import { ApiError, FlotillaClient } from '../../src/client/index.js';

const NUL = '\0';

describe('NUL bytes', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    const s = useControlPlane(dialect);
    let agent: FlotillaClient;
    const workerId = `w-nul-${dialect}`;
    before(async () => {
      await s.t.user.createQueue('q');
      await s.t.user.createQueue('leases');
      agent = new FlotillaClient(s.t.cp.url, s.t.agentToken);
      await agent.register({ id: workerId, queues: ['leases'] });
    });

    /** A running task of the test's own worker, and its lease. */
    async function leased() {
      const task = await s.t.user.createTask({ queue: 'leases', command: 'true' });
      const d = await agent.dequeue(workerId, { queues: ['leases'], waitMs: 0 });
      assert.ok(d, 'the task was taken');
      assert.equal(d.task.id, task.id);
      return { taskId: task.id, leaseId: d.lease.id };
    }

    async function refused(what: string, call: () => Promise<unknown>, field: string | RegExp) {
      const err = await call().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof ApiError, `${what}: an API error (got ${err === undefined ? 'success' : String(err)})`);
      assert.equal(err.status, 400, `${what}: 400, not ${err.status} (${err.message})`);
      const fields = (err.issues ?? []).map((i) => i.field);
      assert.ok(fields.some((f) => (typeof field === 'string' ? f === field : field.test(f))),
        `${what}: the issues name ${field} (they name ${fields.join(', ')})`);
    }

    test('input holding U+0000 is refused with a 400 that names the field, and nothing is written', async () => {
      const { user, admin } = s.t;
      const tasksBefore = (await user.listTasks({ limit: 1000 })).length;
      const cases: [string, () => Promise<unknown>, string | RegExp][] = [
        ['task command', () => user.createTask({ queue: 'q', command: `echo a${NUL}b` }), 'body.command'],
        ['task name', () => user.createTask({ queue: 'q', command: 'true', name: `n${NUL}` }), 'body.name'],
        ['env key', () => user.createTask({ queue: 'q', command: 'true', env: { [`A${NUL}B`]: 'x' } }), /^body\.env/],
        ['env value', () => user.createTask({ queue: 'q', command: 'true', env: { A: `x${NUL}` } }), 'body.env.A'],
        ['container env value', () => user.createTask({ queue: 'q', command: 'true', container: { env: { A: NUL } } }), 'body.container.env.A'],
        ['task queue', () => user.createTask({ queue: `q${NUL}`, command: 'true' }), 'body.queue'],
        ['batch task command', () => user.createTasks([{ queue: 'q', command: 'true' }, { queue: 'q', command: NUL }]), 'body.tasks.1.command'],
        ['queue name', () => user.createQueue(`n${NUL}`), 'body.name'],
        ['token name', () => admin.createToken(`t${NUL}`, 'user'), 'body.name'],
        ['task id in the path', () => user.getTask(NUL), 'params.id'],
        ['queue in the query', () => user.listTasks({ queue: `q${NUL}` }), 'query.queue'],
      ];
      for (const [what, call, field] of cases) await refused(what, call, field);
      assert.equal((await user.listTasks({ limit: 1000 })).length, tasksBefore, 'no task was created');
      assert.deepEqual((await user.listQueues()).map((q) => q.name).sort(), ['leases', 'q']);
      assert.ok((await admin.listTokens()).every((t) => !t.name.includes(NUL)), 'no token was created');
    });

    test('a finish message or a release reason holding U+0000 is refused; the task is as it was', async () => {
      const { taskId, leaseId } = await leased();
      await refused('finish message', () => agent.finish(taskId, leaseId, { status: 'failed', exitCode: 1, message: `bad${NUL}` }), 'body.message');
      await refused('finish reported with a dequeue', () => agent.dequeue(workerId, { queues: ['leases'], waitMs: 0,
        finished: { taskId, leaseId, status: 'failed', exitCode: 1, message: NUL } }), 'body.finished.message');
      await refused('release reason', () => agent.release(taskId, leaseId, `stop${NUL}`), 'body.reason');
      await refused('lease id', () => agent.heartbeat(taskId, `${leaseId}${NUL}`), 'body.leaseId');
      const t = await s.t.user.getTask(taskId);
      assert.equal(t.status, 'running');
      assert.equal(t.statusMessage, null);
      assert.equal(t.attempts, 1);
      await agent.finish(taskId, leaseId, { status: 'completed', exitCode: 0 });
      assert.equal((await s.t.user.getTask(taskId)).status, 'completed');
    });

    test('log lines keep U+0000 (and text that looks escaped) byte for byte, with the lines around them', async () => {
      const { taskId, leaseId } = await leased();
      const lines = [
        'before\n', `a${NUL}b\n`, NUL, `${NUL}${NUL}\n`, 'literal \\0 and \\u0000 and "\\u0000"\n',
        '\uFFFF"\\u0000"', '\uFFFF', '\uFFFFplain\n', `\uFFFF"${NUL}"`, 'héllo ✓ 😀\n', 'after\n',
      ];
      const sent = lines.map((text, i) => ({ stream: i % 2 ? 'stderr' : 'stdout', text }));
      assert.deepEqual(await agent.appendLogs(taskId, leaseId, sent.slice(0, 3)), { accepted: 3 });
      assert.deepEqual(await agent.appendLogs(taskId, leaseId, sent.slice(3)), { accepted: lines.length - 3 });
      const page = await s.t.user.logs(taskId);
      assert.deepEqual(page.lines.map((l) => ({ stream: l.stream, text: l.text })), sent);
      for (const [i, l] of page.lines.entries())
        assert.ok(Buffer.from(l.text).equals(Buffer.from(lines[i])), `line ${i + 1} reads back byte for byte`);
      // Paging starts after any line, escaped or not.
      assert.deepEqual((await s.t.user.logs(taskId, 2, { limit: 2 })).lines.map((l) => l.text), lines.slice(2, 4));
      await agent.finish(taskId, leaseId, { status: 'completed', exitCode: 0 });
    });

    test('a task that prints U+0000 through a real agent completes, and its log has every line', async () => {
      await s.t.user.createQueue('agent');
      s.spawn(['agent']);
      const task = await s.t.user.createTask({ queue: 'agent', command: "printf 'before\\n'; printf 'a\\000b\\n'; printf '\\000'; printf 'after\\n'" });
      const done = await waitFor('task ended', async () => {
        const t = await s.t.user.getTask(task.id);
        return !['queued', 'scheduled', 'running'].includes(t.status) && t;
      }, AGENT_WAIT_MS);
      assert.equal(done.status, 'completed', `task ${done.status} (${done.statusMessage})`);
      assert.equal(done.attempts, 1);
      const out = (await s.t.user.logs(task.id)).lines.filter((l) => l.stream === 'stdout').map((l) => l.text).join('');
      assert.equal(out, `before\na${NUL}b\n${NUL}after\n`);
    });
  });
});
