// A spot interruption on AWS: a control plane on PostgreSQL launches a spot machine into moto_server; the
// machine's agent (run here, registered under the machine's cloud id with the token its start-up script
// trades) watches a fake EC2 metadata server. On the notice the task gets SIGTERM and goes back to the
// head of its queue, the machine is stopped, and the relaunch falls back to spot in the next subnet, the
// interrupted one cooling down. The local-provider form, on SQLite, is test/spot-interruption.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import { createAgent } from '../src/agent/agent.js';
import type { ControlPlaneOptions } from '../src/server/main.js';
import { startMoto, type Moto } from './helpers/moto.js';
import { awsApp, bootstrapTokenIn, exchange, live, machinesOf, motoClient, userDataOf } from './helpers/aws-e2e.js';
import { startFakeMetadata, type FakeMetadata } from './fakes/metadata.js';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { waitFor } from './support/wait.js';

const FAST: Partial<ControlPlaneOptions> = { timings: { tickMs: 200, listEveryMs: 200, orphanGraceMs: 2000, requestedGraceMs: 5000 } };

interface Decision { kind: string; reason: string; queue: string | null; detail: Record<string, any> }

let moto: Moto;
let md: FakeMetadata;
let t: TestControlPlane;
before(async () => {
  [moto, md, t] = await Promise.all([startMoto(), startFakeMetadata(), startTestControlPlane('postgres', FAST)]);
  await t.admin.putSecret('moto-creds', 'aws', { accessKeyId: 'testing', secretAccessKey: 'testing' });
});
after(async () => {
  await t?.stop();
  await md?.close();
  await moto?.stop();
});

test('aws (postgres): the notice hands the task back; the machine goes; the relaunch takes spot in the next subnet', async () => {
  const ec2 = motoClient(moto.url);
  const subnets = ((await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? []).map((s) => s.SubnetId!).sort().slice(0, 2);
  const app = 'spot-notice';
  await t.user.request('PUT', `/api/v1/autoscalers/${app}`, awsApp({
    name: app, queue: 'aws-spotq', spot: true, zones: subnets, maxInstances: 1,
    settings: { endpoint: moto.url, credentialsSecret: 'moto-creds' },
  }));
  const task = await t.user.createTask({ queue: 'aws-spotq', command: "trap 'echo checkpoint; exit 0' TERM; while true; do sleep 0.1; done" });
  const [m] = await waitFor('a spot machine', async () => {
    const ms = live(await machinesOf(ec2, app));
    return ms.length === 1 && ms;
  });
  assert.equal(m.spot, true);
  assert.equal(m.subnet, subnets[0]);
  const script = await userDataOf(ec2, m.id);
  assert.match(script, /--interruptions aws --metadata-url "\$METADATA_URL"/, 'the start-up script starts the agent watching for the notice');

  // What the machine's start-up script does: trade its token, then run the agent under its cloud id.
  const traded = await exchange(t.cp.url, bootstrapTokenIn(script), m.id);
  assert.equal(traded.status, 200);
  const logs: string[] = [];
  const agent = createAgent({
    server: t.cp.url, token: traded.body.token, queues: ['aws-spotq'], workerId: m.id, instanceId: m.id, app, resource: 'cpu',
    interruptions: { source: 'aws', metadataUrl: md.url, pollMs: 100, graceMs: 3_000 }, log: (l) => logs.push(l),
  });
  const running = agent.run();
  await waitFor('the task running on the machine', async () => (await t.user.getTask(task.id)).status === 'running', 20_000);

  md.announceStop('terminate', new Date(Date.now() + 120_000));
  const back = await waitFor('the task back in its queue', async () => {
    const cur = await t.user.getTask(task.id);
    return cur.status === 'queued' && cur;
  }, 20_000);
  assert.match(back.statusMessage ?? '', /^spot interruption: the cloud will terminate this machine/);
  await running; // the agent hands back, signs off and ends: the machine is about to go
  assert.ok(logs.some((l) => /spot interruption.*SIGTERM and 3 s/.test(l)), logs.join('\n'));

  // The reconciler stops the interrupted machine and relaunches in the next subnet, still spot.
  await waitFor('the interrupted machine terminated', async () =>
    (await machinesOf(ec2, app)).find((x) => x.id === m.id)?.state === 'terminated', 20_000);
  const [next] = await waitFor('a new machine', async () => {
    const ms = live(await machinesOf(ec2, app)).filter((x) => x.id !== m.id);
    return ms.length === 1 && ms;
  }, 20_000);
  assert.equal(next.spot, true);
  const journal = (await t.user.request<{ decisions: Decision[] }>('GET', `/api/v1/autoscalers/${app}/decisions?limit=200`)).decisions.reverse();
  assert.equal(next.subnet, subnets[1], `the interrupted subnet cools down: the next one is tried\n${logs.join('\n')}\n${JSON.stringify(journal, null, 1)}`);

  const kinds = journal.map((d) => d.kind);
  assert.ok(kinds.indexOf('interrupted') > kinds.indexOf('launch'), kinds.join(','));
  assert.ok(kinds.lastIndexOf('launch') > kinds.indexOf('interrupted'), kinds.join(','));
  const interrupted = journal.find((d) => d.kind === 'interrupted')!;
  assert.equal(interrupted.detail.offering.zone, subnets[0]);
  assert.equal(interrupted.detail.offering.market, 'spot');
  const why = await t.user.request<{ why: string; decisions: Decision[] }>('GET', `/api/v1/tasks/${task.id}/why`);
  assert.match(why.why, /handed back after a spot interruption/);
  assert.ok(why.decisions.some((d) => d.kind === 'interrupted'));
  await t.user.request('DELETE', `/api/v1/autoscalers/${app}`);
  await waitFor('no machine left', async () => live(await machinesOf(ec2, app)).length === 0);
});
