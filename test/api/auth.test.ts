// Auth and validation at the HTTP edge: 401 without a valid token, 403 for the wrong role, 400 naming
// each bad field with nothing written, and the open or served documents (/healthz, /openapi.json, /metrics).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { ApiError, FlotillaClient } from '../../src/client/index.js';

async function call(t: TestControlPlane, method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(t.cp.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, type: res.headers.get('content-type') ?? '' };
}

const issueFields = (json: any) => (json.issues as { field: string }[]).map((i) => i.field).sort();

describe('auth and validation', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    let t: TestControlPlane;
    let userToken: string;
    before(async () => {
      t = await startTestControlPlane(dialect);
      userToken = (await t.admin.createToken('alice', 'user')).token;
      await t.user.createQueue('q');
    });
    after(() => t.stop());

    test('every API route wants a token: 401 without one and with a bad one', async () => {
      for (const [method, path] of [['GET', '/api/v1/queues'], ['POST', '/api/v1/tasks'], ['GET', '/api/v1/tokens'],
        ['POST', '/api/v1/workers/w/dequeue'], ['GET', '/openapi.json'], ['GET', '/metrics']]) {
        const none = await call(t, method, path);
        assert.equal(none.status, 401, `${method} ${path} without a token`);
        assert.match(none.json.error, /missing bearer token/);
        const bad = await call(t, method, path, 'flt_not-a-real-token');
        assert.equal(bad.status, 401, `${method} ${path} with a bad token`);
        assert.match(bad.json.error, /not valid/);
      }
    });

    test('wrong role: 403 for a user token on token routes and agent routes, an agent token on user routes', async () => {
      const cases: [string, string, string, unknown?][] = [
        [userToken, 'POST', '/api/v1/tokens', { name: 'x', role: 'admin' }],
        [userToken, 'GET', '/api/v1/tokens'],
        [userToken, 'POST', '/api/v1/workers', { id: 'w', queues: ['q'] }],
        [userToken, 'POST', '/api/v1/workers/w/dequeue', { waitMs: 0 }],
        [t.agentToken, 'GET', '/api/v1/queues'],
        [t.agentToken, 'POST', '/api/v1/tasks', { queue: 'q', command: 'true' }],
        [t.agentToken, 'GET', '/api/v1/tasks'],
        [t.agentToken, 'POST', '/api/v1/tokens', { name: 'x', role: 'admin' }],
        [t.agentToken, 'GET', '/metrics'],
      ];
      for (const [token, method, path, body] of cases) {
        const r = await call(t, method, path, token, body);
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.match(r.json.error, /may not call/);
      }
      assert.equal((await t.admin.listTasks()).length, 0, 'the refused create wrote nothing');
      assert.equal((await t.admin.listTokens()).some((x) => x.name === 'x'), false);
    });

    test("an agent token may not act for a worker another token registered", async () => {
      const other = (await t.admin.createToken('other-agents', 'agent')).token;
      await new FlotillaClient(t.cp.url, t.agentToken).register({ id: 'owned', queues: ['q'] });
      const r = await call(t, 'POST', '/api/v1/workers/owned/dequeue', other, { waitMs: 0 });
      assert.equal(r.status, 403);
      assert.match(r.json.error, /registered with another token/);
    });

    test('400 names each bad field and why; nothing is written', async () => {
      const before = (await t.admin.listTasks()).length;
      const r = await call(t, 'POST', '/api/v1/tasks', userToken,
        { queue: 'no spaces!', priority: 'high', maxAttempts: 0, env: { '1BAD': 'x' }, command: 'true' });
      assert.equal(r.status, 400);
      assert.deepEqual(issueFields(r.json), ['body.env.1BAD', 'body.maxAttempts', 'body.priority', 'body.queue']);
      for (const i of r.json.issues) assert.ok(i.message.length > 0, `${i.field} says why`);
      assert.match(r.json.error, /body\.queue: use letters, digits/);

      const noCommand = await call(t, 'POST', '/api/v1/tasks', userToken, { queue: 'q' });
      assert.equal(noCommand.status, 400);
      assert.deepEqual(issueFields(noCommand.json), ['body.command']);
      assert.match(noCommand.json.issues[0].message, /give a command/);

      const badQuery = await call(t, 'GET', '/api/v1/tasks?limit=0&status=done', userToken);
      assert.equal(badQuery.status, 400);
      assert.deepEqual(issueFields(badQuery.json), ['query.limit', 'query.status']);

      const badQueue = await call(t, 'POST', '/api/v1/queues', userToken, { name: '' });
      assert.equal(badQueue.status, 400);
      assert.deepEqual(issueFields(badQueue.json), ['body.name']);

      const missingQueue = await call(t, 'POST', '/api/v1/tasks', userToken, { queue: 'nope', command: 'true' });
      assert.equal(missingQueue.status, 404);
      assert.match(missingQueue.json.error, /flotilla queue create nope/);

      assert.equal((await t.admin.listTasks()).length, before, 'the task count is unchanged');
      assert.deepEqual((await t.admin.listQueues()).map((q) => q.name), ['q']);
    });

    test('/healthz is open; /openapi.json and /metrics are served to a token', async () => {
      const health = await call(t, 'GET', '/healthz');
      assert.equal(health.status, 200);
      assert.equal(health.json.ok, true);

      const doc = await call(t, 'GET', '/openapi.json', userToken);
      assert.equal(doc.status, 200);
      assert.equal(doc.json.openapi, '3.1.0');
      for (const p of ['/api/v1/tasks', '/api/v1/queues', '/api/v1/workers/{workerId}/dequeue', '/api/v1/tasks/{id}/lease/finish'])
        assert.ok(doc.json.paths[p], `the document describes ${p}`);
      assert.ok(doc.json.paths['/api/v1/tasks'].post.requestBody, 'with the request body schema');

      await t.user.createQueue('metered');
      for (let i = 0; i < 3; i++) await t.user.createTask({ queue: 'metered', command: 'true' });
      const aborted = await t.user.createTask({ queue: 'metered', command: 'true' });
      await t.user.abortTask(aborted.id);
      const m = await call(t, 'GET', '/metrics', userToken);
      assert.equal(m.status, 200);
      assert.match(m.type, /text\/plain/);
      assert.match(m.text, /^flotilla_queue_depth\{queue="metered"\} 3$/m);
      assert.match(m.text, /^flotilla_tasks\{queue="metered",status="queued"\} 3$/m);
      assert.match(m.text, /^flotilla_tasks\{queue="metered",status="aborted"\} 1$/m);
      assert.match(m.text, /^# TYPE flotilla_dequeue_wait_seconds histogram$/m);
    });

    test('the client surfaces the status, message and fields of a refusal', async () => {
      const err = await t.user.createTask({ queue: 'q', command: 'true', priority: 5000 }).catch((e) => e);
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 400);
      assert.deepEqual(err.issues?.map((i) => i.field), ['body.priority']);
    });
  });
});
