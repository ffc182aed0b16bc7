// The bootstrap endpoints a new cloud machine calls, against a real control plane (both stores):
// the one-time trade of its bootstrap token for an agent token, and the agent bundle it downloads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FlotillaClient } from '../src/client/index.js';
import { VERSION } from '../src/version.js';
import { DIALECTS } from './support/stores.js';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { exchange } from './helpers/aws-e2e.js';

/** A launched instance as the reconciler records it, and the bootstrap token its launch made. */
async function launched(t: TestControlPlane, id: string, providerId: string | null, state: 'booting' | 'terminated' = 'booting') {
  const { store } = t.cp;
  await store.instances.create({ id, app: 'a', resource: 'cpu', state: 'requested', launchedAt: Date.now(),
    offering: { instanceType: 't3.micro', market: 'on-demand' }, pricePerHour: 0.01 });
  await store.instances.move(id, 'requested', state, providerId ? { providerId } : {});
  // Bound as the launch binds it (autoscaler/launch.ts): the traded agent token inherits the binding.
  return (await store.tokens.create(`bootstrap ${id}`, 'bootstrap', { scope: id, app: 'a', resource: 'cpu', queues: ['q'], ttlMs: 60_000 })).token;
}

const bundle = (t: TestControlPlane, token: string) =>
  fetch(`${t.cp.url}/api/v1/bootstrap/bundle`, { headers: { authorization: `Bearer ${token}` } });

for (const dialect of DIALECTS) {
  describe(`bootstrap exchange (${dialect})`, () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => t?.stop());

    test('a token is traded once, for an agent token that registers only its own instance', async () => {
      const token = await launched(t, 'a-1', 'i-0aaa');
      const answers = await Promise.all(Array.from({ length: 6 }, () => exchange(t.cp.url, token, 'i-0aaa')));
      const ok = answers.filter((a) => a.status === 200);
      assert.equal(ok.length, 1, `exactly one trade wins: ${answers.map((a) => a.status)}`);
      assert.deepEqual(answers.filter((a) => a.status !== 200).map((a) => a.status), [401, 401, 401, 401, 401]);
      const agent = new FlotillaClient(t.cp.url, ok[0].body.token);
      const { worker } = await agent.register({ id: 'i-0aaa', instanceId: 'i-0aaa', app: 'a', resource: 'cpu', queues: ['q'] });
      assert.equal(worker.id, 'i-0aaa');
      await assert.rejects(agent.register({ id: 'i-0bbb', queues: ['q'] }), (e: any) => e.status === 403);
      // Spent: the bootstrap token opens nothing any more, the bundle included.
      assert.equal((await exchange(t.cp.url, token, 'i-0aaa')).status, 401);
      assert.equal((await bundle(t, token)).status, 401);
    });

    test('a wrong instance id is refused with 403 and does not spend the token', async () => {
      const token = await launched(t, 'a-2', 'i-0ccc');
      const wrong = await exchange(t.cp.url, token, 'i-0ddd');
      assert.equal(wrong.status, 403);
      assert.match(wrong.body.error, /belongs to instance i-0ccc, not i-0ddd/);
      assert.equal((await exchange(t.cp.url, token, 'i-0ccc')).status, 200);
    });

    test('too early (no cloud id yet) or too late (terminated): 403', async () => {
      const early = await launched(t, 'a-3', null);
      assert.match((await exchange(t.cp.url, early, 'i-0eee')).body.error, /no cloud id recorded yet; try again/);
      await t.cp.store.instances.update('a-3', { providerId: 'i-0eee' });
      assert.equal((await exchange(t.cp.url, early, 'i-0eee')).status, 200, 'the early machine may ask again');
      const late = await launched(t, 'a-4', 'i-0fff', 'terminated');
      const r = await exchange(t.cp.url, late, 'i-0fff');
      assert.equal(r.status, 403);
      assert.match(r.body.error, /not running/);
    });

    test('other tokens cannot trade; bootstrap tokens cannot call other endpoints', async () => {
      const token = await launched(t, 'a-5', 'i-0abc');
      const { token: userToken } = await t.admin.createToken('someone', 'user');
      const user = await exchange(t.cp.url, userToken, 'i-0abc');
      assert.equal(user.status, 403);
      const boot = new FlotillaClient(t.cp.url, token);
      await assert.rejects(boot.listQueues(), (e: any) => e.status === 403);
      await assert.rejects(boot.register({ id: 'i-0abc', queues: ['q'] }), (e: any) => e.status === 403);
      assert.equal((await exchange(t.cp.url, 'flt_not-a-token-at-all', 'i-0abc')).status, 401);
    });
  });
}

describe('agent bundle', () => {
  let t: TestControlPlane;
  let dir: string;
  before(async () => {
    t = await startTestControlPlane('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'flotilla-bundle-'));
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('is this build: it unpacks and runs `flotilla --version` with production packages only', async () => {
    assert.ok(existsSync('dist/src/cli/main.js'), 'build first: npx tsc -p tsconfig.json');
    const token = await launched(t, 'b-1', 'i-0b01');
    // Two machines asking at once share one build.
    const [a, b] = await Promise.all([bundle(t, token), bundle(t, token)]);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('content-type'), 'application/gzip');
    const bytes = Buffer.from(await a.arrayBuffer());
    assert.ok(Buffer.from(await b.arrayBuffer()).equals(bytes));
    assert.equal(Number(a.headers.get('content-length')), bytes.length);
    writeFileSync(join(dir, 'bundle.tar.gz'), bytes);
    const unpack = spawnSync('tar', ['-xzf', 'bundle.tar.gz'], { cwd: dir });
    assert.equal(unpack.status, 0, String(unpack.stderr));
    for (const f of ['package.json', 'package-lock.json', 'dist/src/cli/main.js', 'node_modules/fastify', 'node_modules/zod'])
      assert.ok(existsSync(join(dir, f)), `${f} is in the bundle`);
    for (const f of ['node_modules/typescript', 'node_modules/tsx', 'dist/test', 'src'])
      assert.ok(!existsSync(join(dir, f)), `${f} (development only) is not in the bundle`);
    const run = spawnSync(process.execPath, [join(dir, 'dist/src/cli/main.js'), '--version'], { cwd: dir, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), VERSION);
  });

  test('is built once and cached in the data dir', async () => {
    const token = await launched(t, 'b-2', 'i-0b02');
    const cached = readdirSync(join(t.dataDir, 'bundles'));
    assert.equal(cached.length, 1);
    assert.match(cached[0], new RegExp(`^flotilla-agent-${VERSION.replace(/\./g, '\\.')}-[0-9a-f]{16}\\.tar\\.gz$`));
    assert.equal((await bundle(t, token)).status, 200);
    assert.deepEqual(readdirSync(join(t.dataDir, 'bundles')), cached);
  });
});
