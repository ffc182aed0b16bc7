// Issue 18 item 4: when the container runtime itself fails (not the task), the agent says so. At start with
// --docker it checks the runtime and refuses to start when it cannot run containers; a task whose `podman run`
// the runtime failed (exit 125/126/127 with the runtime's own error) gets a status message quoting that error.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_WAIT_MS, useControlPlane } from './support/suite.js';
import { ensurePodman, TEST_IMAGE } from './support/podman.js';
import { startFlotilla } from './support/flotilla-process.js';
import { waitFor } from './support/wait.js';

const RLIMIT_ERROR = 'Error: runc: runc create failed: unable to start container process: error during container init: ' +
  'error setting rlimits for ready process: error setting rlimit type 7: operation not permitted: OCI permission denied';

/** A runtime that answers info, image inspect and the start check, and fails every other `run` as runc does without a containers.conf. */
function fakeRuntime(dir: string): string {
  const path = join(dir, 'fake-podman');
  writeFileSync(path, `#!/bin/sh
case "$1" in
  run) for last; do :; done
       if [ "$last" = true ]; then exit 0; fi
       echo "${RLIMIT_ERROR}" >&2; exit 126 ;;
  *) exit 0 ;;
esac
`);
  chmodSync(path, 0o755);
  return path;
}

describe('a container runtime that fails', () => {
  const s = useControlPlane('sqlite');

  test('--docker with a broken containers.conf: the agent refuses to start, naming the runtime error and the fix', async () => {
    ensurePodman();
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-badconf-'));
    try {
      writeFileSync(join(dir, 'containers.conf'), '[engine\nbroken');
      const agent = startFlotilla(['--server', s.t.cp.url, 'agent', '--queue', 'q', '--docker', TEST_IMAGE, '--container-runtime', 'podman'],
        { FLOTILLA_TOKEN: s.t.agentToken, CONTAINERS_CONF: join(dir, 'containers.conf'), XDG_CACHE_HOME: dir });
      const code = await Promise.race([agent.exited, new Promise((r) => setTimeout(() => r('still running'), AGENT_WAIT_MS))]);
      if (code === 'still running') await agent.stop(2_000);
      assert.notEqual(code, 0, agent.output());
      assert.notEqual(code, 'still running', agent.output());
      assert.match(agent.output(), /the container runtime cannot run containers here \(`podman info` failed with exit \d+\): [^\n]*containers\.conf[^\n]*toml/);
      assert.match(agent.output(), /CONTAINERS_CONF=/);
      assert.doesNotMatch(agent.output(), /registered as worker/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a task whose run the runtime failed: the status says the runtime failed and quotes its error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-fakert-'));
    try {
      await s.t.user.createQueue('rt');
      s.spawn(['rt'], { args: ['--docker', 'some-image', '--container-runtime', fakeRuntime(dir)] });
      const task = await s.t.user.createTask({ queue: 'rt', command: 'echo hi' });
      const ended = await waitFor('the task failed', s.statusIs(task.id, 'failed'), AGENT_WAIT_MS);
      assert.equal(ended.exitCode, 126);
      assert.match(ended.statusMessage ?? '', /^the container runtime failed, not the task \(fake-podman run exit 126\): Error: runc: .*error setting rlimits/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
