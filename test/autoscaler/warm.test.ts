// The warm pool in the product: the reconciler reads the arrival history from the store (tasks by
// created_at, both databases) and hands it to plan(), which keeps instances ready and journals why.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../src/store/index.js';
import { QueueService } from '../../src/services/queue.js';
import { Reconciler } from '../../src/autoscaler/reconciler.js';
import { SimulatedProvider } from '../../src/autoscaler/providers/simulated/provider.js';
import { AppConfigSchema } from '../../src/domain/autoscaler/config.js';
import { CreateTaskSchema } from '../../src/domain/task.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createTestDb, DIALECTS, type TestDb } from '../support/stores.js';

const MIN = 60_000;
const BUCKET = 5 * MIN;

for (const dialect of DIALECTS) {
  describe(`warm pool (${dialect})`, () => {
    let db: TestDb;
    let store: Store;
    let queue: QueueService;
    // On a bucket boundary, near the wall clock (the journal prunes rows by age).
    const clock = new ManualClock(Math.floor(Date.now() / BUCKET) * BUCKET);
    before(async () => {
      db = await createTestDb(dialect);
      store = await Store.open(db.url);
      queue = new QueueService(store, { leaseTtlMs: 60_000, clock });
      await store.queues.ensure('train');
      await store.queues.ensure('other');
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    /** n tasks created `agoMs` before now on q, then aborted: arrivals that wait for nothing. */
    const arrived = async (q: string, n: number, agoMs: number) => {
      for (let i = 0; i < n; i++) {
        const t = await store.tasks.create(CreateTaskSchema.parse({ queue: q, command: 'python train.py' }), null, clock.now() - agoMs);
        await queue.abort(t.id);
      }
    };

    test('arrivals are counted per queue in aligned buckets, the newest holding now', async () => {
      await arrived('train', 3, 1);
      await arrived('train', 2, BUCKET + 1);
      await arrived('train', 1, 7 * BUCKET); // older than the window asked for
      await arrived('other', 1, 1);
      const h = await store.tasks.arrivals(['train', 'other', 'empty'], clock.now() - 3 * BUCKET, clock.now() - 1, BUCKET);
      assert.equal(h.bucketMs, BUCKET);
      assert.equal(h.last, clock.now() / BUCKET - 1);
      assert.deepEqual(h.counts, { train: [0, 2, 3], other: [0, 0, 1], empty: [0, 0, 0] });
    });

    test('a pass with warm: auto keeps instances ready from the forecast and journals it', async () => {
      const cfg = AppConfigSchema.parse({
        name: `warm-${dialect}`,
        provider: { kind: 'simulated' },
        resources: [{ name: 'gpu', instanceType: 'g5.xlarge', pricePerHour: 1, maxInstances: 8, warm: { mode: 'auto', bootS: 120 } }],
        queues: { train: ['gpu'] },
        budget: { maxPerHour: 100 },
      });
      const provider = new SimulatedProvider({ seed: 1 });
      const r = new Reconciler(cfg, { store, queue, provider, now: () => clock.now(), serverUrl: 'http://127.0.0.1:1', controlPlaneId: 'cp', listEveryMs: 0 });
      await r.pass();
      const rows = await store.decisions.recent({ app: cfg.name, kind: 'launch', limit: 10 });
      assert.ok(rows.length >= 1, 'at least one warm launch');
      assert.match(rows[0]!.reason, /^warm pool: keeping \d+ ready for gpu, expected \d+\.\d arrivals in the next boot time$/);
      assert.equal((await store.instances.live(cfg.name)).length, rows.length);
    });
  });
}
