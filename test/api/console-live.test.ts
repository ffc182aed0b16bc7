// The console's live stream and read models, on both stores: a task change arrives over Server-Sent Events authorised
// by the session, a dropped stream resumes from Last-Event-ID (or is told to reset), streams per token are bounded;
// the overview and the Kubernetes glue's overview; tasks paged with a cursor (every task once, in order); run again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { openStream, signIn, type Session } from '../support/console.js';
import { FlotillaClient } from '../../src/client/index.js';

interface Page { tasks: { id: string; status: string; queue: string; spec: { command?: string } }[]; nextCursor: string | null }

for (const dialect of DIALECTS) {
  describe(`${dialect}: console live and reads`, () => {
    let t: TestControlPlane;
    let s: Session;
    let userToken: string;
    before(async () => {
      t = await startTestControlPlane(dialect);
      userToken = (await t.admin.createToken('alice', 'user')).token;
      s = await signIn(t.cp.url, userToken);
      await t.admin.createQueue('live');
      await t.admin.createQueue('pages');
      await t.admin.createQueue('other');
      await t.user.createTasks(Array.from({ length: 25 }, (_, i) => ({ queue: 'pages', command: `echo ${i}`, priority: i % 3 })));
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

    test('a task an agent takes arrives on the stream', async () => {
      // The task page and the task list turn "running" from this message; without it a page opened while the task
      // was queued said "queued" until it was reloaded.
      await t.admin.createQueue('takes');
      const agent = new FlotillaClient(t.cp.url, (await t.admin.createToken('taker', 'agent')).token);
      await agent.register({ id: 'taker', queues: ['takes'] });
      const stream = await openStream(t.cp.url, { cookie: s.cookie });
      const tasks = (e: { data?: string }) => e.data !== undefined && JSON.parse(e.data).topic === 'tasks';
      const task = await t.user.createTask({ queue: 'takes', command: 'true' });
      await stream.next('the enqueue', tasks);
      assert.equal((await agent.dequeue('taker', { waitMs: 0 }))?.task.id, task.id);
      const taken = await stream.next('the take', tasks);
      assert.deepEqual(JSON.parse(taken.data!), { topic: 'tasks', queue: 'takes', taskId: task.id });
      stream.close();
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

    const all = async (filter: string) => {
      const seen: string[] = [];
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const page: Page = await t.user.request('GET', `/api/v1/tasks?${filter}&limit=10${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.tasks.map((x) => x.id));
        cursor = page.nextCursor;
        pages++;
      }
      return { seen, pages };
    };

    test('cursor paging returns every task of the filter once, in the listing\'s order', async () => {
      for (const filter of ['queue=pages', 'queue=pages&status=queued']) {
        const { seen, pages } = await all(filter);
        assert.equal(pages, 3, filter);
        assert.equal(new Set(seen).size, 25, filter);
        const once: Page = await t.user.request('GET', `/api/v1/tasks?${filter}&limit=100`);
        assert.deepEqual(seen, once.tasks.map((x) => x.id), `${filter}: same order as one big page`);
      }
      const bad = await fetch(`${t.cp.url}/api/v1/tasks?cursor=bm9wZQ`, { headers: { authorization: `Bearer ${t.agentToken}` } });
      assert.ok(bad.status === 400 || bad.status === 403);
      await assert.rejects(t.user.request('GET', '/api/v1/tasks?cursor=bm9wZQ'), /cursor/);
    });

    test('run again: a new task with the same spec on the same queue', async () => {
      const orig = await t.user.createTask({ queue: 'other', command: 'python train.py', env: { LR: '0.1' }, priority: 5 });
      await t.user.abortTask(orig.id);
      const again = await t.user.request<{ id: string; status: string; queue: string; priority: number; spec: Record<string, unknown> }>('POST', `/api/v1/tasks/${orig.id}/rerun`);
      assert.notEqual(again.id, orig.id);
      assert.equal(again.status, 'queued');
      assert.equal(again.queue, 'other');
      assert.equal(again.priority, 5);
      assert.deepEqual(again.spec, (await t.user.getTask(orig.id)).spec);
      await assert.rejects(t.user.request('POST', '/api/v1/tasks/nope/rerun'), /not found/);
    });
  });
}
