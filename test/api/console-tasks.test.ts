// What the console's task pages need, on both stores: tasks filtered by queue and status and paged with a cursor
// (every task once, in order), and "run again".
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';

interface Page { tasks: { id: string; status: string; queue: string; spec: { command?: string } }[]; nextCursor: string | null }

for (const dialect of DIALECTS) {
  describe(`${dialect}: console tasks`, () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect);
      await t.admin.createQueue('pages');
      await t.admin.createQueue('other');
      await t.user.createTasks(Array.from({ length: 25 }, (_, i) => ({ queue: 'pages', command: `echo ${i}`, priority: i % 3 })));
      await t.user.createTask({ queue: 'other', command: 'elsewhere' });
    });
    after(() => t.stop());

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
