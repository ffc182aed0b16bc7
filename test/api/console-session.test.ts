// The console's sign-in as a browser sees it, on both stores: an HttpOnly SameSite=Strict cookie, the token's role,
// the console header required on changes, and sign-out revoking the session on the server. Also the console's
// files at `/`: the page that says how to build it, the single-page fallback and the cache headers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { signIn } from '../support/console.js';

for (const dialect of DIALECTS) {
  describe(`${dialect}: console session`, () => {
    let t: TestControlPlane;
    let userToken: string;
    before(async () => {
      t = await startTestControlPlane(dialect);
      userToken = (await t.admin.createToken('alice', 'user')).token;
    });
    after(() => t.stop());

    test('sign in sets an HttpOnly SameSite=Strict cookie; the session acts with the token\'s role', async () => {
      const s = await signIn(t.cp.url, userToken);
      assert.match(s.setCookie, /^flotilla_session=[A-Za-z0-9_-]{40,};/);
      for (const part of ['HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(s.setCookie.includes(part), `${part} in ${s.setCookie}`);
      assert.ok(!s.setCookie.includes('Secure'), 'no Secure flag over plain http');
      assert.deepEqual(await (await s.call('GET', '/api/v1/session')).json(), { name: 'alice', role: 'user' });
      assert.equal((await s.call('GET', '/api/v1/queues')).status, 200);
      // Only a hash of the session id is stored.
      const rows = await t.cp.store.kysely.selectFrom('sessions').selectAll().execute();
      assert.ok(rows.length >= 1 && rows.every((r) => !s.cookie.includes(r.hash)));
    });

    test('a change with the cookie needs the console header; a user session is refused the admin routes', async () => {
      const s = await signIn(t.cp.url, userToken);
      const noHeader = await s.call('POST', '/api/v1/queues', { name: 'csrf' }, { header: false });
      assert.equal(noHeader.status, 403);
      assert.match((await noHeader.json()).error, /x-flotilla-console: 1/i);
      assert.equal((await t.admin.listQueues()).some((q) => q.name === 'csrf'), false, 'nothing was created');
      assert.equal((await s.call('POST', '/api/v1/queues', { name: 'csrf' })).status, 201);
      assert.equal((await s.call('GET', '/api/v1/tokens')).status, 403);
      assert.equal((await s.call('POST', '/api/v1/tokens', { name: 'x', role: 'admin' })).status, 403);
      assert.equal((await s.call('PUT', '/api/v1/secrets/git', { kind: 'git', value: { username: 'a', password: 'b' } })).status, 403);
    });

    test('sign-out revokes the session on the server: the same cookie is refused afterwards', async () => {
      const s = await signIn(t.cp.url, userToken);
      const out = await s.call('DELETE', '/api/v1/session');
      assert.equal(out.status, 204);
      assert.match(out.headers.get('set-cookie') ?? '', /flotilla_session=;.*Max-Age=0/);
      const again = await s.call('GET', '/api/v1/session');
      assert.equal(again.status, 401);
      assert.match((await again.json()).error, /sign in again/);
      assert.equal((await s.call('GET', '/api/v1/queues')).status, 401);
    });

    test('bad tokens and agent tokens cannot sign in; a revoked token ends its sessions', async () => {
      const bad = await fetch(`${t.cp.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'flt_nope' }) });
      assert.equal(bad.status, 401);
      const agent = await fetch(`${t.cp.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: t.agentToken }) });
      assert.equal(agent.status, 403);
      const made = await t.admin.createToken('bob', 'admin');
      const s = await signIn(t.cp.url, made.token);
      assert.equal((await s.call('GET', '/api/v1/tokens')).status, 200, 'an admin session may');
      await t.admin.revokeToken(made.id);
      assert.equal((await s.call('GET', '/api/v1/session')).status, 401);
    });
  });
}

describe('console files', () => {
  let t: TestControlPlane;
  const dist = mkdtempSync(join(tmpdir(), 'flotilla-web-'));
  const web = join(dist, 'web');
  before(async () => {
    t = await startTestControlPlane('sqlite', { consoleDir: web });
  });
  after(async () => {
    await t.stop();
    rmSync(dist, { recursive: true, force: true });
  });

  test('without a build, / says how to build the console; unknown API paths stay JSON 404s', async () => {
    const home = await fetch(`${t.cp.url}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /not built.*npm run build/s);
    const api = await fetch(`${t.cp.url}/api/v1/nope`);
    assert.equal(api.status, 404);
    assert.match((await api.json()).error, /no such endpoint/);
  });

  test('a build is served with the single-page fallback; hashed assets are immutable, index.html revalidated', async () => {
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>console</title><div id="root"></div>');
    writeFileSync(join(web, 'assets', 'index-abc123.js'), 'console.log(1)');
    for (const path of ['/', '/apps/gpu', '/tasks/abc?x=1']) {
      const r = await fetch(`${t.cp.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.match(await r.text(), /<title>console<\/title>/);
      assert.equal(r.headers.get('cache-control'), 'no-cache', path);
    }
    const asset = await fetch(`${t.cp.url}/assets/index-abc123.js`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await fetch(`${t.cp.url}/assets/missing-1.js`)).status, 404);
    assert.equal((await fetch(`${t.cp.url}/api/v1/tasks`)).status, 401, 'the API still needs a caller');
    assert.equal((await fetch(`${t.cp.url}/clearml/x`)).status, 404);
  });
});
