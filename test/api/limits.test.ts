// Every list and string the API takes is bounded: over-long input is a 400 naming the field and the limit, on both
// stores, and a request naming thousands of queues neither stalls the control plane nor makes it loop (issue 13, 6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { LIMITS } from '../../src/domain/limits.js';

async function call(t: TestControlPlane, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(t.cp.url + path, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const x = (n: number) => 'x'.repeat(n);
const names = (n: number) => Array.from({ length: n }, (_, i) => `q${i}`);

for (const dialect of DIALECTS) {
  test(`${dialect}: over-long input is a 400 naming the field and the limit`, async () => {
    const t = await startTestControlPlane(dialect);
    try {
      const admin = t.cp.adminToken!;
      const user = (await t.admin.createToken('u', 'user')).token;
      await t.user.createQueue('q');
      const task = { queue: 'q', command: 'true' };
      const cases: { who: string; method: string; path: string; body?: unknown; field: string; limit: number }[] = [
        { who: user, method: 'POST', path: '/api/v1/tasks', body: { ...task, command: x(LIMITS.script + 1) }, field: 'body.command', limit: LIMITS.script },
        { who: user, method: 'POST', path: '/api/v1/tasks', body: { ...task, name: x(LIMITS.name + 1) }, field: 'body.name', limit: LIMITS.name },
        { who: user, method: 'POST', path: '/api/v1/tasks', body: { ...task, env: { A: x(LIMITS.envValue + 1) } }, field: 'body.env.A', limit: LIMITS.envValue },
        { who: user, method: 'POST', path: '/api/v1/tasks',
          body: { ...task, env: Object.fromEntries(names(LIMITS.envEntries + 1).map((n) => [n, '1'])) }, field: 'body.env', limit: LIMITS.envEntries },
        { who: user, method: 'POST', path: '/api/v1/tasks', body: { ...task, image: x(LIMITS.path + 1) }, field: 'body.image', limit: LIMITS.path },
        { who: user, method: 'POST', path: '/api/v1/tasks', body: { ...task, container: { mounts: names(LIMITS.mounts + 1) } },
          field: 'body.container.mounts', limit: LIMITS.mounts },
        { who: user, method: 'POST', path: '/api/v1/tasks', body: { ...task, git: { repository: x(LIMITS.path + 1) } },
          field: 'body.git.repository', limit: LIMITS.path },
        { who: user, method: 'GET', path: `/api/v1/tasks/${x(LIMITS.id + 1)}`, field: 'params.id', limit: LIMITS.id },
        { who: t.agentToken, method: 'POST', path: '/api/v1/workers', body: { id: 'w', queues: names(LIMITS.queuesPerRequest + 1) },
          field: 'body.queues', limit: LIMITS.queuesPerRequest },
        { who: t.agentToken, method: 'POST', path: '/api/v1/workers', body: { id: 'w', queues: ['q'], app: x(LIMITS.name + 1) },
          field: 'body.app', limit: LIMITS.name },
        { who: t.agentToken, method: 'POST', path: '/api/v1/workers/w/dequeue', body: { queues: names(LIMITS.queuesPerRequest + 1) },
          field: 'body.queues', limit: LIMITS.queuesPerRequest },
        { who: t.agentToken, method: 'POST', path: '/api/v1/tasks/t/lease/logs',
          body: { leaseId: 'l', lines: Array.from({ length: LIMITS.logLines + 1 }, () => ({ stream: 'stdout', text: 'a' })) },
          field: 'body.lines', limit: LIMITS.logLines },
        { who: t.agentToken, method: 'POST', path: '/api/v1/tasks/t/lease/logs',
          body: { leaseId: 'l', lines: [{ stream: 'stdout', text: x(LIMITS.logText + 1) }] }, field: 'body.lines.0.text', limit: LIMITS.logText },
        { who: t.agentToken, method: 'POST', path: '/api/v1/tasks/t/lease/release', body: { leaseId: 'l', reason: x(LIMITS.message + 1) },
          field: 'body.reason', limit: LIMITS.message },
        { who: t.agentToken, method: 'POST', path: '/api/v1/tasks/t/lease/heartbeat', body: { leaseId: x(LIMITS.id + 1) },
          field: 'body.leaseId', limit: LIMITS.id },
        { who: admin, method: 'POST', path: '/api/v1/tokens', body: { name: x(LIMITS.name + 1), role: 'user' }, field: 'body.name', limit: LIMITS.name },
        { who: admin, method: 'POST', path: '/api/v1/k8s/wait', body: { queues: names(5000), waitMs: 0 }, field: 'body.queues', limit: LIMITS.queuesPerRequest },
        { who: admin, method: 'POST', path: '/api/v1/k8s/journal', body: { kind: 'k', reason: 'r', detail: { a: x(LIMITS.detailBytes) } },
          field: 'body.detail', limit: LIMITS.detailBytes },
        { who: admin, method: 'GET', path: `/api/v1/k8s/tasks?queues=${names(LIMITS.queuesPerRequest + 1).join(',')}`,
          field: 'query.queues', limit: LIMITS.queuesPerRequest },
        { who: user, method: 'PUT', path: `/api/v1/autoscalers/${x(LIMITS.name + 1)}`, body: {}, field: 'params.name', limit: LIMITS.name },
        // The catch-all, before any schema: a huge list or a deep nest anywhere.
        { who: user, method: 'PUT', path: '/api/v1/autoscalers/a', body: { provider: { settings: { list: names(LIMITS.anyArray + 1) } } },
          field: 'body.provider.settings.list', limit: LIMITS.anyArray },
        { who: user, method: 'PUT', path: '/api/v1/autoscalers/a', body: JSON.parse('{"a":'.repeat(100) + '1' + '}'.repeat(100)),
          field: 'body' + '.a'.repeat(LIMITS.depth), limit: LIMITS.depth },
      ];
      for (const c of cases) {
        const r = await call(t, c.who, c.method, c.path, c.body);
        const what = `${c.method} ${c.path.slice(0, 60)} → ${c.field}`;
        assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body).slice(0, 300)}`);
        const issue = (r.body.issues as { field: string; message: string }[]).find((i) => i.field === c.field);
        assert.ok(issue, `${what}: issues ${JSON.stringify(r.body.issues).slice(0, 300)}`);
        assert.match(issue.message, new RegExp(`\\b${c.limit}\\b`), `${what}: ${issue.message}`);
      }
      // Nothing of it was stored.
      assert.equal((await t.user.listTasks({ queue: 'q' })).length, 0);
    } finally {
      await t.stop();
    }
  });

  test(`${dialect}: a batch of 1,000 bad tasks: a short 400 listing the first issues and how many more`, async () => {
    const t = await startTestControlPlane(dialect);
    try {
      const user = (await t.admin.createToken('u', 'user')).token;
      await t.user.createQueue('q');
      const tasks = Array.from({ length: 1000 }, () => ({ queue: 'q', command: 'true', priority: 'high' }));
      const res = await fetch(`${t.cp.url}/api/v1/tasks/batch`, {
        method: 'POST', body: JSON.stringify({ tasks }), headers: { authorization: `Bearer ${user}`, 'content-type': 'application/json' },
      });
      const text = await res.text();
      assert.equal(res.status, 400);
      // It once listed all 1,000 issues: 60 KB of error text.
      assert.ok(text.length < 5_000, `${text.length} bytes`);
      const issues = JSON.parse(text).issues as { field: string; message: string }[];
      assert.equal(issues.length, 21);
      assert.equal(issues[0].field, 'body.tasks.0.priority');
      assert.match(issues[20].message, /980 more/);
      assert.equal((await t.user.listTasks({ queue: 'q' })).length, 0);
    } finally {
      await t.stop();
    }
  });

  test(`${dialect}: 5,000 queues in one request answer at once and do not hold /healthz`, async () => {
    const t = await startTestControlPlane(dialect);
    try {
      const admin = t.cp.adminToken!;
      const started = Date.now();
      const many = call(t, admin, 'POST', '/api/v1/k8s/wait', { queues: names(5000), ready: names(5000), waitMs: 0 });
      const health = fetch(`${t.cp.url}/healthz`).then(() => Date.now() - started);
      assert.equal((await many).status, 400);
      // The same list in a query string: refused before any work (Node's header limit, 431, or the route's 400).
      const get = await call(t, admin, 'GET', `/api/v1/k8s/tasks?queues=${names(5000).join(',')}`);
      assert.ok(get.status === 400 || get.status === 431, String(get.status));
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
      assert.ok((await health) < 1000);
      // As many queues as allowed, with tasks running on some: one query, quick.
      const allowed = names(LIMITS.queuesPerRequest);
      for (const q of allowed.slice(0, 3)) await t.user.createQueue(q);
      await t.user.createTask({ queue: 'q1', command: 'true' });
      await call(t, admin, 'POST', '/api/v1/k8s/queues/q1/schedule-next', { message: 'pod' });
      const t0 = Date.now();
      const r = await call(t, admin, 'GET', `/api/v1/k8s/tasks?queues=${allowed.join(',')}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.tasks.length, 1);
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    } finally {
      await t.stop();
    }
  });
}
