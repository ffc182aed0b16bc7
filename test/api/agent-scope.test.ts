// Who may register which worker, and which token reads which app's secrets (issue 13, defects 2 and 4), on
// both stores. Every kind of agent token, minted the way the product mints it (a local worker's and a cloud
// machine's by the launch code, the cloud one traded by the bootstrap exchange, a pod's by the k8s route, a
// hand-made one by `token create` with and without --app), against every registration field out of its scope,
// then the secrets read. And: another token's live worker is not taken over (409, nothing changed).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, FlotillaClient } from '../../src/client/index.js';
import { AppConfigSchema, type AppConfig } from '../../src/domain/autoscaler/config.js';
import { launchRequest } from '../../src/autoscaler/launch.js';
import { DIALECTS } from '../support/stores.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { exchange } from '../helpers/aws-e2e.js';

async function status(p: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await p;
    return { status: 200, message: '' };
  } catch (e) {
    if (e instanceof ApiError) return { status: e.status, message: e.message };
    throw e;
  }
}

type Reg = Parameters<FlotillaClient['register']>[0];
const cases = (...c: [Reg, RegExp][]) => c;

const offering = { instanceType: 'local', market: 'on-demand' } as const;
const alpha = AppConfigSchema.parse({
  name: 'alpha', provider: { kind: 'local' }, queues: { qa: ['small'], qb: ['big'] },
  execution: { gitSecret: 'alpha-git' },
  resources: [
    { name: 'small', instanceType: 'local', pricePerHour: 0, maxInstances: 1 },
    { name: 'big', instanceType: 'local', pricePerHour: 0, maxInstances: 1 },
  ],
});
const beta = AppConfigSchema.parse({
  name: 'beta', provider: { kind: 'local' }, queues: { qbeta: ['small'] }, execution: { gitSecret: 'beta-git' },
  resources: [{ name: 'small', instanceType: 'local', pricePerHour: 0, maxInstances: 1 }],
});
const alphaGit = { username: 'alpha-bot', password: 'alpha-pw' };
const betaGit = { username: 'beta-bot', password: 'beta-pw' };

/** A local worker's token, as the launch code mints it for instance `id` of alpha's `small`. */
async function localToken(t: TestControlPlane, id: string): Promise<string> {
  const req = await launchRequest({ store: t.cp.store, serverUrl: t.cp.url, controlPlaneId: 'cp' }, alpha,
    alpha.resources[0]!, id, offering);
  return req.agent!.token;
}

/** A cloud machine's token: its launch mints the bootstrap token, the machine trades it for `providerId`. */
async function cloudToken(t: TestControlPlane, id: string, providerId: string): Promise<string> {
  let bootstrap = '';
  await launchRequest({
    store: t.cp.store, serverUrl: t.cp.url, controlPlaneId: 'cp',
    renderStartupScript: (i) => { bootstrap = i.bootstrapToken; return '#!/bin/sh\n'; },
  }, alpha, alpha.resources[0]!, id, offering);
  await t.cp.store.instances.create({ id, app: 'alpha', resource: 'small', launchedAt: Date.now(), offering, pricePerHour: 0 });
  await t.cp.store.instances.move(id, 'requested', 'booting', { providerId });
  const traded = await exchange(t.cp.url, bootstrap, providerId);
  assert.equal(traded.status, 200, JSON.stringify(traded.body));
  return traded.body.token;
}

/** Registrations that step out of an instance token's scope in one field each, and the words of the 403. */
function outsideOf(id: string) {
  const ok = { id, instanceId: id, app: 'alpha', resource: 'small', queues: ['qa'] };
  return {
    ok,
    outside: [
      [{ ...ok, app: 'beta' }, /app "beta" is out of this token's scope: it is bound to app "alpha"/],
      [{ ...ok, resource: 'big' }, /resource "big" is out of this token's scope/],
      [{ ...ok, id: `${id}-other` }, /worker id "[^"]+" is out of this token's scope/],
      [{ ...ok, instanceId: 'i-someone-else' }, /instanceId "i-someone-else" is out of this token's scope/],
      [{ ...ok, queues: ['qb'] }, /queue "qb" is out of this token's scope/],
      [{ ...ok, queues: ['qa', 'qbeta'] }, /queue "qbeta" is out of this token's scope/],
    ] as [Reg, RegExp][],
  };
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: agent token scope`, () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect);
      await t.admin.putSecret('alpha-git', 'git', alphaGit);
      await t.admin.putSecret('beta-git', 'git', betaGit);
      await t.cp.store.apps.put(alpha);
      await t.cp.store.apps.put(beta);
    });
    after(async () => t?.stop());

    for (const kind of ['local worker', 'cloud machine'] as const) {
      test(`a ${kind}'s token registers only its instance, app, resource and queues, and reads only its app's secrets`, async () => {
        const id = `inst-${kind === 'local worker' ? 'l' : 'c'}`;
        const workerId = kind === 'local worker' ? id : `i-0${id}`;
        const agent = new FlotillaClient(t.cp.url, kind === 'local worker' ? await localToken(t, id) : await cloudToken(t, id, workerId));
        const { ok, outside } = outsideOf(workerId);
        for (const [reg, words] of outside) {
          const got = await status(agent.register(reg));
          assert.equal(got.status, 403, `${JSON.stringify(reg)}: ${got.status} ${got.message}`);
          assert.match(got.message, words);
        }
        assert.equal((await t.user.listWorkers(true)).length, 0, 'a refused registration leaves no worker');
        await agent.register(ok);
        assert.deepEqual(await agent.workerSecrets(workerId), { git: alphaGit });
        // Its worker takes only from the queues it registered.
        assert.match((await status(agent.dequeue(workerId, { queues: ['qbeta'], waitMs: 0 }))).message, /queue "qbeta" is out of this worker's scope/);
        assert.equal((await status(agent.dequeue(workerId, { queues: ['qa'], waitMs: 0 }))).status, 200);
        await agent.stopWorker(workerId);
        await t.cp.store.kysely.deleteFrom('workers').execute();
      });
    }

    test("a pod's token registers for its task's queue only, with no app, instance or secrets", async () => {
      await t.admin.createQueue('podq');
      const task = await t.admin.createTask({ queue: 'podq', command: 'true' });
      await t.admin.k8sScheduleNext('podq', 'pod');
      const pod = new FlotillaClient(t.cp.url, (await t.admin.k8sTaskToken(task.id, 600)).token);
      for (const [reg, words] of cases(
        [{ id: 'pod-1', queues: ['qa'] }, /queue "qa" is out of this token's scope: it may serve "podq"/],
        [{ id: 'pod-1', queues: ['podq'], app: 'alpha' }, /app "alpha" is out of this token's scope: it is bound to no app/],
        [{ id: 'pod-1', queues: ['podq'], instanceId: 'inst-x' }, /instanceId "inst-x" is out of this token's scope/],
      )) {
        const got = await status(pod.register(reg));
        assert.equal(got.status, 403, JSON.stringify(reg));
        assert.match(got.message, words);
      }
      await pod.register({ id: 'pod-1', queues: ['podq'] });
      assert.deepEqual(await pod.workerSecrets('pod-1'), {});
    });

    test('a hand-made agent token has no app: it registers no app worker and reads no app secrets', async () => {
      const plain = new FlotillaClient(t.cp.url, t.agentToken);
      for (const [reg, words] of cases(
        [{ id: 'h-1', queues: ['qa'], app: 'alpha' }, /app "alpha" is out of this token's scope: it is bound to no app \(an admin can grant one/],
        [{ id: 'h-1', queues: ['qa'], resource: 'small' }, /resource "small" is out of this token's scope/],
        [{ id: 'h-1', queues: ['qa'], instanceId: 'inst-l' }, /instanceId "inst-l" is out of this token's scope/],
      )) {
        const got = await status(plain.register(reg));
        assert.equal(got.status, 403, JSON.stringify(reg));
        assert.match(got.message, words);
      }
      await plain.register({ id: 'h-1', queues: ['qa', 'anything'] });
      assert.deepEqual(await plain.workerSecrets('h-1'), {});
      // A worker of an app that such a token registered before tokens had a binding: its secrets stay closed.
      const tokenId = (await t.admin.listTokens()).find((x) => x.name === 'agents')!.id;
      await t.cp.ctx.queue.register({ id: 'h-old', queues: ['qa'], app: 'alpha', tokenId });
      assert.match((await status(plain.workerSecrets('h-old'))).message, /app "alpha" is out of this token's scope: it is bound to no app/);
    });

    test("an admin grants a hand-made token one app: its workers, any of its resources, the queues it maps to them", async () => {
      assert.equal((await status(t.user.createToken('x', 'agent', undefined, { app: 'alpha' }))).status, 403, 'admin only');
      assert.equal((await status(t.admin.createToken('x', 'user', undefined, { app: 'alpha' }))).status, 400, 'agent tokens only');
      assert.equal((await status(t.admin.createToken('x', 'agent', undefined, { app: 'nope' }))).status, 404, 'an app that exists');
      const created = await t.admin.createToken('alpha agents', 'agent', undefined, { app: 'alpha' });
      assert.equal(created.app, 'alpha');
      const granted = new FlotillaClient(t.cp.url, created.token);
      for (const [reg, words] of cases(
        [{ id: 'g-1', queues: ['qbeta'], app: 'beta' }, /app "beta" is out of this token's scope: it is bound to app "alpha"/],
        [{ id: 'g-1', queues: ['qbeta'], app: 'alpha' }, /queue "qbeta" is out of this token's scope: app "alpha" does not map it to any resource/],
        [{ id: 'g-1', queues: ['qa'], app: 'alpha', resource: 'big' }, /queue "qa" is out of this token's scope: app "alpha" does not map it to resource "big"/],
        [{ id: 'g-1', queues: ['qa'], app: 'alpha', resource: 'huge' }, /resource "huge" is out of this token's scope: app "alpha" has no such resource/],
        [{ id: 'g-1', queues: ['qa'], app: 'alpha', instanceId: 'inst-l' }, /instanceId "inst-l" is out of this token's scope/],
      )) {
        const got = await status(granted.register(reg));
        assert.equal(got.status, 403, JSON.stringify(reg));
        assert.match(got.message, words);
      }
      await granted.register({ id: 'g-1', queues: ['qa', 'qb'], app: 'alpha' });
      await granted.register({ id: 'g-2', queues: ['qb'], app: 'alpha', resource: 'big' });
      assert.deepEqual(await granted.workerSecrets('g-1'), { git: alphaGit });
      assert.deepEqual(await granted.workerSecrets('g-2'), { git: alphaGit });
      // Another token, even one bound to the same app, reads nothing through a worker it did not register.
      const twin = new FlotillaClient(t.cp.url, (await t.admin.createToken('alpha twin', 'agent', undefined, { app: 'alpha' })).token);
      assert.match((await status(twin.workerSecrets('g-1'))).message, /was not registered with this token/);
      const whoami = await granted.request<{ app: string | null }>('GET', '/api/v1/whoami');
      assert.equal(whoami.app, 'alpha');
    });

    test("an admin token is not bound: its own worker of any app reads that app's secrets, never another token's", async () => {
      await t.admin.register({ id: 'adm-1', queues: ['qbeta'], app: 'beta', resource: 'small' });
      assert.deepEqual(await t.admin.workerSecrets('adm-1'), { git: betaGit });
      assert.match((await status(t.admin.workerSecrets('g-1'))).message, /was not registered with this token/);
    });
  });

  describe(`${dialect}: no take-over of another token's worker`, () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => t?.stop());

    test('token B re-registering token A\'s busy worker gets 409 and changes nothing; A may register it again', async () => {
      const a = new FlotillaClient(t.cp.url, t.agentToken);
      const bToken = await t.admin.createToken('b', 'agent');
      const b = new FlotillaClient(t.cp.url, bToken.token);
      await t.admin.createQueue('vq');
      await a.register({ id: 'w-v', queues: ['vq'] });
      const created = await t.user.createTask({ queue: 'vq', command: 'sleep 60' });
      const got = await a.dequeue('w-v', { waitMs: 1000 });
      assert.equal(got?.task.id, created.id);
      const before = (await t.user.listWorkers()).find((w) => w.id === 'w-v');
      assert.equal(before?.currentTask, created.id);

      for (const other of [b, t.admin]) {
        const refused = await status(other.register({ id: 'w-v', queues: ['vq', 'other'] }));
        assert.equal(refused.status, 409);
        assert.match(refused.message, /worker "w-v" was registered with another token, which is still valid/);
      }
      const after = (await t.user.listWorkers()).find((w) => w.id === 'w-v');
      assert.deepEqual(after, before, 'the worker is as it was');
      const task = await t.user.getTask(created.id);
      assert.equal(task.status, 'running');
      assert.equal(task.workerId, 'w-v');
      // B's 409 gave it nothing: the worker's routes stay closed to it.
      assert.equal((await status(b.dequeue('w-v', { waitMs: 0 }))).status, 403);

      // The same token registering its own worker again still works (an agent after a control-plane restart).
      assert.equal((await status(a.register({ id: 'w-v', queues: ['vq'] }))).status, 200);
      // Once A's token is revoked, its worker may be registered by another token.
      const aId = (await t.admin.listTokens()).find((x) => x.name === 'agents')!.id;
      await t.admin.revokeToken(aId);
      assert.equal((await status(b.register({ id: 'w-v', queues: ['vq'] }))).status, 200);
    });
  });
}
