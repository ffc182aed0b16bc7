// The GCP provider driving the real @google-cloud/compute client against the in-repo Compute fake.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, test } from 'node:test';
import { parse } from 'yaml';
import { AppConfigSchema } from '../src/domain/autoscaler/config.js';
import { GcpLaunchSchema, createGcpProvider, type GcpProvider } from '../src/autoscaler/providers/gcp/index.js';
import { CapacityError, TAG, ThrottleError, type LaunchRequest, type Offering } from '../src/autoscaler/providers/types.js';
import { startFakeGce, type FakeGce } from './fakes/gce/server.js';

let fake: FakeGce | undefined;
let gcp: GcpProvider | undefined;
const noWait = { sleep: async () => {} };
const settings = () => ({ project: 'proj', apiEndpoint: '127.0.0.1', port: fake!.port, protocol: 'http' as const });

afterEach(async () => {
  await gcp?.close();
  await fake?.close();
  gcp = fake = undefined;
});

/** A fresh fake (random port) and a provider pointed at it. */
async function fresh(): Promise<GcpProvider> {
  fake = await startFakeGce();
  gcp = createGcpProvider(settings(), { backoff: noWait });
  return gcp;
}

/** The running fake's state (set by fresh()). */
const state = () => fake!.state;

let seq = 0;
function request(offering: Offering, appId = 'app1', token = `tok-${++seq}`): LaunchRequest {
  return {
    appId,
    resource: 't4',
    clientToken: token,
    offering,
    launch: { diskSizeGb: 50, labels: { team: 'ml' } },
    startupScript: '#!/bin/bash\necho boot\n',
    tags: { [TAG.app]: appId, [TAG.resource]: 't4', [TAG.instance]: token, [TAG.controlPlane]: 'cp1' },
  };
}
const spotA: Offering = { instanceType: 'n1-standard-8', zone: 'us-central1-a', market: 'spot' };
const stdB: Offering = { instanceType: 'n1-standard-8', zone: 'us-central1-b', market: 'on-demand' };

test('launch with labels at creation, list by label, terminate', async () => {
  const p = await fresh();
  const req = request(stdB);
  const launched = await p.launch(req);
  assert.equal(launched.providerId, `us-central1-b/fl-${req.clientToken}`);
  await p.launch(request(stdB, 'other-app'));

  const [one, ...rest] = await p.list('app1');
  assert.equal(rest.length, 0);
  assert.equal(one.providerId, launched.providerId);
  assert.equal(one.state, 'running');
  assert.equal(one.clientToken, req.clientToken);
  assert.deepEqual(one.offering, stdB);
  assert.equal(one.tags[TAG.controlPlane], 'cp1');
  const stored = [...state().instances.values()].find((i) => i.name === `fl-${req.clientToken}`)!;
  assert.equal(stored.labels.team, 'ml');
  assert.equal(stored.metadata.items.find((i: { key: string }) => i.key === 'startup-script').value, req.startupScript);

  await p.terminate([launched.providerId, 'us-central1-b/fl-never-was']);
  assert.deepEqual(await p.list('app1'), []);
  assert.equal((await p.list('other-app')).length, 1);
});

test('spot launch is SPOT and listed as spot', async () => {
  const p = await fresh();
  await p.launch(request(spotA));
  const [one] = await p.list('app1');
  assert.deepEqual(one.offering, spotA);
});

test('a retried launch never makes two machines: same request id, then 409 on the same name', async () => {
  const p = await fresh();
  const req = request(stdB);
  const first = await p.launch(req);
  const again = await p.launch(req); // same requestId: GCE answers with the first operation
  state().forgetRequestIds(); // much later: GCE no longer remembers the id, the name still collides
  const late = await p.launch(req);
  assert.deepEqual([again.providerId, late.providerId], [first.providerId, first.providerId]);
  assert.equal(state().instances.size, 1);
  const ids = state().calls.filter((c) => c.method === 'insert').map((c) => c.requestId);
  assert.equal(new Set(ids).size, 1);
});

test('zone exhausted or quota: a CapacityError with the offering, then the next offering works', async () => {
  const p = await fresh();
  state().inject({ method: 'insert', zone: 'us-central1-a', operationError: { code: 'ZONE_RESOURCE_POOL_EXHAUSTED' } });
  state().inject({ method: 'insert', zone: 'us-central1-b', http: { status: 403, reason: 'quotaExceeded', message: "Quota 'GPUS_ALL_REGIONS' exceeded. Limit: 0.0 globally." } });
  const plan: Offering[] = [spotA, { ...stdB, market: 'spot' }, stdB];
  const failures: [Offering, string][] = [];
  let launchedOn: Offering | undefined;
  for (const offering of plan) {
    try {
      launchedOn = (await p.launch(request(offering))).offering;
      break;
    } catch (err) {
      assert.ok(err instanceof CapacityError, String(err));
      failures.push([err.offering, err.code]);
    }
  }
  assert.deepEqual(failures, [
    [spotA, 'ZONE_RESOURCE_POOL_EXHAUSTED'],
    [{ ...stdB, market: 'spot' }, 'QUOTA_EXCEEDED'],
  ]);
  assert.deepEqual(launchedOn, stdB);
  assert.equal(state().instances.size, 1);
});

test('QUOTA_EXCEEDED in the operation is a capacity error too; other operation errors are not', async () => {
  const p = await fresh();
  state().inject({ method: 'insert', operationError: { code: 'QUOTA_EXCEEDED' } });
  const err = await p.launch(request(stdB)).catch((e) => e);
  assert.ok(err instanceof CapacityError);
  state().inject({ method: 'insert', operationError: { code: 'RESOURCE_NOT_FOUND', message: 'image not found' } });
  const other = await p.launch(request(stdB)).catch((e) => e);
  assert.ok(!(other instanceof CapacityError));
  assert.match(other.message, /RESOURCE_NOT_FOUND: image not found/);
});

test('429 and 503 back off and retry the same request; persistent ones become a ThrottleError', async () => {
  const p = await fresh();
  state().inject({ method: 'insert', http: { status: 429, reason: 'rateLimitExceeded' }, times: 2 });
  state().inject({ method: 'insert', http: { status: 503, reason: 'backendError' } });
  await p.launch(request(stdB));
  assert.equal(state().instances.size, 1);
  assert.equal(state().calls.filter((c) => c.method === 'insert').length, 4);

  state().inject({ method: 'insert', http: { status: 429, reason: 'rateLimitExceeded' }, times: 100 });
  const err = await p.launch(request(stdB)).catch((e) => e);
  assert.ok(err instanceof ThrottleError);
  assert.equal(err.code, 'HTTP_429');
});

test('launch waits for a running insert operation to be DONE', async () => {
  const p = await fresh();
  state().pendingPolls = 3;
  const launched = await p.launch(request(stdB));
  assert.match(launched.providerId, /^us-central1-b\/fl-/);
  assert.equal([...state().operations.values()][0].status, 'DONE');
});

test('list follows nextPageToken across pages and zones', async () => {
  const p = await fresh();
  state().maxPageSize = 2;
  for (let i = 0; i < 5; i++) await p.launch(request(i % 2 ? spotA : stdB));
  const listed = await p.list('app1');
  assert.equal(listed.length, 5);
  assert.equal(new Set(listed.map((i) => i.providerId)).size, 5);
  assert.equal(state().calls.filter((c) => c.method === 'aggregated').length, 3, 'three pages of two');
});

test('settings errors name the field', async () => {
  await fresh();
  assert.throws(() => createGcpProvider({}), /gcp provider settings: project:/);
  assert.throws(() => createGcpProvider({ project: 'p', protocol: 'ftp' }), /protocol/);
  const err = await gcp!.launch({ ...request(stdB), offering: { ...stdB, zone: undefined } }).catch((e) => e);
  assert.match(err.message, /zones: GCE needs a zone/);
  const bad = await gcp!.launch({ ...request(stdB), launch: { accelerator: { type: 't4', count: 0 } } }).catch((e) => e);
  assert.match(bad.message, /resource "t4".*accelerator\.count/);
});

test('deploy/examples/gcp.yaml validates and launches against the fake', async () => {
  await fresh();
  const app = AppConfigSchema.parse(parse(readFileSync('deploy/examples/gcp.yaml', 'utf8')));
  const p = createGcpProvider({ ...app.provider.settings, credentialsSecret: undefined, ...settings() }, { backoff: noWait });
  for (const resource of app.resources) {
    GcpLaunchSchema.parse(resource.launch);
    const offering: Offering = { instanceType: resource.instanceType, zone: resource.zones?.[0], market: resource.spot ? 'spot' : 'on-demand' };
    await p.launch({ ...request(offering, app.name), resource: resource.name, launch: resource.launch });
  }
  const listed = await p.list(app.name);
  assert.equal(listed.length, 2);
  const gpu = [...state().instances.values()].find((i) => i.guestAccelerators);
  assert.equal(gpu?.guestAccelerators[0].acceleratorType, 'zones/us-central1-a/acceleratorTypes/nvidia-tesla-t4');
  await p.close();
});
