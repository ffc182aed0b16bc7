import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LaunchRequest } from '../types.js';
import { deepMerge } from '../merge.js';
import { buildRunInstancesInput, placementOf } from './request.js';
import { AwsLaunchSchema } from './settings.js';

const req = (over: Partial<LaunchRequest> = {}): LaunchRequest => ({
  appId: 'app1',
  resource: 'gpu',
  clientToken: 'fl-0001',
  offering: { instanceType: 'g5.xlarge', zone: 'us-east-1a', market: 'on-demand' },
  launch: {},
  startupScript: '#!/bin/bash\necho hi\n',
  tags: { 'flotilla-app': 'app1', 'flotilla-resource': 'gpu', 'flotilla-instance': 'fl-0001' },
  ...over,
});
const launch = (over: Record<string, unknown> = {}) => AwsLaunchSchema.parse({ ami: 'ami-785db401', ...over });

test('on-demand launch: token, one instance, user data base64, tags on instance and volume', () => {
  const input = buildRunInstancesInput(req(), launch());
  assert.equal(input.ClientToken, 'fl-0001');
  assert.equal(input.MinCount, 1);
  assert.equal(input.MaxCount, 1);
  assert.equal(input.ImageId, 'ami-785db401');
  assert.equal(input.InstanceType, 'g5.xlarge');
  assert.equal(Buffer.from(input.UserData!, 'base64').toString(), '#!/bin/bash\necho hi\n');
  assert.equal(input.InstanceMarketOptions, undefined);
  assert.deepEqual(input.Placement, { AvailabilityZone: 'us-east-1a' });
  assert.deepEqual(
    input.TagSpecifications?.map((s) => s.ResourceType),
    ['instance', 'volume'],
  );
  assert.deepEqual(input.TagSpecifications?.[0].Tags, [
    { Key: 'flotilla-app', Value: 'app1' },
    { Key: 'flotilla-resource', Value: 'gpu' },
    { Key: 'flotilla-instance', Value: 'fl-0001' },
  ]);
});

test('spot launch: one-time market options and the spot request is tagged too', () => {
  const input = buildRunInstancesInput(req({ offering: { instanceType: 'g5.xlarge', market: 'spot' } }), launch());
  assert.deepEqual(input.InstanceMarketOptions, {
    MarketType: 'spot',
    SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' },
  });
  assert.deepEqual(
    input.TagSpecifications?.map((s) => s.ResourceType),
    ['instance', 'volume', 'spot-instances-request'],
  );
  assert.equal(input.Placement, undefined);
  assert.equal(input.SubnetId, undefined);
});

test('zone may be a subnet id, or an AZ that the subnets map turns into a subnet', () => {
  const l = launch({ subnets: { 'us-east-1b': 'subnet-bbb' } });
  assert.deepEqual(placementOf('subnet-123', l), { subnetId: 'subnet-123' });
  assert.deepEqual(placementOf('us-east-1b', l), { subnetId: 'subnet-bbb' });
  assert.deepEqual(placementOf('us-east-1c', l), { az: 'us-east-1c' });
  const input = buildRunInstancesInput(req({ offering: { instanceType: 't3.micro', zone: 'us-east-1b', market: 'spot' } }), l);
  assert.equal(input.SubnetId, 'subnet-bbb');
  assert.equal(input.Placement, undefined);
});

test('security groups, key, profile and root volume', () => {
  const input = buildRunInstancesInput(
    req(),
    launch({
      securityGroups: ['sg-1', 'default'],
      keyName: 'ops',
      iamInstanceProfile: 'arn:aws:iam::1:instance-profile/flotilla',
      rootVolume: { sizeGb: 200, type: 'gp3', snapshotId: 'snap-9' },
    }),
  );
  assert.deepEqual(input.SecurityGroupIds, ['sg-1']);
  assert.deepEqual(input.SecurityGroups, ['default']);
  assert.equal(input.KeyName, 'ops');
  assert.deepEqual(input.IamInstanceProfile, { Arn: 'arn:aws:iam::1:instance-profile/flotilla' });
  assert.deepEqual(input.BlockDeviceMappings, [
    {
      DeviceName: '/dev/xvda',
      Ebs: { DeleteOnTermination: true, VolumeSize: 200, VolumeType: 'gp3', SnapshotId: 'snap-9' },
    },
  ]);
  const byName = buildRunInstancesInput(req(), launch({ iamInstanceProfile: 'flotilla-agent' }));
  assert.deepEqual(byName.IamInstanceProfile, { Name: 'flotilla-agent' });
});

test('extra tags are added, but never replace the flotilla tags', () => {
  const input = buildRunInstancesInput(req(), launch({ extraTags: { team: 'ml', 'flotilla-app': 'evil' } }));
  const tags = Object.fromEntries(input.TagSpecifications![0].Tags!.map((t) => [t.Key, t.Value]));
  assert.equal(tags.team, 'ml');
  assert.equal(tags['flotilla-app'], 'app1');
});

test('overlay merges deep; token, counts and our tags always win', () => {
  const input = buildRunInstancesInput(
    req(),
    launch({
      overlay: {
        MinCount: 5,
        MaxCount: 5,
        ClientToken: 'other',
        EbsOptimized: true,
        Placement: { Tenancy: 'dedicated' },
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'cost-center', Value: '42' }, { Key: 'flotilla-app', Value: 'x' }] },
          { ResourceType: 'network-interface', Tags: [{ Key: 'eni', Value: '1' }] },
        ],
      },
    }),
  );
  assert.equal(input.MinCount, 1);
  assert.equal(input.MaxCount, 1);
  assert.equal(input.ClientToken, 'fl-0001');
  assert.equal(input.EbsOptimized, true);
  assert.deepEqual(input.Placement, { AvailabilityZone: 'us-east-1a', Tenancy: 'dedicated' });
  const instanceTags = input.TagSpecifications!.find((s) => s.ResourceType === 'instance')!.Tags!;
  assert.deepEqual(instanceTags.filter((t) => t.Key === 'flotilla-app'), [{ Key: 'flotilla-app', Value: 'app1' }]);
  assert.ok(instanceTags.some((t) => t.Key === 'cost-center'));
  assert.ok(input.TagSpecifications!.some((s) => s.ResourceType === 'network-interface'));
});

test('deepMerge replaces arrays and scalars, merges objects', () => {
  assert.deepEqual(deepMerge({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2] }, d: 2 }), { a: { b: 1, c: [2] }, d: 2 });
});
