// The control plane's side of a spot interruption, on both stores: the report moves the instance to
// `interrupted` (the lifecycle refuses a way back), journals it with the task's queue, cools the offering
// down (also for a reconciler that starts after it, from the journal), and stops the machine once its
// worker has left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../store/index.js';
import { QueueService } from '../services/queue.js';
import { AppConfigSchema } from '../domain/autoscaler/config.js';
import { CreateTaskSchema } from '../domain/task.js';
import { InvalidTransitionError } from '../domain/errors.js';
import type { CapacityFailure } from '../domain/autoscaler/policy.js';
import { SimulatedProvider } from './providers/simulated/provider.js';
import { InterruptedInstances, recordInterruption } from './interruptions.js';
import { DIALECTS, createTestDb } from '../../test/support/stores.js';

const cfg = AppConfigSchema.parse({
  name: 'spot', provider: { kind: 'simulated' }, queues: { gpu: ['g'] },
  resources: [{ name: 'g', instanceType: 'g5.xlarge', spot: true, zones: ['a', 'b'], pricePerHour: 1, maxInstances: 2 }],
});
const offering = { instanceType: 'g5.xlarge', zone: 'a', market: 'spot' as const };

for (const dialect of DIALECTS) {
  test(`${dialect}: a notice marks the instance interrupted, cools its offering down, and the machine is stopped once its worker left`, async () => {
    const db = await createTestDb(dialect);
    const store = await Store.open(db.url);
    try {
      const queue = new QueueService(store, { leaseTtlMs: 60_000 });
      const provider = new SimulatedProvider();
      await store.queues.create('gpu');
      const now = Date.now();
      const got = await provider.launch({ appId: 'spot', resource: 'g', clientToken: 'spot-1', offering, launch: {}, startupScript: '', tags: {} });
      await store.instances.create({ id: 'spot-1', app: 'spot', resource: 'g', offering, pricePerHour: 1, launchedAt: now });
      await store.instances.move('spot-1', 'requested', 'booting', { providerId: got.providerId }, now);
      await store.instances.move('spot-1', 'booting', 'ready', { workerId: got.providerId }, now);
      // The worker registered under the cloud's id, as on a cloud machine, and runs a task.
      const w = await queue.register({ id: got.providerId, queues: ['gpu'], tokenId: null, app: 'spot', resource: 'g', instanceId: got.providerId });
      await queue.create(CreateTaskSchema.parse({ queue: 'gpu', command: 'train' }), null);
      await queue.take(w.id, { queues: ['gpu'] });

      const rebalance = await recordInterruption(store, (await store.workers.get(w.id))!, { kind: 'rebalance', source: 'aws' }, now);
      assert.deepEqual(rebalance, { instance: 'spot-1', state: 'ready' }, 'a rebalance recommendation changes no state');
      const out = await recordInterruption(store, (await store.workers.get(w.id))!,
        { kind: 'notice', source: 'aws', action: 'terminate', at: now + 120_000 }, now);
      assert.deepEqual(out, { instance: 'spot-1', state: 'interrupted' });
      await assert.rejects(store.instances.move('spot-1', 'interrupted', 'ready'), InvalidTransitionError);
      const rows = await store.decisions.recent({ app: 'spot' });
      assert.deepEqual(rows.map((r) => r.kind), ['interrupted', 'rebalance']);
      assert.equal(rows[0].queue, 'gpu', 'journaled under the queue of the task it ran');
      assert.match(rows[0].reason, /^spot interruption: the cloud will terminate spot-1 \(.*\) at .*cools down like a capacity error$/);
      assert.deepEqual(rows[0].detail.offering, offering);

      // A reconciler cools the offering down from the record; a new one (a restart) from the journal too.
      const failures: CapacityFailure[] = [];
      const interrupted = new InterruptedInstances(store, provider);
      const records = await store.instances.live('spot');
      await interrupted.coolDown(cfg, records, failures, now);
      assert.deepEqual(failures.map((f) => f.offering), [offering, offering]);
      await interrupted.coolDown(cfg, records, failures, now);
      assert.equal(failures.length, 2, 'each interruption cools down once');

      // While the worker still hands its task back the machine stays; once it signed off it is stopped.
      const workers = new Map([[w.id, (await store.workers.get(w.id))!]]);
      const journal: string[] = [];
      await interrupted.settle(records, workers, now, async (k, _q, r) => void journal.push(`${k}: ${r}`));
      assert.equal((await store.instances.get('spot-1'))!.state, 'interrupted');
      await queue.stopWorker(w.id);
      await interrupted.settle(await store.instances.live('spot'), new Map([[w.id, (await store.workers.get(w.id))!]]), now,
        async (k, _q, r) => void journal.push(`${k}: ${r}`));
      assert.equal((await store.instances.get('spot-1'))!.state, 'terminating');
      assert.deepEqual(journal, ['terminate: spot-1: interrupted, and its worker has left; stopped']);
      assert.equal((await provider.list('spot')).filter((p) => p.state !== 'terminated').length, 0, 'the machine was stopped');
    } finally {
      await store.close();
      await db.drop();
    }
  });
}
