// The AWS provider against a real moto_server on loopback, through the real SDK client.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, beforeEach, test } from 'node:test';
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand, EC2ServiceException, type EC2Client } from '@aws-sdk/client-ec2';
import { parse } from 'yaml';
import { AppConfigSchema } from '../src/domain/autoscaler/config.js';
import { AwsLaunchSchema, createAwsProvider, ec2ClientFor } from '../src/autoscaler/providers/aws/index.js';
import { AwsSettingsSchema } from '../src/autoscaler/providers/aws/settings.js';
import { CapacityError, TAG, type LaunchRequest, type Offering } from '../src/autoscaler/providers/types.js';
import { startMoto, type Moto } from './helpers/moto.js';

let moto: Moto;
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const settings = () => ({ region: 'us-east-1', endpoint: moto.url, credentials });
const noWait = { sleep: async () => {} };

before(async () => {
  moto = await startMoto();
});
after(async () => {
  await moto.stop();
});
beforeEach(async () => {
  await moto.reset();
});

let seq = 0;
function request(offering: Offering, appId = 'app1'): LaunchRequest {
  const clientToken = `tok-${++seq}`;
  return {
    appId,
    resource: 'cpu',
    clientToken,
    offering,
    launch: { ami: 'ami-785db401', extraTags: { team: 'ml' } },
    startupScript: '#!/bin/bash\necho boot\n',
    tags: { [TAG.app]: appId, [TAG.resource]: 'cpu', [TAG.instance]: clientToken, [TAG.controlPlane]: 'cp1' },
  };
}

/** Fails RunInstances when `when` says so, as a cloud would; at step initialize it runs once per call. */
function injectRunFault(client: EC2Client, code: string, when: (input: Record<string, unknown>) => boolean) {
  client.middlewareStack.add(
    (next, ctx) => async (args) => {
      if (ctx.commandName === 'RunInstancesCommand' && when(args.input as Record<string, unknown>))
        throw new EC2ServiceException({ name: code, $fault: 'server', message: code, $metadata: { httpStatusCode: 500 } });
      return next(args);
    },
    { step: 'initialize', name: 'faultInjector' },
  );
}

test('on-demand launch is tagged at creation and listed by app tag; terminate removes it', async () => {
  const client = ec2ClientFor(AwsSettingsSchema.parse(settings()));
  const aws = createAwsProvider(settings(), { client });
  const req = request({ instanceType: 't3.micro', zone: 'us-east-1b', market: 'on-demand' });
  const launched = await aws.launch(req);
  assert.match(launched.providerId, /^i-/);
  await aws.launch(request({ instanceType: 't3.micro', market: 'on-demand' }, 'other-app'));

  const listed = await aws.list('app1');
  assert.equal(listed.length, 1);
  const [one] = listed;
  assert.equal(one.providerId, launched.providerId);
  assert.equal(one.state, 'running');
  assert.equal(one.clientToken, req.clientToken);
  assert.equal(one.resource, 'cpu');
  assert.deepEqual(one.offering, { instanceType: 't3.micro', zone: 'us-east-1b', market: 'on-demand' });
  assert.equal(one.tags.team, 'ml');
  assert.equal(one.tags[TAG.controlPlane], 'cp1');
  const volumes = await client.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:flotilla-app', Values: ['app1'] }] }));
  assert.equal(volumes.Volumes?.length, 1, 'the root volume is tagged at creation too');

  await aws.terminate([launched.providerId, 'i-00000000000000000']);
  assert.deepEqual(await aws.list('app1'), []);
  assert.equal((await aws.list('other-app')).length, 1);
  await aws.close();
});

test('spot launch is a spot instance; user data reaches the machine', async () => {
  const client = ec2ClientFor(AwsSettingsSchema.parse(settings()));
  const aws = createAwsProvider(settings(), { client });
  const launched = await aws.launch(request({ instanceType: 'm5.large', market: 'spot' }));
  const [one] = await aws.list('app1');
  assert.equal(one.providerId, launched.providerId);
  assert.equal(one.offering?.market, 'spot');
  const attr = await client.send(
    new DescribeInstanceAttributeCommand({ InstanceId: launched.providerId, Attribute: 'userData' }),
  );
  assert.equal(Buffer.from(attr.UserData?.Value ?? '', 'base64').toString(), '#!/bin/bash\necho boot\n');
  client.destroy();
});

test('a zone that is a subnet id puts the instance in that subnet', async () => {
  const client = ec2ClientFor(AwsSettingsSchema.parse(settings()));
  const subnets = (await client.send(new DescribeSubnetsCommand({}))).Subnets ?? [];
  const subnet = subnets[0].SubnetId!;
  const aws = createAwsProvider(settings(), { client });
  const launched = await aws.launch(request({ instanceType: 't3.micro', zone: subnet, market: 'on-demand' }));
  const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [launched.providerId] }));
  assert.equal(out.Reservations?.[0].Instances?.[0].SubnetId, subnet);
  client.destroy();
});

test('capacity errors carry the offering, so the policy can fall back across zones and to on-demand', async () => {
  const client = ec2ClientFor(AwsSettingsSchema.parse(settings()));
  // No spot anywhere; on-demand only in us-east-1b.
  injectRunFault(client, 'InsufficientInstanceCapacity', (input) => {
    const spot = !!input.InstanceMarketOptions;
    const az = (input.Placement as { AvailabilityZone?: string } | undefined)?.AvailabilityZone;
    return spot || az === 'us-east-1a';
  });
  const aws = createAwsProvider(settings(), { client, backoff: noWait });
  const plan: Offering[] = [
    { instanceType: 't3.micro', zone: 'us-east-1a', market: 'spot' },
    { instanceType: 't3.micro', zone: 'us-east-1b', market: 'spot' },
    { instanceType: 't3.micro', zone: 'us-east-1a', market: 'on-demand' },
    { instanceType: 't3.micro', zone: 'us-east-1b', market: 'on-demand' },
  ];
  // What the reconciler does: mark the failed offering unavailable, try the next one.
  const failed: Offering[] = [];
  let launchedOn: Offering | undefined;
  for (const offering of plan) {
    try {
      launchedOn = (await aws.launch(request(offering))).offering;
      break;
    } catch (err) {
      assert.ok(err instanceof CapacityError, String(err));
      assert.equal(err.code, 'InsufficientInstanceCapacity');
      failed.push(err.offering);
    }
  }
  assert.deepEqual(failed, plan.slice(0, 3));
  assert.deepEqual(launchedOn, plan[3]);
  const listed = await aws.list('app1');
  assert.equal(listed.length, 1, 'failed attempts left no machine behind');
  assert.deepEqual(listed[0].offering, plan[3]);
  client.destroy();
});

test('throttled launches back off and then make exactly one machine', async () => {
  const client = ec2ClientFor(AwsSettingsSchema.parse(settings()));
  let throttles = 2;
  injectRunFault(client, 'RequestLimitExceeded', () => throttles-- > 0);
  const aws = createAwsProvider(settings(), { client, backoff: noWait });
  await aws.launch(request({ instanceType: 't3.micro', market: 'on-demand' }));
  assert.equal((await aws.list('app1')).length, 1);
  client.destroy();
});

test('deploy/examples/aws-moto.yaml works with the endpoint from AWS_ENDPOINT_URL', async () => {
  const app = AppConfigSchema.parse(parse(readFileSync('deploy/examples/aws-moto.yaml', 'utf8')));
  assert.equal(app.timings.bootTimeoutS, 30);
  assert.deepEqual(Object.keys(app.queues), ['aws-cpu']);
  const resource = app.resources[0];
  AwsLaunchSchema.parse(resource.launch);
  const saved = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = moto.url;
  try {
    const aws = createAwsProvider(app.provider.settings);
    assert.equal(aws.settings.endpoint, undefined);
    const req = { ...request({ instanceType: resource.instanceType, zone: resource.zones?.[0], market: 'spot' }, app.name) };
    await aws.launch({ ...req, resource: resource.name, launch: resource.launch });
    const [one] = await aws.list(app.name);
    assert.equal(one.offering?.zone, 'us-east-1a');
    await aws.close();
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = saved;
  }
});
