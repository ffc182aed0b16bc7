// Container mode, issue 13 defect 5: conmon keeps a container running without its CLI, so a task container must
// not outlive its agent. kill -9 of an agent: its guard removes the container at once. A container whose agent
// is gone anyway (labelled flotilla.agent with a dead agent) is removed by the next agent start on the host;
// a container of a live agent is left alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { ensurePodman, podmanContainers, TEST_IMAGE } from './support/podman.js';
import { startAgentProcess, type FlotillaProcess } from './support/flotilla-process.js';
import { waitFor } from './support/wait.js';
import { agentIdentity, containerName } from '../src/agent/executors/container.js';

let t: TestControlPlane;
const agents: FlotillaProcess[] = [];
const made: string[] = [];

const running = (name: string) =>
  execFileSync('podman', ['ps', '--filter', `name=^${name}$`, '--format', '{{.Names}}'], { encoding: 'utf8' }).trim() === name;

before(async () => {
  ensurePodman();
  t = await startTestControlPlane('sqlite', { leaseTtlS: 2 });
  await t.user.createQueue('ctrkill');
});

after(async () => {
  for (const a of agents) a.child.kill('SIGKILL');
  for (const name of made) execFileSync('podman', ['rm', '-f', name], { stdio: 'ignore' });
  await t.stop();
});

describe('container mode: a task container never outlives its agent', () => {
  test('kill -9 of the agent: the guard removes the running task container; the requeue says why', async () => {
    const task = await t.user.createTask({ queue: 'ctrkill', command: 'sleep 60' });
    const agent = await startAgentProcess(t.cp.url, t.agentToken, ['--queue', 'ctrkill', '--docker', TEST_IMAGE]);
    agents.push(agent);
    const name = containerName(task.id);
    made.push(name);
    await waitFor('the task container running', () => running(name), 60_000);
    const labels = execFileSync('podman', ['inspect', '--format', '{{json .Config.Labels}}', name], { encoding: 'utf8' });
    const l = JSON.parse(labels) as Record<string, string>;
    assert.equal(l['flotilla.task-id'], task.id);
    assert.match(l['flotilla.lease-id'] ?? '', /\S/);
    assert.equal(l['flotilla.agent'], agentIdentity(agent.child.pid!));
    agent.child.kill('SIGKILL');
    await waitFor('the container gone within 15 s of its agent', () => podmanContainers(name).length === 0, 15_000);
    const back = await waitFor('the task requeued', async () => {
      const x = await t.user.getTask(task.id);
      return x.status === 'queued' && x;
    }, 30_000);
    assert.match(back.statusMessage ?? '', /lease expired: worker \S+ stopped reporting/);
    await t.user.abortTask(task.id);
  });

  test('the next agent start removes the containers of dead agents on this host and keeps a live agent\'s', async () => {
    const dead = 'flotilla-leftover-dead';
    const live = 'flotilla-leftover-live';
    made.push(dead, live);
    const runLabelled = (name: string, agent: string) => execFileSync('podman', ['run', '-d', '--name', name,
      '--label', 'flotilla.task-id=t-left', '--label', 'flotilla.lease-id=l-left', '--label', `flotilla.agent=${agent}`,
      TEST_IMAGE, 'sleep', '60'], { stdio: 'ignore' });
    runLabelled(dead, `${hostname()}/999999999/1`);
    runLabelled(live, agentIdentity()); // this test process: alive
    const agent = await startAgentProcess(t.cp.url, t.agentToken, ['--queue', 'ctrkill-none', '--docker', TEST_IMAGE]);
    agents.push(agent);
    // Any agent starting on this host removes it (in npm test another file's agent may start meanwhile and win
    // the race), so wait for it to be gone rather than for this agent's line.
    await waitFor('the dead agent\'s container to be removed', () => podmanContainers(dead).length === 0, 30_000);
    const said = agent.output().match(/removed container flotilla-leftover-dead of task \S+ \(lease \S+\): its agent \S+ is gone/);
    if (said) assert.match(said[0], /task t-left \(lease l-left\)/, 'the line names the task and lease of the container');
    assert.deepEqual(podmanContainers(live), [live]);
    await agent.stop();
  });
});
