// The journal's folded rows reach the API with their count, and the CLI shows them as "×N" (issue 13, defect 9b).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane } from './support/control-plane.js';
import { DIALECTS } from './support/stores.js';
import { reasonOf } from '../src/cli/output.js';

for (const dialect of DIALECTS) {
  test(`${dialect}: a repeated journal row is one row with its count, shown as ×N`, async () => {
    const t = await startTestControlPlane(dialect);
    try {
      for (let i = 0; i < 3; i++)
        await t.admin.request('POST', '/api/v1/k8s/journal', { queue: 'q', kind: 'pod-refused', reason: 'quota exceeded', detail: { n: 1 } });
      const rows = await t.user.k8sJournalRows({});
      assert.equal(rows.length, 1);
      assert.equal(rows[0].count, 3);
      assert.ok(rows[0].lastAt >= rows[0].at);
      assert.match(reasonOf(rows[0]), /^quota exceeded ×3 \(last /);
      assert.equal(reasonOf({ reason: 'once', count: 1 }), 'once');
    } finally {
      await t.stop();
    }
  });
}
