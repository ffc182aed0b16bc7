// The reconciler against the simulated provider and a hand-moved clock, on both databases: the act loop
// after a capacity error, the instance lifecycle, and what the journal says. No sleeps, no server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../src/store/index.js';
import { QueueService } from '../../src/services/queue.js';
import { Reconciler } from '../../src/autoscaler/reconciler.js';
import { SimulatedProvider } from '../../src/autoscaler/providers/simulated/provider.js';
import type { LaunchRequest } from '../../src/autoscaler/providers/types.js';
import { AppConfigSchema, type AppConfigInput } from '../../src/domain/autoscaler/config.js';
import { CreateTaskSchema } from '../../src/domain/task.js';
import { ManualClock } from '../../src/domain/clock.js';
import { InvalidTransitionError } from '../../src/domain/errors.js';
import { whyTask } from '../../src/autoscaler/why.js';
import { createTestDb, DIALECTS, type TestDb } from '../support/stores.js';

function app(name: string, over: Partial<AppConfigInput> = {}) {
  return AppConfigSchema.parse({
    name,
    provider: { kind: 'simulated' },
    resources: [{ name: 'gpu', instanceType: 'p4d.24xlarge', pricePerHour: 1.5, maxInstances: 8, zones: ['us-east-1a', 'us-east-1b'] }],
    queues: { [`${name}-q`]: ['gpu'] },
    timings: { idleTimeoutS: 60, bootTimeoutS: 60, capacityCooldownS: 300 },
    ...over,
  });
}

/** A simulated cloud that counts launch calls per zone. */
function countingProvider(noCapacityZone?: string) {
  const p = new SimulatedProvider({
    seed: 1,
    faults: { capacityErrorRate: 0, spotInterruptionsPerHour: 0, noCapacity: noCapacityZone ? [{ instanceType: 'p4d.24xlarge', zone: noCapacityZone }] : [] },
  });
  const calls: string[] = [];
  const launch = p.launch.bind(p);
  p.launch = (req: LaunchRequest) => {
    calls.push(`${req.offering.zone}/${req.offering.market}`);
    return launch(req);
  };
  return { provider: p, calls };
}

for (const dialect of DIALECTS) {
  describe(`reconciler (${dialect})`, () => {
    let db: TestDb;
    let store: Store;
    let queue: QueueService;
    before(async () => {
      db = await createTestDb(dialect);
      store = await Store.open(db.url);
      queue = new QueueService(store, { leaseTtlMs: 60_000 });
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    const enqueue = async (name: string, n: number) => {
      await store.queues.ensure(name);
      for (let i = 0; i < n; i++) await queue.create(CreateTaskSchema.parse({ queue: name, command: 'python train.py' }), null);
    };
    const reconciler = (cfg: ReturnType<typeof app>, provider: SimulatedProvider, clock: ManualClock) =>
      new Reconciler(cfg, { store, queue, provider, now: () => clock.now(), serverUrl: 'http://127.0.0.1:1', controlPlaneId: 'cp-test', listEveryMs: 0 });
    const journal = async (name: string) => (await store.decisions.recent({ app: name, limit: 1000 })).reverse();

    test('N launches on an offering whose first launch hits a capacity error: one call, one failure, then the next zone', async () => {
      const cfg = app('dead-zone');
      await enqueue('dead-zone-q', 4);
      const { provider, calls } = countingProvider('us-east-1a');
      const clock = new ManualClock(Date.now());
      await reconciler(cfg, provider, clock).pass();

      assert.deepEqual(calls, ['us-east-1a/on-demand', ...Array(4).fill('us-east-1b/on-demand')]);
      const rows = await journal('dead-zone');
      const capacity = rows.filter((d) => d.kind === 'capacity-error');
      assert.equal(capacity.length, 1);
      assert.match(capacity[0]!.reason, /^capacity error for p4d\.24xlarge in us-east-1a \(on-demand\): /);
      assert.equal(rows.filter((d) => d.kind === 'launch').length, 5, 'one launch row per cloud call');
      const fallback = rows.filter((d) => d.kind === 'launch').slice(1);
      for (const d of fallback)
        assert.match(d.reason, /capacity error for p4d\.24xlarge in us-east-1a \(on-demand\); next: p4d\.24xlarge in us-east-1b \(on-demand\)$/);
      const all = await store.instances.listAll('dead-zone');
      assert.deepEqual(all.map((i) => i.state).sort(), ['booting', 'booting', 'booting', 'booting', 'failed']);
    });

    test('a worker that registered, ran and exited is journaled "worker exited", never boot-timeout', async () => {
      const cfg = app('exits', { resources: [{ name: 'gpu', instanceType: 'p4d.24xlarge', pricePerHour: 1.5, maxInstances: 2 }] });
      await enqueue('exits-q', 1);
      const { provider } = countingProvider();
      const clock = new ManualClock(Date.now());
      const r = reconciler(cfg, provider, clock);
      await r.pass();
      const [inst] = await store.instances.live('exits');
      assert.equal(inst!.state, 'booting');
      const w = await queue.register({ id: inst!.id, queues: ['exits-q'], tokenId: null, app: 'exits', resource: 'gpu', instanceId: inst!.id });
      await r.pass();
      assert.equal((await store.instances.get(inst!.id))!.state, 'ready');
      // It runs the task, then signs off; time moves past the boot timeout (= idle timeout).
      const taken = await queue.take(w.id, { queues: ['exits-q'] });
      assert.ok(taken);
      await queue.stopWorker(w.id);
      clock.advance(61_000);
      await r.pass();
      const rows = await journal('exits');
      assert.equal(rows.filter((d) => d.kind === 'boot-timeout').length, 0);
      const exited = rows.filter((d) => d.kind === 'worker-exited');
      assert.equal(exited.length, 1);
      assert.equal(exited[0]!.reason, `${inst!.id}: its worker exited (signed off); nothing runs there any more`);
      assert.equal((await store.instances.get(inst!.id))!.state, 'terminating');
    });

    test('a worker that never registers is a boot timeout', async () => {
      const cfg = app('never', { resources: [{ name: 'gpu', instanceType: 'p4d.24xlarge', pricePerHour: 1.5, maxInstances: 1 }] });
      await enqueue('never-q', 1);
      const clock = new ManualClock(Date.now());
      const r = reconciler(cfg, countingProvider().provider, clock);
      await r.pass();
      clock.advance(60_000);
      await r.pass();
      const rows = await journal('never');
      assert.deepEqual(rows.filter((d) => d.kind === 'boot-timeout').map((d) => d.reason.replace(/^\S+: /, '')),
        ['worker did not register within the boot timeout of 60 s']);
    });

    test('task why evaluates the plan now: the $/h cap with its figures, not the first resource at its max', async () => {
      const cfg = app('capped', {
        resources: [{ name: 'small', instanceType: 't3.small', pricePerHour: 1.5, maxInstances: 2 }],
        queues: { 'capped-q': ['small'] }, budget: { maxPerHour: 3 },
      });
      await store.apps.put(cfg);
      await enqueue('capped-q', 3);
      const clock = new ManualClock(Date.now());
      await reconciler(cfg, countingProvider().provider, clock).pass();
      const waiting = (await store.tasks.list({ queue: 'capped-q', status: 'queued' }))[0]!;
      const why = await whyTask(store, waiting.id, clock.now());
      assert.equal(why.why, '$/h cap: 2 × $1.50 running = $3.00 of $3.00; small at its max of 2');
    });

    test('task why: a running or ended task says so in one line; a queue no app serves says that', async () => {
      await enqueue('capped-q', 0);
      const w = await queue.register({ id: 'why-w', queues: ['capped-q'], tokenId: null });
      const taken = await queue.take(w.id, { queues: ['capped-q'] });
      const running = await whyTask(store, taken!.task.id);
      assert.match(running.why, /^the task is running on worker why-w since \S+; it does not wait$/);
      assert.deepEqual(running.decisions, []);
      await enqueue('nobody-q', 1);
      const orphan = (await store.tasks.list({ queue: 'nobody-q' }))[0]!;
      assert.equal((await whyTask(store, orphan.id)).why, 'no autoscaler app serves queue "nobody-q"; it waits for an agent on that queue');
    });

    test('a queue given both a wait and a refusal is journaled once, not on every pass', async () => {
      // One machine may run: the first task waits for it to boot, the other two are refused (at its max).
      const cfg = app('both', { resources: [{ name: 'gpu', instanceType: 'p4d.24xlarge', pricePerHour: 1.5, maxInstances: 1 }] });
      await enqueue('both-q', 3);
      const clock = new ManualClock(Date.now());
      const r = reconciler(cfg, countingProvider().provider, clock);
      await r.pass();
      clock.advance(1000);
      await r.pass();
      const rows = async () => (await journal('both')).map((d) => `${d.kind}:${d.reason.replace(/instance \S+/, 'instance X')}:${d.count}`);
      const settled = await rows();
      assert.deepEqual(settled.slice(-2), ['wait:waiting for instance X to boot:1', 'refuse:gpu at its max of 1:1']);
      for (let i = 0; i < 3; i++) {
        clock.advance(1000);
        await r.pass();
      }
      assert.deepEqual(await rows(), settled, 'passes that change nothing write nothing');
    });

    test("another writer's change to the app's instances is seen by the next pass", async () => {
      const cfg = app('others', { resources: [{ name: 'gpu', instanceType: 'p4d.24xlarge', pricePerHour: 1.5, maxInstances: 4 }] });
      await enqueue('others-q', 3);
      const clock = new ManualClock(Date.now());
      const r = reconciler(cfg, countingProvider().provider, clock);
      await r.pass();
      const [a, b, c] = await store.instances.live('others');
      assert.deepEqual([a, b, c].map((i) => i!.state), ['booting', 'booting', 'booting']);
      const loads = r.live.stats.loads;
      // A person asks the console to terminate one; another control plane notices another is gone.
      await store.instances.request(a!.id, 'terminate');
      await store.instances.move(b!.id, 'booting', 'terminated', { message: 'lost (another writer)' }, clock.now());
      clock.advance(1000);
      await r.pass();
      assert.equal((await store.instances.get(a!.id))!.state, 'terminating', 'the console request was carried out');
      // Three tasks wait and one machine boots: two launches replace the two that went.
      const live = await store.instances.live('others');
      assert.equal(live.filter((i) => i.state === 'booting').length, 3);
      assert.ok(live.some((i) => i.id === c!.id));
      assert.equal(r.live.stats.loads, loads, 'found from the census and the rows written since, not a read of every record');
      assert.ok((await journal('others')).some((d) => d.kind === 'terminate' && d.reason === `${a!.id}: terminated from the console`));
    });

    test('the lifecycle refuses a move the table forbids, and a move that lost a race, naming both states', async () => {
      const offering = { instanceType: 't3.micro', market: 'on-demand' as const };
      await store.instances.create({ id: 'life-1', app: 'life', resource: 'cpu', offering, pricePerHour: 0.01, launchedAt: Date.now() });
      await store.instances.move('life-1', 'requested', 'booting', { providerId: 'i-1' });
      await assert.rejects(store.instances.move('life-1', 'booting', 'failed'),
        (e: Error) => e instanceof InvalidTransitionError && e.message === 'instance life-1 cannot go from booting to failed');
      // Two writers both saw it booting: the second is refused, and told what it is now.
      const results = await Promise.allSettled([
        store.instances.move('life-1', 'booting', 'ready'),
        store.instances.move('life-1', 'booting', 'terminated'),
      ]);
      assert.equal(results.filter((x) => x.status === 'fulfilled').length, 1);
      const lost = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
      assert.ok(lost.reason instanceof InvalidTransitionError);
      assert.match(lost.reason.message, /^instance life-1 cannot go from (ready|terminated) to (ready|terminated) \(expected booting/);
      const now = (await store.instances.get('life-1'))!;
      if (now.state === 'terminated')
        await assert.rejects(store.instances.move('life-1', 'terminated', 'ready'), /instance life-1 cannot go from terminated to ready/);
    });
  });
}
