// The clearml-agent machines' dead-man switch (src/clearml/startup.ts) calls the daemon idle when its process has no
// child: this checks that with the real clearml-agent 1.9.2. Idle, it polls its queue in its own process (no child
// across many polls); running a task, it has a child (`python -u -m clearml_agent --config-file … execute --id …` in process mode) for as
// long as the task runs; after the task, no child again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { runFlotilla } from '../support/flotilla-process.js';
import { waitFor } from '../support/wait.js';
import { clearmlAgentMissing, startClearmlAgent, type ClearmlAgentProc } from '../support/clearml-agent.js';

const missing = clearmlAgentMissing();
let t: TestControlPlane;
let agent: ClearmlAgentProc | undefined;

/** `ps --ppid`: what the watchdog looks at. */
function children(pid: number): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').filter((l) => l.trim());
  } catch {
    return []; // ps exits 1 when nothing matches
  }
}

before(async () => {
  if (missing) return;
  t = await startTestControlPlane('postgres', { leaseTtlS: 10 });
  await t.admin.createQueue('cm-idle');
});

after(async () => {
  await agent?.stop(1_000);
  await t?.stop();
});

test('the real clearml-agent daemon has no child while idle and a child while it runs a task', { skip: missing }, async () => {
  const out = await runFlotilla(['--server', t.cp.url, 'token', 'create', '--name', 'cm-idle', '--role', 'agent', '--clearml', '--json'],
    { FLOTILLA_TOKEN: t.cp.adminToken! });
  const keys = JSON.parse(out.slice(out.indexOf('{'))) as { accessKey: string; secretKey: string };
  agent = startClearmlAgent({ apiServer: `${t.cp.url}/clearml`, ...keys, queues: ['cm-idle'], workerId: 'cm-idle' });
  const pid = agent.child.pid!;
  await waitFor('the agent to register as a worker', async () =>
    (await t.admin.listWorkers()).some((w: { id: string }) => w.id === 'cm-idle'), 60_000, 200);

  // Idle: several of its 5 s polls, sampled often; not one child.
  const idleUntil = Date.now() + 12_000;
  while (Date.now() < idleUntil) {
    assert.deepEqual(children(pid), [], `an idle daemon has no child\n${agent.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const task = await t.user.createTask({ queue: 'cm-idle', command: 'echo started; sleep 8' });
  const busy = await waitFor('a child while the task runs', () => {
    const c = children(pid);
    return c.length ? c : undefined;
  }, 60_000, 100);
  console.log(`clearml-agent ${pid} running a task: ${busy.join(' | ')}`);
  assert.ok(busy.some((l) => /-m clearml_agent .*\bexecute\b/.test(l)), busy.join('\n'));
  await waitFor('the task to end', async () => ['completed', 'failed'].includes((await t.admin.getTask(task.id)).status), 60_000, 200);
  await waitFor('no child once the task has ended', () => children(pid).length === 0, 30_000, 100);
});
