// The console's live stream and overview, on both stores: a task change arrives over Server-Sent Events authorised by
// the session, a dropped stream resumes from Last-Event-ID (or is told to reset), streams per token are bounded, and
// the overview answers with queues, apps, workers and decisions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { openStream, signIn, type Session } from '../support/console.js';

for (const dialect of DIALECTS) {
  describe(`${dialect}: console live`, () => {
    let t: TestControlPlane;
    let s: Session;
    let userToken: string;
    before(async () => {
      t = await startTestControlPlane(dialect);
      userToken = (await t.admin.createToken('alice', 'user')).token;
      s = await signIn(t.cp.url, userToken);
      await t.admin.createQueue('live');
    });
    after(() => t.stop());

    test('a task change arrives on the stream; a dropped stream resumes with Last-Event-ID', async () => {
      const stream = await openStream(t.cp.url, { cookie: s.cookie });
      assert.equal(stream.status, 200);
      const task = await t.user.createTask({ queue: 'live', command: 'true' });
      const first = await stream.next('the enqueue', (e) => e.data !== undefined && JSON.parse(e.data).topic === 'tasks');
      assert.deepEqual(JSON.parse(first.data!), { topic: 'tasks', queue: 'live' });
      assert.match(first.id!, /^[0-9a-f]+-\d+$/);
      stream.close();

      // While the console is away the task is aborted; back with the last id it saw, it gets what it missed.
      await t.user.abortTask(task.id);
      await new Promise((r) => setTimeout(r, 400)); // the coalescing window: the change is sent, not pending
      const again = await openStream(t.cp.url, { cookie: s.cookie, 'last-event-id': first.id! });
      const missed = await again.next('the abort, replayed', (e) => e.data !== undefined && JSON.parse(e.data).taskId === task.id);
      assert.deepEqual(JSON.parse(missed.data!), { topic: 'tasks', queue: 'live', taskId: task.id });
      again.close();

      const foreign = await openStream(t.cp.url, { cookie: s.cookie, 'last-event-id': 'deadbeef-1' });
      await foreign.next('a reset for an id of another run', (e) => e.event === 'reset');
      foreign.close();
    });

    test('the stream needs a caller and is bounded per token', async () => {
      assert.equal((await openStream(t.cp.url, {})).status, 401);
      const token = (await t.admin.createToken('many', 'user')).token;
      const open = [];
      for (let i = 0; i < 8; i++) open.push(await openStream(t.cp.url, { authorization: `Bearer ${token}` }));
      assert.ok(open.every((o) => o.status === 200));
      const extra = await openStream(t.cp.url, { authorization: `Bearer ${token}` });
      assert.equal(extra.status, 403);
      for (const o of open) o.close();
    });

    test('the overview: queues with waits and why they do not scale, apps with spend, workers, decisions', async () => {
      await t.admin.createQueue('idle-q');
      await t.user.createTask({ queue: 'idle-q', command: 'true' });
      const r = await s.call('GET', '/api/v1/overview');
      assert.equal(r.status, 200);
      const o = await r.json();
      const q = o.queues.find((x: { name: string }) => x.name === 'idle-q');
      assert.equal(q.waiting, 1);
      assert.equal(typeof q.oldestWaitS, 'number');
      assert.match(q.notScaling, /no autoscaler app serves this queue/);
      assert.deepEqual(Object.keys(o.workers).sort(), ['busy', 'idle', 'total']);
      assert.ok(Array.isArray(o.apps) && Array.isArray(o.decisions));
    });

    test('the Kubernetes glue\'s overview: its queues, pods by phase, pending reasons and journal', async () => {
      await t.admin.createQueue('kq');
      const task = await t.user.createTask({ queue: 'kq', command: 'train' });
      await t.admin.request('POST', '/api/v1/k8s/queues/kq/schedule-next', { message: 'pod pending: Unschedulable: 0/3 nodes have a free GPU' });
      await t.admin.request('POST', '/api/v1/k8s/journal', { queue: 'kq', kind: 'pod-created', reason: `task ${task.id}: pod ns/p1 created` });
      const o = await (await s.call('GET', '/api/v1/k8s/overview')).json();
      const q = o.queues.find((x: { name: string }) => x.name === 'kq');
      assert.deepEqual(q.podsByPhase, { Pending: 1, Running: 0 });
      assert.deepEqual(q.pending, [{ task: task.id, reason: 'pod pending: Unschedulable: 0/3 nodes have a free GPU' }]);
      assert.equal(o.journal[0].kind, 'pod-created');
    });
  });
}
