// End to end: a real control plane and real `flotilla agent --docker` processes running tasks in
// podman containers (local test images built by scripts/ensure-podman.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { ensurePodman, podmanContainers, TEST_IMAGE, TEST_IMAGE_ALT } from './support/podman.js';
import { startAgentProcess, type FlotillaProcess } from './support/flotilla-process.js';
import { waitFor } from './support/wait.js';
import { containerName } from '../src/agent/executors/container.js';
import type { CreateTask, Task } from '../src/domain/task.js';

let t: TestControlPlane;
const agents: FlotillaProcess[] = [];

async function logsOf(id: string): Promise<string> {
  return (await t.user.logs(id)).lines.filter((l) => l.stream !== 'system').map((l) => l.text).join('');
}

async function runTask(spec: CreateTask): Promise<{ task: Task; logs: string }> {
  const created = await t.user.createTask(spec);
  const task = await waitFor(`task ${created.id} to end`, async () => {
    const got = await t.user.getTask(created.id);
    return ['completed', 'failed', 'aborted'].includes(got.status) && got;
  }, 60_000);
  return { task, logs: await logsOf(task.id) };
}

before(async () => {
  ensurePodman();
  t = await startTestControlPlane('sqlite', { leaseTtlS: 4 }); // heartbeats every second: aborts are seen quickly
  for (const q of ['ctr', 'pinned']) await t.user.createQueue(q);
  agents.push(await startAgentProcess(t.cp.url, t.agentToken, ['--queue', 'ctr', '--docker', TEST_IMAGE, '--container-runtime', 'podman']));
  agents.push(await startAgentProcess(t.cp.url, t.agentToken, ['--queue', 'pinned', '--docker', TEST_IMAGE, '--no-task-image-override']));
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await t.stop();
});

describe('flotilla agent --docker with real podman', () => {
  test('a task runs inside a container, in its working copy, and the container is removed', async () => {
    const { task, logs } = await runTask({ queue: 'ctr', command: 'test -f /run/.containerenv && echo in-container; cat /image-name; pwd' });
    assert.equal(task.status, 'completed', logs);
    assert.equal(logs, `in-container\nflotilla-test\n/workspace\n`);
    assert.deepEqual(podmanContainers(containerName(task.id)), []);
  });

  test("the task's image overrides the agent's, unless the agent runs with --no-task-image-override", async () => {
    const own = await runTask({ queue: 'ctr', image: TEST_IMAGE_ALT, command: 'cat /image-name' });
    assert.equal(own.logs, 'flotilla-test-alt\n');
    const pinned = await runTask({ queue: 'pinned', image: TEST_IMAGE_ALT, command: 'cat /image-name' });
    assert.equal(pinned.logs, 'flotilla-test\n');
  });

  test("env and container env reach the task, and the container's exit code is the task's", async () => {
    const { task, logs } = await runTask({
      queue: 'ctr', env: { GREETING: 'hello' }, container: { env: { TARGET: 'container' } },
      command: 'echo "$GREETING $TARGET $FLOTILLA_TASK_ID"; echo oops >&2; exit 7',
    });
    assert.equal(task.status, 'failed');
    assert.equal(task.exitCode, 7);
    assert.equal(task.statusMessage, 'exit code 7');
    assert.equal(logs, `hello container ${task.id}\noops\n`);
  });

  test('a setup script runs in the container before the command', async () => {
    const { task, logs } = await runTask({ queue: 'ctr', setupScript: 'cat /image-name > setup-ran', requirementsFile: 'requirements.txt', command: 'cat setup-ran' });
    assert.equal(task.status, 'completed', logs);
    assert.match(logs, /no python in this image: skipping requirements file requirements.txt/);
    // The command's output (stdout) and the setup's note (stderr) come on two pipes: their order in the log varies.
    assert.match(logs, /(^|\n)flotilla-test\n/);
  });

  test('abort stops the running container and removes it', async () => {
    const created = await t.user.createTask({ queue: 'ctr', command: 'echo started; sleep 600' });
    const name = containerName(created.id);
    await waitFor('the task to start', async () => (await logsOf(created.id)).includes('started'), 60_000);
    assert.deepEqual(podmanContainers(name), [name]);
    await t.user.abortTask(created.id);
    const done = await waitFor('the task to be aborted', async () => {
      const got = await t.user.getTask(created.id);
      return got.status === 'aborted' && got;
    }, 60_000);
    assert.equal(done.statusMessage, 'aborted by user');
    assert.deepEqual(podmanContainers(name), []);
  });
});
