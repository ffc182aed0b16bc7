// The AWS autoscaler end to end: an app applied through the API of a real control plane (both stores),
// its reconciler launching into a real moto_server, capacity fallback with errors injected by SDK
// middleware, and a spot machine reclaimed behind the control plane's back while its worker holds a task.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DescribeSubnetsCommand, EC2ServiceException } from '@aws-sdk/client-ec2';
import { FlotillaClient } from '../src/client/index.js';
import { createAwsProvider, ec2ClientFor } from '../src/autoscaler/providers/aws/index.js';
import { AwsSettingsSchema } from '../src/autoscaler/providers/aws/settings.js';
import type { AppConfig } from '../src/domain/autoscaler/config.js';
import type { ControlPlaneOptions } from '../src/server/main.js';
import { PROVIDERS, awsProvider } from '../src/autoscaler/providers/index.js';
import { startMoto, type Moto } from './helpers/moto.js';
import {
  awsApp, bootstrapTokenIn, exchange, live, machinesOf, motoClient, reclaim, userDataOf, type Machine,
} from './helpers/aws-e2e.js';
import { DIALECTS } from './support/stores.js';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { waitFor } from './support/wait.js';

const SECRET_KEY = 'moto-secret-key-never-in-a-log';
const FAST: Partial<ControlPlaneOptions> = {
  timings: { tickMs: 200, listEveryMs: 200, orphanGraceMs: 2000, requestedGraceMs: 5000 },
};

interface Decision { kind: string; reason: string; queue: string | null; detail: Record<string, any> }
const decisions = async (t: TestControlPlane, app: string) =>
  (await t.user.request<{ decisions: Decision[] }>('GET', `/api/v1/autoscalers/${app}/decisions?limit=200`)).decisions.reverse();

let moto: Moto;
before(async () => {
  moto = await startMoto();
});
after(async () => moto?.stop());

for (const dialect of DIALECTS) {
  describe(`aws autoscaler against moto (${dialect})`, () => {
    let t: TestControlPlane;
    const ec2 = () => motoClient(moto.url);
    before(async () => {
      t = await startTestControlPlane(dialect, FAST);
      await t.admin.putSecret('moto-creds', 'aws', { accessKeyId: 'testing', secretAccessKey: SECRET_KEY });
    });
    after(async () => t?.stop());

    test('queued tasks launch tagged machines; machines that never register are stopped at the boot timeout', async () => {
      const app = `boot-${dialect}`;
      await t.user.request('PUT', `/api/v1/autoscalers/${app}`, awsApp({
        name: app, queue: 'aws-boot', maxInstances: 2, bootTimeoutS: 3,
        settings: { endpoint: moto.url, credentialsSecret: 'moto-creds' },
      }));
      await t.user.createTask({ queue: 'aws-boot', command: 'echo one' });
      await t.user.createTask({ queue: 'aws-boot', command: 'echo two' });
      const first = await waitFor('two machines in moto', async () => {
        const ms = live(await machinesOf(ec2(), app));
        return ms.length === 2 && ms;
      });
      // The machine shows in moto a moment before the reconciler records the id RunInstances answered.
      const status = await waitFor('both records to hold their machine ids', async () => {
        const s = await t.user.request<{ instances: { id: string; providerId: string; state: string }[] }>(
          'GET', `/api/v1/autoscalers/${app}/status`);
        return first.every((m) => s.instances.some((i) => i.providerId === m.id)) && s;
      });
      for (const m of first) {
        assert.equal(m.tags['flotilla-resource'], 'cpu');
        assert.ok(m.tags['flotilla-control-plane']);
        const rec = status.instances.find((i) => i.id === m.tags['flotilla-instance']);
        assert.equal(rec?.providerId, m.id, 'each machine is owned by the record named in its tags');
        const script = await userDataOf(ec2(), m.id);
        assert.match(script, /^#!\/bin\/bash/);
        assert.match(script, new RegExp(`--queue 'aws-boot'`));
        assert.ok(!script.includes(SECRET_KEY), 'cloud credentials never reach the machine');
      }
      // No agent registers (moto runs nothing): the boot timeout terminates both and says so.
      await waitFor('both first machines terminated', async () => {
        const ms = await machinesOf(ec2(), app);
        return first.every((f) => ms.find((m) => m.id === f.id)?.state === 'terminated');
      }, 20_000);
      // The journal row follows the terminate call.
      const timedOut = await waitFor('two boot-timeout rows', async () => {
        const rows = (await decisions(t, app)).filter((d) => d.kind === 'boot-timeout');
        return rows.length >= 2 && rows;
      });
      assert.match(timedOut[0].reason, /worker did not register within the boot timeout of 3 s/);
      await t.user.request('DELETE', `/api/v1/autoscalers/${app}`);
      await waitFor('no machine left', async () => live(await machinesOf(ec2(), app)).length === 0);
    });

    test('a reclaimed spot machine puts its worker\'s task back at the head of its queue at once', async () => {
      const app = `spot-${dialect}`;
      await t.user.request('PUT', `/api/v1/autoscalers/${app}`, awsApp({
        name: app, queue: 'aws-spot', spot: true, maxInstances: 1,
        settings: { endpoint: moto.url, credentialsSecret: 'moto-creds' },
      }));
      const held = await t.user.createTask({ queue: 'aws-spot', command: 'echo held' });
      const [m] = await waitFor('a spot machine', async () => live(await machinesOf(ec2(), app)).filter((x) => x.spot).length === 1
        && live(await machinesOf(ec2(), app)));
      // What the machine's start-up script does: trade its token, register under its cloud id, take a task.
      const traded = await exchange(t.cp.url, bootstrapTokenIn(await userDataOf(ec2(), m.id)), m.id);
      assert.equal(traded.status, 200);
      const agent = new FlotillaClient(t.cp.url, traded.body.token);
      await agent.register({ id: m.id, instanceId: m.id, app, resource: 'cpu', queues: ['aws-spot'] });
      const got = await agent.dequeue(m.id, { waitMs: 5000 });
      assert.equal(got?.task.id, held.id);
      const behind = await t.user.createTask({ queue: 'aws-spot', command: 'echo behind' });

      const reclaimedAt = Date.now();
      await reclaim(ec2(), m.id);
      const back = await waitFor('the held task back in its queue', async () => {
        const task = await t.user.getTask(held.id);
        return task.status === 'queued' && task;
      });
      const seconds = (Date.now() - reclaimedAt) / 1000;
      assert.match(back.statusMessage ?? '', /is gone \(spot reclaim or machine lost\); back at the head of the queue/);
      // The task is back as soon as its recovery commits; the journal row about it follows.
      await waitFor('the loss and the recovery journaled', async () => {
        const kinds = (await decisions(t, app)).map((d) => d.kind);
        return kinds.includes('instance-lost') && kinds.includes('task-recovered');
      });
      // At the head: the next worker gets it before the task queued after it.
      const other = new FlotillaClient(t.cp.url, t.agentToken);
      await other.register({ id: `w-${dialect}`, queues: ['aws-spot'] });
      assert.equal((await other.dequeue(`w-${dialect}`, { waitMs: 2000 }))?.task.id, held.id);
      assert.equal((await other.dequeue(`w-${dialect}`, { waitMs: 2000 }))?.task.id, behind.id);
      process.stdout.write(`# ${dialect}: reclaimed task back in its queue after ${seconds.toFixed(2)} s\n`);
      await t.user.request('DELETE', `/api/v1/autoscalers/${app}`);
    });
  });

  describe(`aws capacity fallback through the reconciler (${dialect})`, () => {
    let t: TestControlPlane;
    let subnets: string[] = [];
    // No spot capacity anywhere and no on-demand capacity in the first subnet, as a cloud answers.
    const providerFor = async (cfg: AppConfig) => {
      const settings = AwsSettingsSchema.parse(cfg.provider.settings);
      const client = ec2ClientFor(settings);
      client.middlewareStack.add((next, ctx) => async (args) => {
        const input = args.input as { InstanceMarketOptions?: unknown; SubnetId?: string };
        if (ctx.commandName === 'RunInstancesCommand' && (input.InstanceMarketOptions || input.SubnetId === subnets[0]))
          throw new EC2ServiceException({ name: 'InsufficientInstanceCapacity', $fault: 'server',
            message: 'We currently do not have sufficient t3.micro capacity', $metadata: { httpStatusCode: 500 } });
        return next(args);
      }, { step: 'initialize', name: 'faultInjector' });
      return createAwsProvider(cfg.provider.settings, { client, backoff: { sleep: async () => {} } });
    };
    before(async () => {
      t = await startTestControlPlane(dialect, { ...FAST, autoscaler: { providers: PROVIDERS.with({ ...awsProvider, create: providerFor }) } });
      const out = await motoClient(moto.url).send(new DescribeSubnetsCommand({}));
      subnets = (out.Subnets ?? []).map((s) => s.SubnetId!).sort().slice(0, 2);
    });
    after(async () => t?.stop());

    test('spot falls back subnet by subnet, then to on-demand; the journal and `task why` say why', async () => {
      const app = `fallback-${dialect}`;
      await t.user.request('PUT', `/api/v1/autoscalers/${app}`, awsApp({
        name: app, queue: 'aws-fb', spot: true, zones: subnets, maxInstances: 1,
        settings: { endpoint: moto.url, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } },
      }));
      const task = await t.user.createTask({ queue: 'aws-fb', command: 'echo hi' });
      const [m] = await waitFor('one machine', async () => {
        const ms = live(await machinesOf(motoClient(moto.url), app));
        return ms.length === 1 && ms;
      }) as Machine[];
      assert.equal(m.spot, false, 'on-demand after spot had no capacity');
      assert.equal(m.subnet, subnets[1], 'in the second subnet, after the first had none');
      const journal = await decisions(t, app);
      const tried = journal.filter((d) => d.kind === 'capacity-error').map((d) => `${d.detail.offering.market}@${d.detail.offering.zone}`);
      assert.deepEqual(tried, [`spot@${subnets[0]}`, `spot@${subnets[1]}`, `on-demand@${subnets[0]}`]);
      const launches = journal.filter((d) => d.kind === 'launch').map((d) => `${d.detail.offering.market}@${d.detail.offering.zone}`);
      assert.equal(launches.at(-1), `on-demand@${subnets[1]}`);
      const why = await t.user.request<{ decisions: Decision[] }>('GET', `/api/v1/tasks/${task.id}/why`);
      assert.ok(why.decisions.some((d) => d.kind === 'capacity-error' && /InsufficientInstanceCapacity/.test(d.reason)),
        JSON.stringify(why.decisions));
      await t.user.request('DELETE', `/api/v1/autoscalers/${app}`);
      await waitFor('no machine left', async () => live(await machinesOf(motoClient(moto.url), app)).length === 0);
    });
  });
}
