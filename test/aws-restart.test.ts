// The built control plane (`node dist/src/cli/main.js server`) killed with SIGKILL in the middle of a
// burst of EC2 launches into a real moto_server, then started again on the same store: afterwards every
// machine carrying the app's tags is owned by a live record or terminated, and no record owns two.
// A loopback proxy holds the launches in flight so the kill lands mid-burst: half of them made in moto
// with no answer yet, half never delivered. Timings are shortened with the
// FLOTILLA_TIMINGS variable (docs/configuration.md).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { FlotillaClient } from '../src/client/index.js';
import { startMoto, type Moto } from './helpers/moto.js';
import { startLaunchProxy, type LaunchProxy } from './helpers/launch-proxy.js';
import { MOTO_AMI, awsApp, bootstrapTokenIn, exchange, live, machinesOf, motoClient, userDataOf } from './helpers/aws-e2e.js';
import { waitFor } from './support/wait.js';

const CLI = resolve(import.meta.dirname, '../dist/src/cli/main.js');
const SECRET_KEY = 'restart-secret-key-never-logged';
const APP = 'burst';
const TASKS = 12;

interface Server { child: ChildProcess; url: string; output(): string }

async function startServer(dir: string, motoUrl: string): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'server', '--db', `sqlite:${join(dir, 'flotilla.db')}`,
    '--data-dir', join(dir, 'data'), '--port', '0', '--log-level', 'info'], {
    env: {
      PATH: process.env.PATH, HOME: dir, AWS_ENDPOINT_URL: motoUrl,
      FLOTILLA_TIMINGS: JSON.stringify({ tickMs: 200, listEveryMs: 200, orphanGraceMs: 1500, requestedGraceMs: 3000 }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b));
  child.stderr!.on('data', (b: Buffer) => (out += b));
  const url = await waitFor('the control plane to listen', () => {
    if (child.exitCode !== null) throw new Error(`the server exited ${child.exitCode}:\n${out}`);
    return /listening on (http:\/\/\S+)/.exec(out)?.[1];
  }, 30_000);
  return { child, url, output: () => out };
}

function kill(s: Server, signal: NodeJS.Signals): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((r) => s.child.once('close', () => r()));
  s.child.kill(signal);
  return gone;
}

let moto: Moto;
let proxy: LaunchProxy;
let dir: string;
const servers: Server[] = [];
before(async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: build first with npx tsc -p tsconfig.json`);
  moto = await startMoto();
  proxy = await startLaunchProxy(moto.url, { passFirst: 1 });
  dir = mkdtempSync(join(tmpdir(), 'flotilla-aws-restart-'));
});
after(async () => {
  for (const s of servers) await kill(s, 'SIGKILL');
  await proxy?.close();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('SIGKILL mid-burst and restart: every tagged machine is owned or terminated, none twice', async () => {
  const ec2 = motoClient(moto.url);
  const first = await startServer(dir, proxy.url);
  servers.push(first);
  const admin = new FlotillaClient(first.url, readFileSync(join(dir, 'data/admin-token'), 'utf8').trim());
  await admin.putSecret('aws-creds', 'aws', { accessKeyId: 'testing', secretAccessKey: SECRET_KEY });
  // As the example: no endpoint in the app, the SDK takes AWS_ENDPOINT_URL from the server's environment.
  await admin.request('PUT', `/api/v1/autoscalers/${APP}`, awsApp({
    name: APP, queue: 'burst', maxInstances: TASKS, bootTimeoutS: 300, settings: { credentialsSecret: 'aws-creds' },
  }));
  await Promise.all(Array.from({ length: TASKS }, (_, i) => admin.createTask({ queue: 'burst', command: `echo ${i}` })));
  // The first launch (the act loop's probe of the offering) is answered; the other launches of the burst are held.
  await waitFor('every other launch of the burst in flight', () => proxy.held().made + proxy.held().lost === TASKS - 1, 30_000, 10);
  await kill(first, 'SIGKILL');
  proxy.passThrough();
  const { made } = proxy.held();
  assert.equal(live(await machinesOf(ec2, APP)).length, made + 1, 'the machines of the launches that reached moto');

  // A tagged machine that no record owns (its record was lost): the restarted plane must stop it.
  const ghost = await ec2.send(new RunInstancesCommand({
    ImageId: MOTO_AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1,
    TagSpecifications: [{ ResourceType: 'instance', Tags: [
      { Key: 'flotilla-app', Value: APP }, { Key: 'flotilla-resource', Value: 'cpu' }, { Key: 'flotilla-instance', Value: 'burst-lost' }] }],
  }));
  const ghostId = ghost.Instances![0].InstanceId!;

  const second = await startServer(dir, proxy.url);
  servers.push(second);
  const admin2 = new FlotillaClient(second.url, readFileSync(join(dir, 'data/admin-token'), 'utf8').trim());
  type Status = { instances: { id: string; providerId: string | null; state: string }[] };
  const settled = await waitFor('every task to have its own machine again', async () => {
    const ms = await machinesOf(ec2, APP);
    const { instances } = await admin2.request<Status>('GET', `/api/v1/autoscalers/${APP}/status`);
    const up = live(ms);
    const owned = up.every((m) => instances.some((r) => r.providerId === m.id && r.id === m.tags['flotilla-instance']));
    return owned && up.length === TASKS && ms.find((m) => m.id === ghostId)?.state === 'terminated' && { ms, instances };
  }, 60_000, 100);

  const tags = settled.ms.map((m) => m.tags['flotilla-instance']);
  assert.equal(new Set(tags).size, tags.length, `no record launched two machines: ${tags.join()}`);
  const providerIds = settled.instances.map((r) => r.providerId).filter(Boolean);
  assert.equal(new Set(providerIds).size, providerIds.length, 'no two records claim one machine');
  for (const m of settled.ms)
    assert.ok(m.state === 'terminated' || settled.instances.some((r) => r.providerId === m.id), `${m.id} is owned or terminated`);
  const { decisions } = await admin2.request<{ decisions: { kind: string }[] }>('GET', `/api/v1/autoscalers/${APP}/decisions?limit=500`);
  const count = (k: string) => decisions.filter((d) => d.kind === k).length;
  assert.equal(count('orphan-terminated'), 1, 'the machine no record owns was terminated');
  assert.equal(count('adopt'), made, 'each machine launched before the kill was adopted by its record');
  assert.equal(settled.ms.length, TASKS + 1, 'the lost launches were replaced, once each; nothing else was launched');

  // A machine launched before the kill still trades its token with the restarted plane; nothing secret is logged.
  const m = live(settled.ms)[0];
  const token = bootstrapTokenIn(await userDataOf(ec2, m.id));
  const traded = await exchange(second.url, token, m.id);
  assert.equal(traded.status, 200);
  for (const [name, value] of [['the AWS secret key', SECRET_KEY], ['a bootstrap token', token], ['an agent token', traded.body.token]])
    for (const s of [first, second]) assert.ok(!s.output().includes(value), `${name} is not in the server's output`);

  await admin2.request('DELETE', `/api/v1/autoscalers/${APP}`);
  await waitFor('no machine left', async () => live(await machinesOf(ec2, APP)).length === 0, 30_000);
  await kill(second, 'SIGTERM');
});
