import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LaunchRequest } from '../types.js';
import { instanceNameFor, labelValue, parseProviderId, requestIdFor, uuidV5 } from './naming.js';
import { TAGS_METADATA_KEY, buildInstanceResource } from './request.js';
import { GcpLaunchSchema } from './settings.js';

const req = (over: Partial<LaunchRequest> = {}): LaunchRequest => ({
  appId: 'app1',
  resource: 't4',
  clientToken: 'tok-0001',
  offering: { instanceType: 'n1-standard-8', zone: 'us-central1-a', market: 'on-demand' },
  launch: {},
  startupScript: '#!/bin/bash\necho hi\n',
  tags: { 'flotilla-app': 'app1', 'flotilla-resource': 't4', 'flotilla-instance': 'tok-0001' },
  ...over,
});
const launch = (over: Record<string, unknown> = {}) => GcpLaunchSchema.parse(over);
const meta = (i: ReturnType<typeof buildInstanceResource>) =>
  Object.fromEntries((i.metadata?.items ?? []).map((x) => [x.key, x.value]));

test('standard launch: zonal machine type, boot disk, external IP, labels and start-up script', () => {
  const inst = buildInstanceResource(req(), launch({ diskSizeGb: 100, diskType: 'pd-ssd', labels: { team: 'ml' } }), 'us-central1-a');
  assert.equal(inst.name, 'fl-tok-0001');
  assert.equal(inst.machineType, 'zones/us-central1-a/machineTypes/n1-standard-8');
  assert.deepEqual(inst.disks, [
    {
      boot: true,
      autoDelete: true,
      initializeParams: {
        sourceImage: 'projects/debian-cloud/global/images/family/debian-12',
        diskSizeGb: '100',
        diskType: 'zones/us-central1-a/diskTypes/pd-ssd',
      },
    },
  ]);
  assert.deepEqual(inst.networkInterfaces, [{ accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }]);
  assert.deepEqual(inst.scheduling, { provisioningModel: 'STANDARD', automaticRestart: true, onHostMaintenance: 'MIGRATE' });
  assert.deepEqual(inst.labels, { team: 'ml', 'flotilla-app': 'app1', 'flotilla-resource': 't4', 'flotilla-instance': 'tok-0001' });
  assert.equal(meta(inst)['startup-script'], '#!/bin/bash\necho hi\n');
  assert.deepEqual(JSON.parse(meta(inst)[TAGS_METADATA_KEY]!), req().tags);
});

test('spot launch: provisioning model SPOT, deleted on preemption', () => {
  const inst = buildInstanceResource(req({ offering: { instanceType: 'n1-standard-8', market: 'spot' } }), launch(), 'z');
  assert.deepEqual(inst.scheduling, {
    provisioningModel: 'SPOT',
    instanceTerminationAction: 'DELETE',
    automaticRestart: false,
    onHostMaintenance: 'TERMINATE',
  });
});

test('accelerators, network, service account, network tags', () => {
  const inst = buildInstanceResource(
    req(),
    launch({
      accelerator: { type: 'nvidia-tesla-t4', count: 2 },
      network: 'global/networks/ml',
      subnetwork: 'regions/us-central1/subnetworks/ml-a',
      externalIp: false,
      serviceAccount: { email: 'w@p.iam.gserviceaccount.com' },
      networkTags: ['flotilla'],
    }),
    'us-central1-a',
  );
  assert.deepEqual(inst.guestAccelerators, [
    { acceleratorType: 'zones/us-central1-a/acceleratorTypes/nvidia-tesla-t4', acceleratorCount: 2 },
  ]);
  assert.equal(inst.scheduling?.onHostMaintenance, 'TERMINATE', 'GPUs cannot live-migrate');
  assert.deepEqual(inst.networkInterfaces, [{ network: 'global/networks/ml', subnetwork: 'regions/us-central1/subnetworks/ml-a' }]);
  assert.deepEqual(inst.serviceAccounts, [{ email: 'w@p.iam.gserviceaccount.com', scopes: ['https://www.googleapis.com/auth/cloud-platform'] }]);
  assert.deepEqual(inst.tags, { items: ['flotilla'] });
});

test('overlay merges, but name, flotilla labels and start-up script win', () => {
  const inst = buildInstanceResource(
    req(),
    launch({ overlay: { name: 'x', minCpuPlatform: 'Intel Ice Lake', labels: { 'flotilla-app': 'evil', extra: 'y' } } }),
    'z',
  );
  assert.equal(inst.name, 'fl-tok-0001');
  assert.equal(inst.minCpuPlatform, 'Intel Ice Lake');
  assert.equal(inst.labels?.['flotilla-app'], 'app1');
  assert.equal(inst.labels?.extra, 'y');
});

test('startup-script cannot be set in metadata', () => {
  assert.throws(() => launch({ metadata: { 'startup-script': 'rm -rf /' } }), /startup-script is reserved/);
});

test('names and request ids are deterministic, valid, and differ per token', () => {
  assert.equal(requestIdFor('tok-1'), requestIdFor('tok-1'));
  assert.notEqual(requestIdFor('tok-1'), requestIdFor('tok-2'));
  assert.match(requestIdFor('tok-1'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // RFC 4122 appendix vector: uuid5(DNS namespace, "python.org").
  assert.equal(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  assert.equal(instanceNameFor('0b5e-aa'), 'fl-0b5e-aa');
  assert.match(instanceNameFor('Tok_With.Upper'), /^fl-[0-9a-f]{40}$/);
  assert.equal(instanceNameFor('Tok_With.Upper'), instanceNameFor('Tok_With.Upper'));
  assert.equal(labelValue('My.App'), 'my-app');
  assert.deepEqual(parseProviderId('us-central1-a/fl-x'), { zone: 'us-central1-a', name: 'fl-x' });
  assert.throws(() => parseProviderId('i-123'), /zone\/name/);
});
