// How "check credentials" tells EC2's answers to a DryRun (the SDK client mocked; moto always says DryRunOperation).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EC2Client, EC2ServiceException, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { checkAws } from './check.js';

const ec2 = mockClient(EC2Client);
const settings = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
const resource = { name: 'cpu', instanceType: 't3.micro', pricePerHour: 0.01, maxInstances: 1, spot: false, onDemandFallback: true, launch: { ami: 'ami-785db401' } };
const refuse = (name: string) => new EC2ServiceException({ name, $fault: 'client', message: `${name} happened`, $metadata: { httpStatusCode: 403 } });

test('DryRunOperation is a pass; UnauthorizedOperation names the missing permission; AuthFailure says the keys are wrong', async () => {
  ec2.reset();
  ec2.on(RunInstancesCommand).rejectsOnce(refuse('DryRunOperation')).rejectsOnce(refuse('UnauthorizedOperation')).rejectsOnce(refuse('AuthFailure'));
  const ok = await checkAws(settings, resource, new EC2Client({ region: 'us-east-1' }));
  assert.equal(ok.ok, true);
  assert.equal(ec2.commandCalls(RunInstancesCommand)[0].args[0].input.DryRun, true, 'a dry run, nothing launched');
  const denied = await checkAws(settings, resource, new EC2Client({ region: 'us-east-1' }));
  assert.equal(denied.ok, false);
  assert.match(denied.message, /ec2:RunInstances/);
  const wrong = await checkAws(settings, resource, new EC2Client({ region: 'us-east-1' }));
  assert.match(wrong.message, /not valid \(AuthFailure\)/);
});
