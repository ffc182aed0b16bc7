// "Check credentials" for AWS: a DryRun RunInstances of the app's first resource (or a DryRun DescribeInstances when
// there is none). EC2 answers DryRunOperation when the call would have succeeded, UnauthorizedOperation naming nothing
// more when the credentials lack the permission, AuthFailure when they are not valid: nothing is launched.
import { DescribeInstancesCommand, RunInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ec2ClientFor } from './provider.js';
import { buildRunInstancesInput } from './request.js';
import { awsErrorCode } from './errors.js';
import { AwsLaunchSchema, AwsSettingsSchema } from './settings.js';
import { parseSettings } from '../validate.js';
import type { ResourceConfig } from '../../../domain/autoscaler/config.js';

export interface CredentialCheck { what: string; ok: boolean; message: string }

const PERMISSION: Record<string, string> = { RunInstances: 'ec2:RunInstances', DescribeInstances: 'ec2:DescribeInstances' };

/** `client`: tests inject one (aws-sdk-client-mock) to see how EC2's refusals are told. */
export async function checkAws(settings: Record<string, unknown>, resource?: ResourceConfig, client?: EC2Client): Promise<CredentialCheck> {
  const s = parseSettings(AwsSettingsSchema, { ...settings, throttleRetries: 0 }, 'aws provider settings');
  client ??= ec2ClientFor(s);
  const action = resource ? 'RunInstances' : 'DescribeInstances';
  const what = resource ? `DryRun RunInstances of ${resource.instanceType} (resource "${resource.name}") in ${s.region}` : `DryRun DescribeInstances in ${s.region}`;
  try {
    if (resource) {
      const launch = parseSettings(AwsLaunchSchema, resource.launch, `resource "${resource.name}" launch`);
      const input = buildRunInstancesInput({
        appId: 'check', resource: resource.name, clientToken: 'flotilla-credentials-check', launch: resource.launch,
        offering: { instanceType: resource.instanceType, zone: resource.zones?.[0], market: 'on-demand' },
        startupScript: '#!/bin/sh\n', tags: { 'flotilla-check': 'dry-run' },
      }, launch);
      await client.send(new RunInstancesCommand({ ...input, DryRun: true }));
    } else {
      await client.send(new DescribeInstancesCommand({ DryRun: true, MaxResults: 5 }));
    }
    return { what, ok: true, message: 'EC2 accepted the call without DryRun refusing it' };
  } catch (err) {
    const code = awsErrorCode(err);
    if (code === 'DryRunOperation') return { what, ok: true, message: 'would succeed (DryRunOperation)' };
    if (code === 'UnauthorizedOperation')
      return { what, ok: false, message: `the credentials lack the permission ${PERMISSION[action]} (UnauthorizedOperation): add it to their IAM policy` };
    if (code === 'AuthFailure' || code === 'InvalidClientTokenId' || code === 'SignatureDoesNotMatch')
      return { what, ok: false, message: `the credentials are not valid (${code}): check the secret's accessKeyId and secretAccessKey` };
    return { what, ok: false, message: `${code ?? 'error'}: ${(err as Error).message}` };
  } finally {
    client.destroy();
  }
}
