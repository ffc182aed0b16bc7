import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { createAgent } from '../../src/agent/agent.js';
import { waitFor } from '../support/wait.js';

for (const dialect of DIALECTS) {
  test(`${dialect}: a task runs on an agent and its output is kept`, async () => {
    const t = await startTestControlPlane(dialect);
    try {
      await t.user.createQueue('q');
      const task = await t.user.createTask({ queue: 'q', command: 'echo hello $WHO; exit 3', env: { WHO: 'world' } });
      const agent = createAgent({ server: t.cp.url, token: t.agentToken, queues: ['q'], once: true, log: () => {} });
      await agent.run();
      const done = await t.user.getTask(task.id);
      assert.equal(done.status, 'failed');
      assert.equal(done.exitCode, 3);
      const logs = await t.user.logs(task.id);
      assert.equal(logs.lines.map((l) => l.text).join(''), 'hello world\n');
    } finally {
      await t.stop();
    }
  });
}
