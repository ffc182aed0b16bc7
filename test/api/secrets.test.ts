// Secrets API on both dialects: written by admins, listed without values, sealed at rest, and opened
// only for the agent token that registered a worker of the app that uses them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { startTestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { ApiError, FlotillaClient } from '../../src/client/index.js';
import { AppConfigSchema } from '../../src/domain/autoscaler/config.js';

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('the request was expected to fail');
}

const app = (execution: Record<string, string>) => AppConfigSchema.parse({
  name: 'gpu-app', provider: { kind: 'local' }, queues: { q: ['small'] }, execution,
  resources: [{ name: 'small', instanceType: 'local', pricePerHour: 0, maxInstances: 1 }],
});

for (const dialect of DIALECTS) {
  describe(`${dialect}: secrets API`, () => {
    test('values are sealed at rest, never listed, and only admins write them', async () => {
      const t = await startTestControlPlane(dialect);
      try {
        const canary = `canary-${randomBytes(8).toString('hex')}`;
        assert.equal(statSync(join(t.dataDir, 'secret-key')).mode & 0o777, 0o600);
        const put = await t.admin.putSecret('repo', 'git', { username: 'alice', password: canary });
        assert.deepEqual(put, { name: 'repo', kind: 'git', created: true });
        assert.equal((await t.admin.putSecret('repo', 'git', { username: 'alice', password: canary })).created, false);

        const listed = await t.user.listSecrets();
        assert.deepEqual(listed.map((s) => [s.name, s.kind]), [['repo', 'git']]);
        assert.ok(!JSON.stringify(listed).includes(canary));
        const raw = await sql<{ name: string; ciphertext: string }>`select * from secrets`.execute(t.cp.store.kysely);
        assert.equal(raw.rows.length, 1);
        assert.ok(!JSON.stringify(raw.rows).includes(canary), 'the raw row holds the value in clear');
        assert.match(raw.rows[0]!.ciphertext, /^v1:/);

        assert.equal((await apiError(t.user.putSecret('x', 'git', { username: 'a', password: 'b' }))).status, 403);
        assert.equal((await apiError(t.user.deleteSecret('repo'))).status, 403);
        const bad = await apiError(t.admin.putSecret('x', 'git', { username: 'a' }));
        assert.equal(bad.status, 400);
        assert.deepEqual(bad.issues?.map((i) => i.field), ['body.value.password']);

        // The console's secret form reads each kind's keys from the schemas a write is checked with (admin only).
        type Kinds = { kinds: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
        const kinds = (await t.admin.request<Kinds>('GET', '/api/v1/secret-kinds')).kinds;
        assert.deepEqual(kinds.git.required, ['username', 'password']);
        assert.deepEqual(Object.keys(kinds.aws.properties ?? {}), ['accessKeyId', 'secretAccessKey', 'sessionToken', 'region']);
        assert.ok(kinds.storage && kinds.clearml && kinds.generic);
        assert.equal((await apiError(t.user.request('GET', '/api/v1/secret-kinds'))).status, 403);

        await t.admin.deleteSecret('repo');
        assert.deepEqual(await t.user.listSecrets(), []);
        assert.equal((await apiError(t.admin.deleteSecret('repo'))).status, 404);
      } finally {
        await t.stop();
      }
    });

    test("an agent gets its app's git and storage secrets, and only for the worker it registered", async () => {
      const t = await startTestControlPlane(dialect);
      try {
        const git = { username: 'bot', password: `pw-${randomBytes(6).toString('hex')}`, host: 'git.example.com' };
        const storage = { aws: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: `sk-${randomBytes(6).toString('hex')}` } };
        await t.admin.putSecret('repo', 'git', git);
        await t.admin.putSecret('bucket', 'storage', storage);
        await t.cp.store.apps.put(app({ gitSecret: 'repo', storageSecret: 'bucket' }));

        // An agent token the admin bound to the app (a hand-made one has none: test/api/agent-scope.test.ts).
        const agent = new FlotillaClient(t.cp.url, (await t.admin.createToken('gpu agents', 'agent', undefined, { app: 'gpu-app' })).token);
        await agent.register({ id: 'w1', queues: ['q'], app: 'gpu-app' });
        assert.deepEqual(await agent.workerSecrets('w1'), { git, storage });

        await agent.register({ id: 'plain', queues: ['q'] });
        assert.deepEqual(await agent.workerSecrets('plain'), {});

        const other = new FlotillaClient(t.cp.url, (await t.admin.createToken('other', 'agent')).token);
        assert.equal((await apiError(other.workerSecrets('w1'))).status, 403);
        assert.equal((await apiError(t.admin.workerSecrets('w1'))).status, 403, 'not even an admin token reads them');
        assert.equal((await apiError(t.user.workerSecrets('w1'))).status, 403);

        await t.admin.putSecret('bucket', 'git', git);
        const wrongKind = await apiError(agent.workerSecrets('w1'));
        assert.equal(wrongKind.status, 409);
        assert.match(wrongKind.message, /execution\.storageSecret names secret "bucket" of kind git; it must be of kind storage/);
        await t.admin.deleteSecret('bucket');
        assert.match((await apiError(agent.workerSecrets('w1'))).message, /flotilla secret set bucket --kind storage/);
      } finally {
        await t.stop();
      }
    });
  });
}
