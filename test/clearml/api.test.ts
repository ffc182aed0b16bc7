// The ClearML API's edges, on both stores, with plain HTTP: the envelope, login (and what it costs), GET requests
// with JSON bodies, versioned and unversioned URLs, json-lines events, refusals in ClearML's shape, never a 500.
import { test } from 'node:test';
import { request } from 'node:http';
import assert from 'node:assert/strict';
import { startTestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';

/** node:http, not fetch: fetch refuses a GET with a body, which is what clearml-agent sends. */
function call(url: string, o: { method?: string; auth?: string; body?: string; type?: string } = {}) {
  return new Promise<{ status: number; json: { meta: { result_code: number; result_msg: string; endpoint: { name: string } }; data: any } }>((resolve, reject) => {
    const req = request(url, {
      method: o.method ?? 'GET',
      headers: { ...(o.auth ? { authorization: o.auth } : {}), ...(o.body !== undefined ? { 'content-type': o.type ?? 'application/json', 'content-length': Buffer.byteLength(o.body) } : {}),
        'x-clearml-worker': 'host-a' },
    }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b));
      res.on('end', () => { try { resolve({ status: res.statusCode!, json: JSON.parse(text) }); } catch (e) { reject(new Error(`${res.statusCode}: ${text}`)); } });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

for (const dialect of DIALECTS) {
  test(`${dialect}: the ClearML API speaks ClearML, and refuses in ClearML's shape`, async () => {
    const t = await startTestControlPlane(dialect);
    try {
      const api = `${t.cp.url}/clearml`;
      const tok = await t.admin.createToken('cml', 'agent');
      const basic = `Basic ${Buffer.from(`${tok.id}:${tok.token}`).toString('base64')}`;

      // Login: a JWT the agent decodes, more than 12 h ahead; wrong keys: 401 in the envelope.
      const login = await call(`${api}/auth.login`, { auth: basic });
      assert.equal(login.status, 200);
      const jwt: string = login.json.data.token;
      const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
      assert.equal(claims.feature_set, 'basic');
      assert.ok(claims.api_version && claims.server_version && claims.identity.user === tok.id);
      assert.ok(claims.exp * 1000 > Date.now() + 12 * 3600_000);
      const wrong = await call(`${api}/auth.login`, { auth: `Basic ${Buffer.from(`${tok.id}:flt_wrong`).toString('base64')}` });
      assert.equal(wrong.status, 401);
      assert.match(wrong.json.meta.result_msg, /flotilla token create --role agent --clearml/);

      // Login is cheap: the agent logs in again on every log flush.
      const n = 200;
      const started = performance.now();
      for (let i = 0; i < n; i++) await call(`${api}/auth.login`, { auth: basic });
      console.log(`# ${dialect}: auth.login ${((performance.now() - started) / n).toFixed(2)} ms per call over HTTP (${n} calls)`);

      const bearer = `Bearer ${jwt}`;
      await t.admin.createQueue('cq');
      await t.user.createTask({ queue: 'cq', command: 'echo hi' });
      // A GET with a JSON body, versioned and not.
      for (const path of ['/queues.get_all', '/v2.14/queues.get_all']) {
        const r = await call(`${api}${path}`, { auth: bearer, body: JSON.stringify({ name: 'cq' }) });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.meta.endpoint.name, 'queues.get_all');
        assert.deepEqual(r.json.data.queues.map((q: { name: string }) => q.name), ['cq']);
        assert.equal(r.json.data.queues[0].entries.length, 1);
      }

      // Anything else: ClearML's "endpoint not found", never a 500; no session: 401; bad bodies: 400.
      const unknown = await call(`${api}/projects.get_all`, { auth: bearer, body: '{}' });
      assert.equal(unknown.status, 404);
      assert.match(unknown.json.meta.result_msg, /Unable to find endpoint for name projects.get_all/);
      assert.equal((await call(`${api}/not-an-endpoint`)).json.meta.result_code, 404);
      assert.equal((await call(`${api}/queues.get_all`, { body: '{}' })).status, 401);
      const bad = await call(`${api}/queues.get_all`, { auth: bearer, body: '{"name": ' });
      assert.equal(bad.status, 400);
      const nul = await call(`${api}/queues.get_by_id`, { auth: bearer, body: JSON.stringify({ queue: 'c\u0000q' }) });
      assert.equal(nul.status, 400);
      assert.match(nul.json.meta.result_msg, /body\.queue: must not contain U\+0000/);

      // The dequeue and a json-lines batch of log lines, masked of the session token.
      await call(`${api}/workers.register`, { method: 'POST', auth: bearer, body: JSON.stringify({ worker: 'w-a', queues: ['cq'] }) });
      const next = await call(`${api}/queues.get_next_task`, { auth: bearer, body: JSON.stringify({ queue: 'cq' }) });
      const task: string = next.json.data.entry.task;
      assert.match(task, /^[0-9a-f]{32}$/);
      const lines = [{ type: 'log', task, worker: 'w-a', msg: 'first line\n' }, { type: 'log', task, worker: 'w-a', msg: `token ${jwt}` }]
        .map((e) => JSON.stringify(e)).join('\n');
      const batch = await call(`${api}/events.add_batch`, { method: 'POST', auth: bearer, body: lines, type: 'application/json-lines' });
      assert.equal(batch.json.data.added, 2);
      const flotillaId = task.replace(/^0*1/, '');
      const logs = (await t.admin.logs(flotillaId)).lines.map((l: { text: string }) => l.text).join('');
      assert.match(logs, /first line/);
      assert.ok(!logs.includes(jwt), 'the session token is masked');
      const got = await call(`${api}/tasks.get_all`, { auth: bearer, body: JSON.stringify({ id: [task], only_fields: ['status'] }) });
      assert.deepEqual(got.json.data.tasks, [{ id: task, status: 'in_progress' }]);
      const done = await call(`${api}/tasks.completed`, { method: 'POST', auth: bearer, body: JSON.stringify({ task }) });
      assert.equal(done.status, 200);
      assert.equal((await t.admin.getTask(flotillaId)).status, 'completed');
      // A second end is ClearML's "invalid task status", not a 500.
      assert.equal((await call(`${api}/tasks.completed`, { method: 'POST', auth: bearer, body: JSON.stringify({ task }) })).status, 400);

      // A revoked token's sessions end with it.
      await t.admin.revokeToken(tok.id);
      assert.equal((await call(`${api}/queues.get_all`, { auth: bearer, body: '{}' })).status, 401);
    } finally {
      await t.stop();
    }
  });
}
