// Autoscaler apps over the API: validation naming the field, no credentials echoed, schema, delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import { ApiError } from '../../src/client/index.js';
import { applyApp, status } from './helpers.js';

const simApp = {
  name: 'sim',
  provider: { kind: 'simulated', settings: { seed: 1, credentials: { accessKeyId: 'AKIACANARY', secretAccessKey: 'canary-secret' } } },
  resources: [{ name: 'gpu1', instanceType: 'g5.xlarge', pricePerHour: 1.006, maxInstances: 2 }],
  queues: { gpu1: ['gpu1'] },
  timings: { idleTimeoutS: 120, bootTimeoutS: 600, capacityCooldownS: 300 },
} as const;

for (const dialect of DIALECTS) {
  test(`${dialect}: a bad app is refused naming the field, and nothing is stored`, async () => {
    const t = await startTestControlPlane(dialect);
    try {
      const bad = { ...simApp, queues: { gpu1: ['gpu9'] }, resources: [{ ...simApp.resources[0], maxInstances: -1 }] };
      const err = await applyApp(t.user, bad as never).catch((e) => e);
      assert.ok(err instanceof ApiError && err.status === 400);
      const fields = err.issues!.map((i) => i.field);
      assert.ok(fields.includes('body.resources.0.maxInstances'), fields.join());
      assert.equal((await t.user.request<{ apps: unknown[] }>('GET', '/api/v1/autoscalers')).apps.length, 0);
    } finally {
      await t.stop();
    }
  });
}

for (const dialect of DIALECTS) {
  test(`${dialect}: an unknown key is refused naming the key, its path and the nearest known key; nothing is applied`, async () => {
    const t = await startTestControlPlane(dialect);
    const list = async () => (await t.user.request<{ apps: { name: string }[] }>('GET', '/api/v1/autoscalers')).apps;
    try {
      // Top level, on create: not created.
      const top = await applyApp(t.user, { ...simApp, budgett: { maxPerHour: 3 } } as never).catch((e) => e);
      assert.ok(top instanceof ApiError && top.status === 400, String(top));
      assert.deepEqual(top.issues, [{ field: 'body.budgett', message: 'unknown key budgett at the top level; did you mean budget?' }]);
      assert.deepEqual(await list(), []);

      // Nested, on update: the stored app is unchanged.
      await applyApp(t.user, simApp as never);
      const before = await t.user.request('GET', '/api/v1/autoscalers/sim');
      const nested = {
        ...simApp,
        resources: [{ ...simApp.resources[0], maxInstances: 5, maxInstancs: 9 }],
        timings: { ...simApp.timings, idleTimeout: 5 },
      };
      const err = await applyApp(t.user, nested as never).catch((e) => e);
      assert.ok(err instanceof ApiError && err.status === 400, String(err));
      assert.deepEqual(err.issues, [
        { field: 'body.resources.0.maxInstancs', message: 'unknown key maxInstancs at resources[0]; did you mean maxInstances?' },
        { field: 'body.timings.idleTimeout', message: 'unknown key idleTimeout at timings; did you mean idleTimeoutS?' },
      ]);
      assert.deepEqual(await t.user.request('GET', '/api/v1/autoscalers/sim'), before);
      assert.deepEqual((await list()).map((a) => a.name), ['sim']);

      // An app stored before strictness (or by a version that knew a key this one does not) still loads.
      const row = await t.cp.store.kysely.selectFrom('apps').select('config').where('name', '=', 'sim').executeTakeFirstOrThrow();
      const stored = { ...JSON.parse(row.config), retiredKey: 1, budget: { maxInstances: 2, oldCap: 1 } };
      await t.cp.store.kysely.updateTable('apps').set({ config: JSON.stringify(stored) }).where('name', '=', 'sim').execute();
      const loaded = await t.user.request<{ budget: unknown; retiredKey?: unknown }>('GET', '/api/v1/autoscalers/sim');
      assert.deepEqual(loaded.budget, { maxInstances: 2 });
      assert.equal(loaded.retiredKey, undefined);
    } finally {
      await t.stop();
    }
  });
}

test('sqlite: credentials given inline are never echoed; the schema is served; delete stops the instances', async () => {
  const t = await startTestControlPlane('sqlite', { timings: { tickMs: 200, listEveryMs: 200 } });
  try {
    const echoed = JSON.stringify(await applyApp(t.user, simApp as never));
    const shown = JSON.stringify(await t.user.request('GET', '/api/v1/autoscalers/sim'));
    const listed = JSON.stringify(await t.user.request('GET', '/api/v1/autoscalers'));
    for (const body of [echoed, shown, listed]) assert.ok(!body.includes('canary') && !body.includes('AKIACANARY'), body);
    type Obj = { properties: Record<string, { description?: string; default?: unknown }>; required?: string[] };
    const schema = await t.user.request<Obj & { providers: Record<string, { settings: Obj; launch?: Obj }> }>('GET', '/api/v1/autoscaler-schema');
    assert.ok(schema.properties.resources && schema.properties.budget);
    // Each provider kind's own settings and launch fields, from the zod schemas apply validates with (the console's form).
    assert.deepEqual(Object.keys(schema.providers).sort(), ['aws', 'gcp', 'local', 'simulated']);
    const aws = schema.providers.aws;
    assert.deepEqual(aws.settings.required, ['region']);
    assert.match(aws.settings.properties.region.description ?? '', /AWS region/);
    assert.equal(aws.settings.properties.throttleRetries.default, 5);
    assert.ok(aws.launch?.properties.ami && aws.launch.properties.subnets && aws.launch.properties.iamInstanceProfile);
    assert.ok(schema.providers.gcp.settings.properties.project && schema.providers.gcp.launch?.properties.image);
    assert.equal(schema.providers.local.launch, undefined, 'local has no launch block');

    await t.user.createTask({ queue: 'gpu1', command: 'train' });
    await waitFor('an instance', async () => (await status(t.user, 'sim')).instances.length === 1, 15_000);
    await t.user.request('DELETE', '/api/v1/autoscalers/sim');
    const [inst] = await t.cp.store.instances.listAll('sim');
    await waitFor('the instance to be stopped', async () => (await t.cp.store.instances.get(inst.id))?.state === 'terminated', 15_000);
  } finally {
    await t.stop();
  }
});
