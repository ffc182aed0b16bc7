// Requests the API fuzz (fuzz.test.ts) found answered with a 5xx or differently by the two stores, replayed as
// they were sent: each must now be a 400 naming the field, on SQLite and PostgreSQL alike.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../support/stores.js';
import { useControlPlane } from '../support/suite.js';
import { ApiError, FlotillaClient } from '../../src/client/index.js';

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    const s = useControlPlane(dialect);

    test('an exit code beyond 32 bits in a finish report is a 400 naming the field (PostgreSQL said 500)', async () => {
      await s.t.user.createQueue('fz');
      const agent = new FlotillaClient(s.t.cp.url, s.t.agentToken);
      await agent.register({ id: 'fz-1', queues: ['fz'] });
      const task = await s.t.user.createTask({ queue: 'fz', command: 'true' });
      const d = await agent.dequeue('fz-1', { waitMs: 0 });
      assert.equal(d?.task.id, task.id);
      const body = { waitMs: 0, finished: { taskId: task.id, leaseId: d!.lease.id, status: 'failed', exitCode: -9007199254740946 } };
      const err = await agent.request('POST', '/api/v1/workers/fz-1/dequeue', body).catch((e) => e);
      assert.ok(err instanceof ApiError && err.status === 400, String(err));
      assert.match(err.message, /exitCode/);
      assert.match(err.message, /32-bit/);
      assert.equal((await s.t.user.getTask(task.id)).status, 'running', 'nothing was written');
      const glue = await s.t.admin.request('POST', `/api/v1/k8s/tasks/${task.id}/fail`, { message: 'x', exitCode: 2 ** 40 }).catch((e) => e);
      assert.ok(glue instanceof ApiError && glue.status === 400, String(glue));
    });
  });
}
