// Request shapes and error mapping of the AWS provider, with the SDK client mocked.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import {
  CancelSpotInstanceRequestsCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  EC2ServiceException,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { CapacityError, ThrottleError, type LaunchRequest } from '../types.js';
import { SettingsError } from '../validate.js';
import { createAwsProvider } from './index.js';

const ec2 = mockClient(EC2Client);
const sleeps: number[] = [];
const now = new Date('2026-01-01T12:00:00Z');
const provider = () =>
  createAwsProvider(
    { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, throttleRetries: 3 },
    { client: new EC2Client({ region: 'us-east-1' }), backoff: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 }, now: () => now },
  );
const awsError = (name: string) =>
  new EC2ServiceException({ name, $fault: 'client', message: `${name} happened`, $metadata: { httpStatusCode: 400 } });
const req: LaunchRequest = {
  appId: 'app1',
  resource: 'cpu',
  clientToken: 'tok-1',
  offering: { instanceType: 't3.micro', zone: 'subnet-a', market: 'spot' },
  launch: { ami: 'ami-785db401' },
  startupScript: 'echo',
  tags: { 'flotilla-app': 'app1' },
};

beforeEach(() => {
  ec2.reset();
  sleeps.length = 0;
});

test('launch sends the idempotency token and returns the instance id', async () => {
  ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-1', State: { Name: 'pending' } }] });
  const out = await provider().launch(req);
  assert.deepEqual(out, { providerId: 'i-1', offering: req.offering, state: 'pending' });
  const sent = ec2.commandCalls(RunInstancesCommand)[0].args[0].input;
  assert.equal(sent.ClientToken, 'tok-1');
  assert.equal(sent.SubnetId, 'subnet-a');
});

test('a token already carried by a live machine of the app is not launched again (our own tag check)', async () => {
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-old', State: { Name: 'running' },
    Tags: [{ Key: 'flotilla-app', Value: 'app1' }, { Key: 'flotilla-instance', Value: 'tok-1' }] }] }] });
  const out = await provider().launch(req);
  assert.deepEqual(out, { providerId: 'i-old', offering: req.offering, state: 'running' });
  assert.equal(ec2.commandCalls(RunInstancesCommand).length, 0);
  const filters = ec2.commandCalls(DescribeInstancesCommand)[0].args[0].input.Filters;
  assert.deepEqual(filters?.find((f) => f.Name === 'tag:flotilla-instance')?.Values, ['tok-1']);
});

for (const code of ['InsufficientInstanceCapacity', 'SpotMaxPriceTooLow', 'MaxSpotInstanceCountExceeded', 'Unsupported']) {
  test(`${code} becomes a CapacityError carrying the offering, with no retry`, async () => {
    ec2.on(RunInstancesCommand).rejects(awsError(code));
    const err = await provider().launch(req).catch((e) => e);
    assert.ok(err instanceof CapacityError);
    assert.deepEqual(err.offering, req.offering);
    assert.equal(err.code, code);
    assert.equal(ec2.commandCalls(RunInstancesCommand).length, 1);
  });
}

test('throttling backs off with jitter and then succeeds with the same token', async () => {
  ec2
    .on(RunInstancesCommand)
    .rejectsOnce(awsError('RequestLimitExceeded'))
    .rejectsOnce(awsError('RequestLimitExceeded'))
    .resolves({ Instances: [{ InstanceId: 'i-2', State: { Name: 'pending' } }] });
  const out = await provider().launch(req);
  assert.equal(out.providerId, 'i-2');
  const tokens = ec2.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.ClientToken);
  assert.deepEqual(tokens, ['tok-1', 'tok-1', 'tok-1']);
  assert.deepEqual(sleeps, [250, 500]); // half of 500 ms, then half of 1 s
});

test('throttling that outlasts the retries becomes a ThrottleError', async () => {
  ec2.on(RunInstancesCommand).rejects(awsError('RequestLimitExceeded'));
  const err = await provider().launch(req).catch((e) => e);
  assert.ok(err instanceof ThrottleError);
  assert.equal(err.code, 'RequestLimitExceeded');
  assert.equal(ec2.commandCalls(RunInstancesCommand).length, 4);
});

test('other errors pass through unchanged', async () => {
  ec2.on(RunInstancesCommand).rejects(awsError('InvalidAMIID.NotFound'));
  const err = await provider().launch(req).catch((e) => e);
  assert.equal(err.name, 'InvalidAMIID.NotFound');
});

test('bad launch settings name the resource and the field', async () => {
  const err = await provider().launch({ ...req, launch: { ami: 'centos' } }).catch((e) => e);
  assert.ok(err instanceof SettingsError);
  assert.match(err.message, /resource "cpu".*ami: an AMI id looks like/);
});

test('bad provider settings name the field', () => {
  assert.throws(() => createAwsProvider({}), /aws provider settings: region:/);
  assert.throws(() => createAwsProvider({ region: 'x', credentials: { accessKeyId: 'a' } }), /credentials.secretAccessKey/);
  assert.throws(() => createAwsProvider({ region: 'x', regoin: 'y' }), /regoin/);
});

test('list filters by app tag and live states, maps state and market', async () => {
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-1',
            InstanceType: 't3.micro',
            InstanceLifecycle: 'spot',
            State: { Name: 'stopped' },
            Placement: { AvailabilityZone: 'us-east-1a' },
            Tags: [
              { Key: 'flotilla-app', Value: 'app1' },
              { Key: 'flotilla-instance', Value: 'tok-1' },
              { Key: 'flotilla-resource', Value: 'cpu' },
            ],
          },
        ],
      },
    ],
  });
  ec2.on(DescribeSpotInstanceRequestsCommand).resolves({});
  const list = await provider().list('app1');
  assert.equal(list.length, 1);
  assert.equal(list[0].state, 'stopping');
  assert.equal(list[0].clientToken, 'tok-1');
  assert.equal(list[0].resource, 'cpu');
  assert.deepEqual(list[0].offering, { instanceType: 't3.micro', zone: 'us-east-1a', market: 'spot' });
  const filters = ec2.commandCalls(DescribeInstancesCommand)[0].args[0].input.Filters;
  assert.deepEqual(filters?.[0], { Name: 'tag:flotilla-app', Values: ['app1'] });
  assert.ok(!filters?.[1].Values?.includes('terminated'));
});

test('an open spot request without an instance, past the grace period, is cancelled', async () => {
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  ec2.on(DescribeSpotInstanceRequestsCommand).resolves({
    SpotInstanceRequests: [
      { SpotInstanceRequestId: 'sir-old', State: 'open', CreateTime: new Date(now.getTime() - 600_000) },
      { SpotInstanceRequestId: 'sir-new', State: 'open', CreateTime: new Date(now.getTime() - 10_000) },
      { SpotInstanceRequestId: 'sir-ok', State: 'open', InstanceId: 'i-9', CreateTime: new Date(0) },
    ],
  });
  ec2.on(CancelSpotInstanceRequestsCommand).resolves({});
  await provider().list('app1');
  const cancelled = ec2.commandCalls(CancelSpotInstanceRequestsCommand).map((c) => c.args[0].input.SpotInstanceRequestIds);
  assert.deepEqual(cancelled, [['sir-old']]);
});

test('terminate: an id already gone does not stop the others', async () => {
  ec2
    .on(TerminateInstancesCommand, { InstanceIds: ['i-1', 'i-gone'] })
    .rejects(awsError('InvalidInstanceID.NotFound'))
    .on(TerminateInstancesCommand, { InstanceIds: ['i-gone'] })
    .rejects(awsError('InvalidInstanceID.NotFound'))
    .on(TerminateInstancesCommand, { InstanceIds: ['i-1'] })
    .resolves({});
  await provider().terminate(['i-1', 'i-gone']);
  const batches = ec2.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input.InstanceIds);
  assert.deepEqual(batches, [['i-1', 'i-gone'], ['i-1'], ['i-gone']]);
});
