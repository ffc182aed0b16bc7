// The decision journal stays bounded: identical refusals fold into one row with a count, and rows are pruned by
// count per app and by age (issue 13, defect 9b). Both stores, with a clock moved by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './index.js';
import { ManualClock } from '../domain/clock.js';
import { DIALECTS, createTestDb } from '../../test/support/stores.js';

const HOUR = 3_600_000;

for (const dialect of DIALECTS) {
  test(`${dialect}: repeated identical refusals are one row with a count; other rows are not folded`, async () => {
    const db = await createTestDb(dialect);
    const clock = new ManualClock();
    const store = await Store.open(db.url, { clock });
    try {
      const refuse = (waiting: number) => store.decisions.add({ at: clock.now(), app: 'a', queue: 'q', kind: 'refuse',
        reason: 'budget.maxInstances (2) reached', detail: { waiting } });
      const first = clock.now();
      for (let i = 0; i < 50; i++) {
        await refuse(i);
        clock.advance(1000);
      }
      let rows = await store.decisions.recent({ app: 'a' });
      assert.equal(rows.length, 1);
      assert.equal(rows[0].count, 50);
      assert.equal(rows[0].at, first);
      assert.equal(rows[0].lastAt, first + 49_000);
      assert.deepEqual(rows[0].detail, { waiting: 49 }); // the latest snapshot
      // Another queue, another kind or another reason is a row of its own; the refusal after it starts a new row.
      await store.decisions.add({ at: clock.now(), app: 'a', queue: 'other', kind: 'refuse', reason: 'budget.maxInstances (2) reached', detail: {} });
      await store.decisions.add({ at: clock.now(), app: 'a', queue: 'q', kind: 'launch', reason: 'r', detail: { instance: 'i1' } });
      await store.decisions.add({ at: clock.now(), app: 'a', queue: 'q', kind: 'launch', reason: 'r', detail: { instance: 'i2' } });
      await refuse(1);
      await refuse(2);
      rows = await store.decisions.recent({ app: 'a' });
      assert.deepEqual(rows.map((r) => `${r.queue}:${r.kind}:${r.count}`), ['q:refuse:2', 'q:launch:1', 'q:launch:1', 'other:refuse:1', 'q:refuse:50']);
      // A glue row with the same detail folds too; the metric counts every time it happened.
      for (let i = 0; i < 3; i++) await store.decisions.add({ at: clock.now(), app: 'k8s-glue', queue: 'q', kind: 'pod-refused', reason: 'quota', detail: { x: 1 } });
      assert.equal((await store.decisions.recent({ app: 'k8s-glue' })).length, 1);
      const n = await store.decisions.countByKind();
      assert.equal(n.find((c) => c.app === 'a' && c.kind === 'refuse')?.n, 53);
      assert.equal(n.find((c) => c.app === 'k8s-glue')?.n, 3);
    } finally {
      await store.close();
      await db.drop();
    }
  });

  test(`${dialect}: the journal keeps at most maxRowsPerApp rows per app and none older than maxAgeMs`, async () => {
    const db = await createTestDb(dialect);
    const clock = new ManualClock();
    const store = await Store.open(db.url, { clock, journal: { maxRowsPerApp: 10, maxAgeMs: 24 * HOUR } });
    try {
      const add = (app: string, i: number) => store.decisions.add({ at: clock.now(), app, queue: null, kind: 'launch', reason: `launch ${i}`, detail: {} });
      for (let i = 0; i < 25; i++) await add('a', i);
      await add('b', 0);
      let a = await store.decisions.recent({ app: 'a', limit: 100 });
      assert.equal(a.length, 10);
      assert.equal(a[0].reason, 'launch 24');
      assert.equal(a[9].reason, 'launch 15');
      assert.equal((await store.decisions.recent({ app: 'b' })).length, 1); // another app's rows are its own
      // A day and a bit later, rows whose last repeat is older than a day go, in every app.
      clock.advance(12 * HOUR);
      await add('a', 100); // recent: stays
      clock.advance(13 * HOUR);
      await add('c', 0);
      a = await store.decisions.recent({ app: 'a', limit: 100 });
      assert.deepEqual(a.map((r) => r.reason), ['launch 100']);
      assert.equal((await store.decisions.recent({ app: 'b' })).length, 0);
      // A folded row lives as long as it keeps repeating.
      const refuse = () => store.decisions.add({ at: clock.now(), app: 'd', queue: 'q', kind: 'refuse', reason: 'cap', detail: {} });
      await refuse();
      for (let i = 0; i < 4; i++) {
        clock.advance(12 * HOUR);
        await refuse();
      }
      const d = await store.decisions.recent({ app: 'd' });
      assert.equal(d.length, 1);
      assert.equal(d[0].count, 5);
    } finally {
      await store.close();
      await db.drop();
    }
  });
}
