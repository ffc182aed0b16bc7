// The real, unmodified clearml-agent 1.9.2 runs Flotilla's tasks through the ClearML API under /clearml: a task is
// taken, runs, its output is in `flotilla task logs`, and it ends completed (exit 0) or failed (its exit code);
// `flotilla task abort` stops a running one; a kill -9 of the agent requeues its task when the lease runs out;
// `flotilla worker list` shows the agents; two agents sharing one key pair on one host each hold what they run;
// --standalone-mode runs a task the same way.
// The agents run side by side (each waits up to 5 s between polls by its own design).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { runFlotilla } from '../support/flotilla-process.js';
import { waitFor } from '../support/wait.js';
import { clearmlAgentMissing, startClearmlAgent, type ClearmlAgentProc } from '../support/clearml-agent.js';
import type { Task } from '../../src/domain/task.js';

const missing = clearmlAgentMissing();
const LEASE_S = 10; // above the agent's 5 s status checks, which keep the lease alive
let t: TestControlPlane;
const agents: ClearmlAgentProc[] = [];

const cli = (...args: string[]) => runFlotilla(['--server', t.cp.url, ...args], { FLOTILLA_TOKEN: t.cp.adminToken! });

async function keyPair(name: string) {
  const out = await cli('token', 'create', '--name', name, '--role', 'agent', '--clearml', '--json');
  return JSON.parse(out.slice(out.indexOf('{'))) as { accessKey: string; secretKey: string };
}

async function agentOn(queue: string, workerId: string, keys?: { accessKey: string; secretKey: string }, args: string[] = []) {
  const k = keys ?? await keyPair(`clearml-${workerId}`);
  const a = startClearmlAgent({ apiServer: `${t.cp.url}/clearml`, ...k, queues: [queue], workerId, args });
  agents.push(a);
  return { agent: a, keys: k };
}

const ended = (id: string, ms = 90_000) => waitFor(`task ${id} to end`, async () => {
  const task = await t.admin.getTask(id);
  return ['completed', 'failed', 'aborted'].includes(task.status) ? task : undefined;
}, ms, 200);

async function logsOf(id: string) {
  return cli('task', 'logs', id);
}

async function runningWithOutput(id: string, text: string) {
  await waitFor(`task ${id} to print "${text}"`, async () => (await t.admin.getTask(id)).status === 'running'
    && (await t.admin.logs(id)).lines.some((l: { text: string }) => l.text.includes(text)), 60_000, 200);
}

before(async () => {
  if (missing) return;
  t = await startTestControlPlane('postgres', { leaseTtlS: LEASE_S });
  for (const q of ['cm-ok', 'cm-fail', 'cm-abort', 'cm-kill', 'cm-shared', 'cm-standalone']) await t.admin.createQueue(q);
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop(1_000)));
  await t?.stop();
});

describe('the real clearml-agent against Flotilla', { concurrency: true }, () => {
test('a task is taken, runs, its output is in flotilla task logs, it ends completed with exit code 0', { skip: missing }, async () => {
  const { agent, keys } = await agentOn('cm-ok', 'clearml-ok');
  const task = await t.user.createTask({ queue: 'cm-ok', command: 'echo "hello from $WHO"\necho second line', env: { WHO: 'clearml' } });
  const done = await ended(task.id);
  assert.equal(done.status, 'completed', agent.output());
  assert.equal(done.exitCode, 0);
  const logs = await logsOf(task.id);
  assert.match(logs, /hello from clearml/);
  assert.match(logs, /second line/);
  assert.ok(!logs.includes(keys.secretKey), 'the secret key never reaches a log');
  assert.ok(!agent.output().includes(keys.secretKey), 'nor the agent output');
  const workers = JSON.parse(await cli('worker', 'list', '--json')) as { id: string; queues: string[]; status: string }[];
  const w = workers.find((x) => x.id === 'clearml-ok');
  assert.ok(w, `flotilla worker list shows the ClearML agent: ${JSON.stringify(workers)}`);
  assert.deepEqual(w.queues, ['cm-ok']);
  assert.equal(done.workerId, 'clearml-ok');
});

test('standalone mode (--standalone-mode: the Python environment as it is) runs a task to its end the same way', { skip: missing }, async () => {
  const { agent } = await agentOn('cm-standalone', 'clearml-standalone', undefined, ['--standalone-mode']);
  const task = await t.user.createTask({ queue: 'cm-standalone', command: 'echo standalone says hi\nexit 4' });
  const done = await ended(task.id);
  assert.equal(done.status, 'failed', agent.output());
  assert.equal(done.exitCode, 4);
  assert.match(await logsOf(task.id), /standalone says hi/);
  assert.equal(done.workerId, 'clearml-standalone');
});

test('a failing command ends failed with its exit code', { skip: missing }, async () => {
  const { agent } = await agentOn('cm-fail', 'clearml-fail');
  const task = await t.user.createTask({ queue: 'cm-fail', command: 'echo about to fail\nexit 3' });
  const done = await ended(task.id);
  assert.equal(done.status, 'failed', agent.output());
  assert.equal(done.exitCode, 3);
  assert.match(await logsOf(task.id), /about to fail/);
});

test('flotilla task abort stops a running task: the agent kills it and it ends aborted', { skip: missing }, async () => {
  const { agent } = await agentOn('cm-abort', 'clearml-abort');
  const task = await t.user.createTask({ queue: 'cm-abort', command: 'echo started; sleep 120' });
  await runningWithOutput(task.id, 'started');
  await cli('task', 'abort', task.id);
  const done = await ended(task.id, 30_000);
  assert.equal(done.status, 'aborted', agent.output());
  // The agent is free again: it takes the next task.
  const next = await t.user.createTask({ queue: 'cm-abort', command: 'echo next' });
  assert.equal((await ended(next.id)).status, 'completed');
});

test('a kill -9 of the agent requeues its task once the lease runs out', { skip: missing }, async () => {
  const { agent } = await agentOn('cm-kill', 'clearml-kill');
  const task = await t.user.createTask({ queue: 'cm-kill', command: 'echo started; sleep 120' });
  await runningWithOutput(task.id, 'started');
  agent.child.kill('SIGKILL');
  const back = await waitFor('the task back on its queue', async () => {
    const cur: Task = await t.admin.getTask(task.id);
    return cur.status === 'queued' ? cur : undefined;
  }, (LEASE_S + 10) * 1000, 200);
  assert.match(back.statusMessage ?? '', /lease expired/);
  assert.equal(back.attempts, 1);
});

test('two agents sharing one key pair on one host: each task is held by the agent that runs it', { skip: missing }, async () => {
  const keys = await keyPair('clearml-shared');
  const a = await agentOn('cm-shared', 'clearml-shared-a', keys);
  const b = await agentOn('cm-shared', 'clearml-shared-b', keys);
  const tasks = [];
  for (let i = 0; i < 2; i++) tasks.push(await t.user.createTask({ queue: 'cm-shared', command: `echo shared ${i}; sleep 3` }));
  for (const task of tasks) {
    const done = await ended(task.id);
    assert.equal(done.status, 'completed');
    const ranBy = [a.agent, b.agent].find((x) => x.output().includes(`pulled from cm-shared by worker ${x.workerId}`)
      && new RegExp(`task \\w*${task.id} pulled from cm-shared by worker ${x.workerId}`).test(x.output()));
    assert.ok(ranBy, 'one of the agents ran it');
    assert.equal(done.workerId, ranBy.workerId);
  }
});
});
