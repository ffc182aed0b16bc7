// Day and month budgets through the reconciler, on both stores: a launch that would pass the month budget is
// refused and journaled with the figures (and `task why` says the same), warnings are journaled once per period and
// fraction and reach the webhook, and a reached limit drains (idle instances stop) or terminates (busy ones too,
// their tasks back at the head of their queues, the attempt not counted).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Store } from '../store/index.js';
import { QueueService } from '../services/queue.js';
import { ManualClock } from '../domain/clock.js';
import { AppConfigSchema, type AppConfigInput } from '../domain/autoscaler/config.js';
import type { ValidTask } from '../domain/task.js';
import { Reconciler } from './reconciler.js';
import { SimulatedProvider } from './providers/simulated/provider.js';
import { whyTask } from './why.js';
import { createTestDb, DIALECTS, type TestDb } from '../../test/support/stores.js';
import { waitFor } from '../../test/support/wait.js';

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const S = 1000;
const spec = (queue: string): ValidTask => ({ queue, command: 'true', env: {}, priority: 0, maxAttempts: 3 }) as ValidTask;
const offering = { instanceType: 'g5.xlarge', market: 'on-demand' as const };

describe('budgets through the reconciler', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    let db: TestDb;
    let store: Store;
    let queue: QueueService;
    let hook: Server;
    const received: unknown[] = [];
    const clock = new ManualClock(T0);

    before(async () => {
      db = await createTestDb(dialect);
      // The clock is moved by hand: a worker is never offline by the wall clock here.
      store = await Store.open(db.url, { workerOfflineAfterMs: 365 * 86_400_000 });
      queue = new QueueService(store, { leaseTtlMs: 3_600_000, clock });
      hook = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c)).on('end', () => {
          received.push(JSON.parse(body));
          res.end();
        });
      }).listen(0, '127.0.0.1');
      await new Promise((r) => hook.once('listening', r));
    });
    after(async () => {
      hook.close();
      await store.close();
      await db.drop();
    });

    let n = 0;
    /** A fresh app and queue; $36/h is a cent a second. */
    async function app(budget: AppConfigInput['budget']) {
      const name = `app${++n}`;
      const q = `q${n}`;
      await store.queues.create(q);
      const cfg = AppConfigSchema.parse({
        name, provider: { kind: 'simulated' }, queues: { [q]: ['gpu'] }, budget,
        resources: [{ name: 'gpu', instanceType: 'g5.xlarge', pricePerHour: 36, maxInstances: 4 }],
        timings: { idleTimeoutS: 60, bootTimeoutS: 600, capacityCooldownS: 300 },
      });
      await store.apps.put(cfg);
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/budget`;
      const r = new Reconciler(cfg, {
        store, queue, provider: new SimulatedProvider(), serverUrl: 'http://127.0.0.1:9', controlPlaneId: 'cp',
        now: () => clock.now(), listEveryMs: Number.POSITIVE_INFINITY, budget: { webhookUrl: async () => url, webhookBaseMs: 10 },
      });
      return { cfg, q, r };
    }

    /** An instance of the app that ran from `fromS` seconds ago, ready, with its worker (busy with a task of q, if given). */
    async function running(appName: string, q: string, id: string, fromS: number, busy: boolean) {
      await store.instances.create({ id, app: appName, resource: 'gpu', causeQueue: q, offering, pricePerHour: 36, launchedAt: T0 - fromS * S });
      await store.instances.move(id, 'requested', 'booting', { providerId: `p-${id}` }, T0 - fromS * S);
      await queue.register({ id: `w-${id}`, queues: [q], tokenId: null, app: appName, resource: 'gpu', instanceId: id });
      await store.instances.move(id, 'booting', 'ready', { workerId: `w-${id}` }, T0 - fromS * S);
      if (!busy) return undefined;
      await queue.create(spec(q), null);
      return (await queue.take(`w-${id}`, { queues: [q] }))!.task;
    }

    test('a launch that would pass the month budget is refused with the figures; task why says so; warnings once', async () => {
      const { cfg, q, r } = await app({ maxPerMonth: 10 });
      // $9.90 spent this month: an instance ran 990 s and ended.
      await store.instances.create({ id: `${cfg.name}-old`, app: cfg.name, resource: 'gpu', causeQueue: q, offering, pricePerHour: 36, launchedAt: T0 - 2000 * S });
      await store.instances.move(`${cfg.name}-old`, 'requested', 'booting', { providerId: 'p-old' }, T0 - 2000 * S);
      await store.instances.move(`${cfg.name}-old`, 'booting', 'terminated', {}, T0 - 1010 * S);
      const task = await queue.create(spec(q), null);
      await r.pass();
      await r.pass();
      const want = 'month budget: $9.90 of $10.00 spent, $0.00 committed; a g5.xlarge for the expected 1 min would pass it';
      const rows = await store.decisions.recent({ app: cfg.name });
      assert.deepEqual(rows.filter((d) => d.kind === 'refuse').map((d) => d.reason), [want]);
      assert.equal((await store.instances.live(cfg.name)).length, 0, 'nothing launched');
      assert.equal((await whyTask(store, task.id, clock.now())).why, want);
      const warnings = rows.filter((d) => d.kind === 'budget-warning').map((d) => d.reason).sort();
      assert.deepEqual(warnings, [
        'month budget at 50 %: $9.90 of $10.00 spent since 2026-12-01T00:00:00.000Z',
        'month budget at 80 %: $9.90 of $10.00 spent since 2026-12-01T00:00:00.000Z',
      ]);
      await waitFor('two webhook posts', () => received.filter((w) => (w as { app: string }).app === cfg.name).length === 2, 5_000);
      assert.deepEqual(received.filter((w) => (w as { app: string }).app === cfg.name).map((w) => (w as { fraction: number }).fraction).sort(), [0.5, 0.8]);
    });

    test('drain: at the day limit no launch, the idle instance stops, the busy one keeps its task', async () => {
      const { cfg, q, r } = await app({ maxPerDay: 1 });
      const busyTask = await running(cfg.name, q, `${cfg.name}-busy`, 600, true);
      await running(cfg.name, q, `${cfg.name}-idle`, 600, false);
      await queue.create(spec(q), null);
      await r.pass();
      const states = Object.fromEntries((await store.instances.live(cfg.name)).map((i) => [i.id, i.state]));
      assert.deepEqual(states, { [`${cfg.name}-busy`]: 'ready', [`${cfg.name}-idle`]: 'terminating' });
      assert.equal((await store.tasks.get(busyTask!.id)).status, 'running');
      const refuse = (await store.decisions.recent({ app: cfg.name, kind: 'refuse' }))[0];
      assert.match(refuse!.reason, /^day budget exhausted: \$12.00 of \$1.00 spent; no launches until 2026-12-03T00:00:00.000Z/);
    });

    test('terminate: every instance stops now and its task goes back to the head of its queue, attempt not counted', async () => {
      const { cfg, q, r } = await app({ maxPerDay: 1, onExhausted: 'terminate' });
      const busyTask = await running(cfg.name, q, `${cfg.name}-busy`, 600, true);
      const waiting = await queue.create(spec(q), null); // the reclaimed task goes back ahead of it
      await r.pass();
      assert.deepEqual((await store.instances.live(cfg.name)).map((i) => i.state), ['terminating']);
      const back = await store.tasks.get(busyTask!.id);
      assert.equal(back.status, 'queued');
      assert.equal(back.attempts, 0);
      assert.match(back.statusMessage ?? '', /budget of app .* is exhausted/);
      const order = await store.tasks.list({ queue: q, status: 'queued' });
      assert.deepEqual(order.map((t) => t.id), [busyTask!.id, waiting.id]);
    });
  });
});
