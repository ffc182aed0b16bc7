// The Kubernetes glue as users see it: a real control plane (SQLite and PostgreSQL), the glue with the real
// @kubernetes/client-node, and the in-repo fake API server playing the cluster. Pods run no containers here: where a
// task must run, the test plays the pod's agent over the API with the token from the pod's own Secret.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { DIALECTS } from './support/stores.js';
import { waitFor } from './support/wait.js';
import { FakeKubernetes } from './fakes/k8s/index.js';
import { NS, podAgentStarts, podOf, podRunsTask, podToken, startGlue, taskOf, taskPods, type TestGlue } from './support/k8s-glue.js';
import { ApiError, FlotillaClient } from '../src/client/index.js';
import { Kube } from '../src/k8s/kube.js';
import { Glue } from '../src/k8s/glue.js';
import { parseGlueConfig, resolveTemplates } from '../src/k8s/config.js';
import type { Task, TaskStatus } from '../src/domain/task.js';

describe('kubernetes glue', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    let t: TestControlPlane;
    let fake: FakeKubernetes;
    let g: TestGlue | undefined;
    let n = 0;
    /** A fresh queue per test: the control plane is shared by the tests of a dialect. */
    const queue = async (name: string) => {
      const q = `${name}-${++n}`;
      await t.user.createQueue(q);
      return q;
    };
    const task = (q: string, name: string) => t.user.createTask({ queue: q, name, command: `echo ${name}` });
    const status = (id: string, s: TaskStatus) => async () => {
      const x = await t.user.getTask(id);
      return x.status === s && x;
    };
    const pods = () => taskPods(fake);

    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(() => t.stop());
    beforeEach(async () => {
      fake = await FakeKubernetes.start({ nodes: [{ name: 'cpu-1', cpu: 8 }] });
    });
    afterEach(async () => {
      await g?.glue.stop();
      g = undefined;
      await fake.close();
    });

    test('takes tasks in queue order within per-queue and overall limits; nothing is bounced to the tail', async () => {
      const a = await queue('a');
      const b = await queue('b');
      const as: Task[] = [];
      for (const i of [1, 2, 3, 4]) as.push(await task(a, `a${i}`));
      const bs: Task[] = [];
      for (const i of [1, 2, 3]) bs.push(await task(b, `b${i}`));
      g = await startGlue(fake, t.admin, { maxPods: 3, queues: [{ name: a, maxPods: 2 }, { name: b, maxPods: 2 }] });
      await waitFor('three pods', () => pods().length === 3);
      await g.glue.runPass();
      assert.deepEqual(pods().map(taskOf), [as[0].id, as[1].id, bs[0].id], 'queue a first (its limit 2), then b up to the overall 3');
      const listed = await t.user.listTasks({ queue: a });
      assert.equal(listed.length, 4, 'scheduled tasks stay in their queue listing');
      const st = Object.fromEntries(listed.map((x) => [x.name, x.status]));
      assert.deepEqual(st, { a1: 'scheduled', a2: 'scheduled', a3: 'queued', a4: 'queued' });
      assert.match((await t.user.getTask(as[0].id)).statusMessage ?? '', /pending in Kubernetes/);
      const waiting = await t.user.listTasks({ queue: a, status: 'queued' });
      assert.deepEqual(waiting.map((x) => x.name), ['a3', 'a4'], 'the waiting ones keep their order');

      // The pod's token may take only its own task.
      const first = pods()[0];
      const scoped = new FlotillaClient(t.cp.url, podToken(fake, first));
      await scoped.register({ id: 'intruder', queues: [a] });
      await assert.rejects(scoped.dequeue('intruder', { taskId: as[2].id, waitMs: 0 }), (e) => e instanceof ApiError && e.status === 403);

      await podRunsTask(fake, t.cp.url, first);
      await waitFor('a3 gets the freed slot (queue a comes first)', () => pods().some((p) => taskOf(p) === as[2].id));
      for (const p of pods().filter((x) => taskOf(x) !== as[0].id)) await podRunsTask(fake, t.cp.url, p);
      await waitFor('a4, b2 and b3 get pods', () => pods().length === 7);
      for (const p of pods().slice(4)) await podRunsTask(fake, t.cp.url, p);
      await waitFor('all done', async () => (await t.user.listTasks({ status: 'completed' })).filter((x) => [a, b].includes(x.queue)).length === 7);
      const order = pods().map(taskOf);
      assert.deepEqual(order.filter((id) => as.some((x) => x.id === id)), as.map((x) => x.id), 'queue a in FIFO order');
      assert.deepEqual(order.filter((id) => bs.some((x) => x.id === id)), bs.map((x) => x.id), 'queue b in FIFO order');
      assert.equal(new Set(order).size, 7, 'one pod per task');
    });

    test("an unschedulable pod's reason becomes the task's status message; a new node schedules it", async () => {
      const q = await queue('gpu');
      const x = await task(q, 'train');
      g = await startGlue(fake, t.admin, { queues: [{ name: q, maxPods: 1, gpu: 1 }] });
      const waiting = await waitFor('the scheduler message', async () => {
        const cur = await t.user.getTask(x.id);
        return /Unschedulable/.test(cur.statusMessage ?? '') && cur;
      });
      assert.equal(waiting.status, 'scheduled');
      assert.equal(waiting.statusMessage, 'pending in Kubernetes: Unschedulable: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu.');
      await waitFor('the journal row', async () =>
        (await t.user.k8sJournalRows({ queue: q })).some((r) => r.kind === 'pending' && /Insufficient nvidia\.com\/gpu/.test(r.reason)));

      fake.addNode({ name: 'gpu-1', gpu: 1 });
      const created = await waitFor('ContainerCreating', async () => /ContainerCreating/.test((await t.user.getTask(x.id)).statusMessage ?? ''));
      assert.ok(created);
      const pod = await podOf(fake, x.id);
      assert.equal(fake.pod(`${NS}/${pod.metadata.name}`).spec.nodeName, 'gpu-1');
      await podRunsTask(fake, t.cp.url, pod);
      await waitFor('completed', status(x.id, 'completed'));
    });

    test('an image that cannot be pulled fails the task after imagePullFailAfterS, with the reason', async () => {
      const q = await queue('pull');
      const x = await t.user.createTask({ queue: q, command: 'true', image: 'registry.example/missing:1' });
      g = await startGlue(fake, t.admin, { imagePullFailAfterS: 300, queues: [{ name: q, maxPods: 1 }] });
      const pod = await podOf(fake, x.id);
      await waitFor('bound', () => fake.pod(`${NS}/${pod.metadata.name}`).spec.nodeName);
      fake.imagePullBackOff(`${NS}/${pod.metadata.name}`);
      await waitFor('the pull failure in the status message', async () => /ImagePullBackOff/.test((await t.user.getTask(x.id)).statusMessage ?? ''));
      await g.advance(299_000);
      assert.equal((await t.user.getTask(x.id)).status, 'scheduled', 'still waiting before the set time');
      await g.advance(2_000);
      const failed = await waitFor('failed', status(x.id, 'failed'));
      assert.equal(failed.statusMessage,
        'image "registry.example/missing:1" could not be pulled for 300s: ImagePullBackOff: Back-off pulling image "registry.example/missing:1"');
      await waitFor('its pod and Secret deleted', () => pods().length === 0 && fake.store.list('secrets', { namespace: NS }).length === 0);
    });

    test('an evicted or preempted pod puts its task back at the head of its queue, and it runs again', async () => {
      const q = await queue('evict');
      const [x, y] = [await task(q, 'x'), await task(q, 'y')];
      g = await startGlue(fake, t.admin, { queues: [{ name: q, maxPods: 1 }] });
      const first = await podOf(fake, x.id, 1);
      await podAgentStarts(fake, t.cp.url, first);
      await waitFor('x running', status(x.id, 'running'));
      fake.evict(`${NS}/${first.metadata.name}`);
      const second = await podOf(fake, x.id, 2);
      assert.ok(!pods().some((p) => taskOf(p) === y.id), 'y still waits behind x');
      const requeued = await waitFor('the journal row', async () => (await t.user.k8sJournalRows({ queue: q })).find((r) => r.kind === 'requeued'));
      assert.match(requeued?.reason ?? '', /was evicted \(The node was low on resource: memory\.\); back at the head of its queue/);
      assert.ok(fake.store.find('pods', NS, first.metadata.name), 'the evicted pod is kept for diagnosis');

      await podAgentStarts(fake, t.cp.url, second);
      fake.preempt(`${NS}/${second.metadata.name}`);
      const third = await podOf(fake, x.id, 3);
      await podRunsTask(fake, t.cp.url, third);
      const done = await waitFor('x completed', status(x.id, 'completed'));
      assert.equal(done.attempts, 3);
      await podRunsTask(fake, t.cp.url, await podOf(fake, y.id));
      await waitFor('y completed', status(y.id, 'completed'));
    });

    test('a pod deleted before its agent took the task: a pod of a new name, and never one pod over maxPods', async () => {
      const q = await queue('deleted');
      const [x, y] = [await task(q, 'x'), await task(q, 'y')];
      // Every pod not ended, counted at each change of a pod (the store tells its watchers inside each write).
      let most = 0;
      const unwatch = fake.store.watch('pods', { namespace: NS }, String(fake.store.rv), () => {
        most = Math.max(most, pods().filter((p) => !['Succeeded', 'Failed'].includes(p.status.phase)).length);
      });
      try {
        g = await startGlue(fake, t.admin, { queues: [{ name: q, maxPods: 1 }] });
        const first = await podOf(fake, x.id, 1);
        await waitFor('bound', () => fake.pod(`${NS}/${first.metadata.name}`).spec.nodeName);
        fake.deletePod(NS, first.metadata.name);
        const again = await waitFor('x gets a pod again', () => pods().find((p) => taskOf(p) === x.id && p.metadata.uid !== first.metadata.uid));
        assert.notEqual(again.metadata.name, first.metadata.name, 'the name of a deleted pod is not used again');
        await g.glue.runPass();
        await podRunsTask(fake, t.cp.url, again);
        await podRunsTask(fake, t.cp.url, await podOf(fake, y.id));
        await waitFor('x completed', status(x.id, 'completed'));
        await waitFor('y completed', status(y.id, 'completed'));
        assert.equal(most, 1, 'at most maxPods (1) pods at once');
      } finally {
        unwatch();
      }
    });

    test('an OOMKilled pod fails its task with that reason', async () => {
      const q = await queue('oom');
      const x = await task(q, 'big');
      g = await startGlue(fake, t.admin, { queues: [{ name: q, maxPods: 1 }] });
      const pod = await podOf(fake, x.id);
      await podAgentStarts(fake, t.cp.url, pod);
      fake.setPodPhase(`${NS}/${pod.metadata.name}`, 'Failed', { reason: 'OOMKilled' });
      const failed = await waitFor('failed', status(x.id, 'failed'));
      assert.equal(failed.exitCode, 137);
      assert.match(failed.statusMessage ?? '', /^OOMKilled: the task container ran out of memory \(exit code 137\); pod jobs\/flotilla-.* ended without its agent reporting$/);
    });

    test('aborting a task deletes its pod, whether it waits or runs', async () => {
      const q = await queue('abort');
      const [x, y] = [await task(q, 'waits'), await task(q, 'runs')];
      g = await startGlue(fake, t.admin, { queues: [{ name: q, maxPods: 2 }] });
      const px = await podOf(fake, x.id);
      const py = await podOf(fake, y.id);
      await podAgentStarts(fake, t.cp.url, py);
      await t.user.abortTask(x.id);
      await waitFor('the waiting task pod deleted', () => !fake.store.find('pods', NS, px.metadata.name));
      assert.equal((await t.user.getTask(x.id)).status, 'aborted');
      await t.user.abortTask(y.id);
      await waitFor('the running task pod deleted', () => !fake.store.find('pods', NS, py.metadata.name));
      const ended = await waitFor('aborted', status(y.id, 'aborted'));
      assert.match(ended.statusMessage ?? '', /aborted/);
      await waitFor('their Secrets deleted', () => fake.store.list('secrets', { namespace: NS }).length === 0);
    });

    test('finished pods are kept for keepFinishedPodsS, then deleted with their Secret; their token is revoked', async () => {
      const q = await queue('keep');
      const x = await task(q, 'done');
      g = await startGlue(fake, t.admin, { keepFinishedPodsS: 600, queues: [{ name: q, maxPods: 1 }] });
      const pod = await podOf(fake, x.id);
      const token = podToken(fake, pod);
      await podRunsTask(fake, t.cp.url, pod);
      await waitFor('completed', status(x.id, 'completed'));
      await waitFor('the token revoked once the pod ended', async () =>
        (await new FlotillaClient(t.cp.url, token).request('GET', '/api/v1/whoami').then(() => false, (e) => e.status === 401)));
      await g.advance(590_000);
      assert.ok(fake.store.find('pods', NS, pod.metadata.name), 'kept before the time');
      await g.advance(20_000);
      await waitFor('pod and Secret deleted', () => pods().length === 0 && fake.store.list('secrets', { namespace: NS }).length === 0);
    });

    test('a glue killed right after deleting a pod (kept time over, or task aborted) leaves no token Secret behind', async () => {
      const q = await queue('secret');
      const [x, y] = [await task(q, 'x'), await task(q, 'y')];
      const cfg = { keepFinishedPodsS: 600, queues: [{ name: q, maxPods: 2 }] };
      // The glue process dies the moment a pod deletion went through: nothing after that call runs, no event is seen.
      const dying = () => {
        const kube = new Kube(fake.kubeConfig(NS));
        const deletePod = kube.deletePod;
        kube.deletePod = async (ns, name, grace) => {
          await deletePod(ns, name, grace);
          void g!.glue.stop();
          throw new Error('kill -9');
        };
        return kube;
      };
      const secretOf = (pod: any) => fake.store.find('secrets', NS, `${pod.metadata.name}-token`);
      const clock = { now: Date.now() };
      g = await startGlue(fake, t.admin, cfg, clock, dying());
      const [px, py] = [await podOf(fake, x.id), await podOf(fake, y.id)];
      await podAgentStarts(fake, t.cp.url, py);
      await podRunsTask(fake, t.cp.url, px);
      await waitFor('x completed', status(x.id, 'completed'));
      await g.advance(610_000);
      await waitFor("x's pod deleted at the end of its keep time", () => !fake.store.find('pods', NS, px.metadata.name));
      await g.glue.stop();
      assert.equal(secretOf(px), undefined, "x's Secret went before its pod");

      g = await startGlue(fake, t.admin, cfg, clock, dying());
      await g.glue.runPass();
      await t.user.abortTask(y.id);
      await waitFor("y's pod deleted on abort", () => !fake.store.find('pods', NS, py.metadata.name));
      await g.glue.stop();
      assert.equal(secretOf(py), undefined, "y's Secret went before its pod");
      g = await startGlue(fake, t.admin, cfg, clock);
      await g.glue.runPass();
      assert.deepEqual(fake.store.list('secrets', { namespace: NS }), [], 'no Secret left for a restarted glue that cannot list them');
    });

    test('a pod deleted by someone else while no glue runs takes its token Secret with it (the pod owns it)', async () => {
      const q = await queue('owned');
      const x = await task(q, 'x');
      g = await startGlue(fake, t.admin, { queues: [{ name: q, maxPods: 1 }] });
      const px = await podOf(fake, x.id);
      const secretOf = () => fake.store.find('secrets', NS, `${px.metadata.name}-token`);
      await waitFor('the Secret owned by its pod', () => secretOf()?.metadata.ownerReferences?.[0]?.uid === px.metadata.uid);
      assert.deepEqual(secretOf().metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Pod', name: px.metadata.name, uid: px.metadata.uid }]);
      await g.glue.stop();
      g = undefined;
      // kubectl delete pod, with no glue to see it: only Kubernetes' garbage collector can take the Secret now.
      await new Kube(fake.kubeConfig(NS)).deletePod(NS, px.metadata.name, 0);
      assert.equal(fake.store.find('pods', NS, px.metadata.name), undefined);
      assert.equal(secretOf(), undefined, 'no Secret with an agent token left behind');
    });

    test('a restarted glue adopts its pods by label and loses nothing, across a dropped watch and a 410 relist', async () => {
      const q = await queue('adopt');
      const xs: Task[] = [];
      for (const i of [1, 2, 3, 4]) xs.push(await task(q, `t${i}`));
      const cfg = { queues: [{ name: q, maxPods: 2 }] };
      g = await startGlue(fake, t.admin, cfg);
      await waitFor('two pods', () => pods().length === 2);
      await g.glue.stop();
      // While no glue runs: one pod ends, and a glue that died between taking a task and creating its pod left one behind.
      await podRunsTask(fake, t.cp.url, pods()[0]);
      const stranded = await t.admin.k8sScheduleNext(q, 'pending in Kubernetes: creating its pod');
      assert.equal(stranded?.id, xs[2].id);
      g = await startGlue(fake, t.admin, cfg);
      const p3 = await podOf(fake, xs[2].id);
      await g.glue.runPass();
      assert.deepEqual(pods().map(taskOf), [xs[0].id, xs[1].id, xs[2].id], 'no duplicate pod; the stranded task got its pod');
      fake.compact();
      fake.dropWatches();
      await podRunsTask(fake, t.cp.url, pods()[1]);
      await podRunsTask(fake, t.cp.url, p3);
      await podRunsTask(fake, t.cp.url, await podOf(fake, xs[3].id));
      for (const x of xs) await waitFor(`${x.name} completed`, status(x.id, 'completed'));
      assert.equal(pods().length, 4, 'one pod per task');
    });
  });
});

test('a glue whose control plane stays down waits again and again without piling up abort listeners', async () => {
  const fake = await FakeKubernetes.start({ nodes: [{ name: 'cpu-1' }] });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  let failed = 0;
  const down = new FlotillaClient('http://127.0.0.1:1', 'flt_unused');
  const config = await resolveTemplates(parseGlueConfig({ server: down.server, defaultImage: 'flotilla:test', maxPods: 1,
    queues: [{ name: 'q', maxPods: 1 }] }), '.');
  const glue = new Glue({ config, kube: new Kube(fake.kubeConfig(NS)), client: down, namespace: NS, idleWaitMs: 10,
    log: (m) => void (/waiting on the control plane failed/.test(m) && failed++) });
  try {
    await glue.start();
    await waitFor('30 failed waits', () => failed >= 30, 30_000, 20);
    await new Promise((r) => setImmediate(r)); // a warning is emitted on the next tick
    assert.deepEqual(warnings.filter((w) => /MaxListeners/.test(w)), []);
  } finally {
    process.off('warning', onWarning);
    await glue.stop();
    await fake.close();
  }
});
