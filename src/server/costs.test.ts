// (In server/: it reads the metrics too.)
// Attribution on both stores, from stored records only: one instance's life split into boot, busy (per task, a
// released run included) and idle, billed to the right queues and tasks; the same figures after the store is closed
// and opened again (a restart), and the same in the flotilla_spend_usd_total counter.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../store/index.js';
import { QueueService } from '../services/queue.js';
import { CostService } from '../services/costs.js';
import { ManualClock } from '../domain/clock.js';
import type { ValidTask } from '../domain/task.js';
import { Metrics } from './metrics.js';
import { buildApp } from './app.js';
import { costRoutes } from './routes/costs.js';
import { createTestDb, DIALECTS, type TestDb } from '../../test/support/stores.js';

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const S = 1000;
const spec = (queue: string): ValidTask => ({ queue, command: 'true', env: {}, priority: 0, maxAttempts: 3 }) as ValidTask;

describe('costs', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    let db: TestDb;
    let store: Store;
    const clock = new ManualClock(T0);
    const ids: { a: string; b: string } = { a: '', b: '' };

    before(async () => {
      db = await createTestDb(dialect);
      store = await Store.open(db.url);
      const queue = new QueueService(store, { leaseTtlMs: 3_600_000, clock });
      for (const q of ['train', 'eval']) await store.queues.create(q);
      // $3.60/h = $0.001 a second: figures in dollars read as thousands of seconds.
      await store.instances.create({ id: 'i1', app: 'gpuapp', resource: 'gpu', causeQueue: 'train', pricePerHour: 3.6,
        offering: { instanceType: 'g5.xlarge', market: 'spot', zone: 'us-east-1a' }, launchedAt: T0 });
      await store.instances.move('i1', 'requested', 'booting', { providerId: 'i-abc' }, T0);
      const at = (s: number) => clock.set(T0 + s * S);
      at(100);
      await queue.register({ id: 'w1', queues: ['train', 'eval'], tokenId: null, app: 'gpuapp', resource: 'gpu', instanceId: 'i1' });
      await store.instances.move('i1', 'booting', 'ready', { workerId: 'w1' }, clock.now());
      const a = await queue.create(spec('train'), null);
      const b = await queue.create(spec('eval'), null);
      Object.assign(ids, { a: a.id, b: b.id });
      at(200);
      let got = await queue.take('w1', { queues: ['train'] });
      at(500);
      await queue.release(a.id, got!.lease.id, 'agent stopping'); // this run is kept in task_runs
      at(600);
      got = await queue.take('w1', { queues: ['train'] });
      at(1800);
      await queue.finish(a.id, got!.lease.id, { status: 'completed', exitCode: 0 });
      at(1900);
      got = await queue.take('w1', { queues: ['eval'] });
      at(2500);
      await queue.finish(b.id, got!.lease.id, { status: 'completed', exitCode: 0 });
      at(3000);
      await store.instances.move('i1', 'ready', 'terminating', {}, clock.now());
      at(3100);
      await store.instances.move('i1', 'terminating', 'terminated', {}, clock.now());
      at(5000);
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    const report = (by: 'queue' | 'task' | 'day' | 'app') => new CostService(store, () => clock.now()).report({ from: T0 - 3_600_000, by });

    test('boot and idle go to the queue that caused the launch, busy time to each task and its queue', async () => {
      const r = await report('queue');
      assert.deepEqual(r.rows.map((x) => [x.key, x.spentUsd, x.busyUsd, x.bootUsd, x.idleUsd, x.tasks, x.costPerTaskUsd]), [
        ['train', 2.5, 1.5, 0.1, 0.9, 1, 2.5], // boot 100 s, task A 300 s + 1200 s, idle 900 s
        ['eval', 0.6, 0.6, 0, 0, 1, 0.6], // task B 600 s
      ]);
      assert.equal(r.total.spentUsd, 3.1); // the whole life, 3100 s: every second billed once
      assert.equal(Math.round(r.total.instanceHours * 3600), 3100);
      const byTask = await report('task');
      assert.deepEqual(byTask.rows.map((x) => [x.key, x.spentUsd]), [[ids.a, 1.5], ['(boot and idle: train)', 1], [ids.b, 0.6]]);
    });

    test("a task's cost line names its time, type and market", async () => {
      const c = await new CostService(store, () => clock.now()).task(ids.a);
      assert.equal(c.line, '$1.50: 25 min on g5.xlarge (spot)');
    });

    test('the figures come from the store: the same after a restart, and the same in the metrics', async () => {
      const before = await report('queue');
      await store.close();
      store = await Store.open(db.url);
      assert.deepEqual(await report('queue'), before);
      const metrics = new Metrics(store);
      const spent = (await metrics.registry.getSingleMetric('flotilla_spend_usd_total')!.get()).values;
      const sum = (f: (l: Record<string, unknown>) => boolean) => spent.filter((v) => f(v.labels)).reduce((s, v) => s + v.value, 0);
      assert.equal(Math.round(sum((l) => l.queue === 'train') * 1e6) / 1e6, 2.5);
      assert.equal(Math.round(sum((l) => l.kind === 'idle') * 1e6) / 1e6, 0.9);
      assert.equal(Math.round(sum(() => true) * 1e6) / 1e6, before.total.spentUsd);
    });

    test('the API answers the same report (what `flotilla cost report --json` prints), and names a bad field', async () => {
      const queue = new QueueService(store, { leaseTtlMs: 60_000, clock });
      const { app } = buildApp({ store, queue, settings: { leaseTtlMs: 60_000, maxWaitMs: 1000, heartbeatMs: 1000, version: 't' }, extraRoutes: [costRoutes] });
      const { token } = await store.tokens.create('u', 'user');
      const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      try {
        const res = await get(`/api/v1/costs?from=${T0 - 3_600_000}&by=queue`);
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), await report('queue'));
        assert.equal((await get(`/api/v1/tasks/${ids.a}/cost`)).json().line, '$1.50: 25 min on g5.xlarge (spot)');
        const bad = await get('/api/v1/costs?from=yesterday');
        assert.equal(bad.statusCode, 400);
        assert.match(JSON.stringify(bad.json().issues), /query.from.*not a time: give epoch milliseconds or an ISO date/);
      } finally {
        await app.close();
      }
    });
  });
});
