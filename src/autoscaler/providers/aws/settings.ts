// What a user writes for `provider: aws` (app level) and under a resource's `launch:` (per resource type).
import { z } from 'zod';

export const AwsCredentialsSchema = z
  .object({
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1),
    sessionToken: z.string().min(1).optional(),
  })
  .strict();

export const AwsSettingsSchema = z
  .object({
    region: z.string().min(1).describe('AWS region, e.g. us-east-1'),
    credentials: AwsCredentialsSchema.optional().describe(
      'Decrypted secret values; omitted = the SDK default credential chain (env, profile, instance role)',
    ),
    credentialsSecret: z
      .string()
      .optional()
      .describe('Name of the Flotilla secret holding the credentials; the control plane decrypts it into credentials'),
    endpoint: z
      .url()
      .optional()
      .describe('EC2 endpoint override; AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2 work without it'),
    pricingEndpoint: z
      .url()
      .optional()
      .describe('Price List API endpoint override (default: us-east-1); AWS_ENDPOINT_URL_PRICING works without it'),
    throttleRetries: z.number().int().min(0).max(10).default(5).describe('Retries after RequestLimitExceeded'),
    spotRequestGraceS: z
      .number()
      .nonnegative()
      .default(120)
      .describe('An open spot request with no instance older than this is cancelled'),
  })
  .strict();

const RootVolumeSchema = z
  .object({
    sizeGb: z.number().int().positive().optional(),
    type: z.enum(['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard']).optional(),
    snapshotId: z.string().startsWith('snap-').optional(),
    deviceName: z.string().default('/dev/xvda').describe('Root device name of the AMI'),
  })
  .strict();

export const AwsLaunchSchema = z
  .object({
    // A title where the key's words would spell an acronym badly (the console labels fields from the key).
    ami: z.string().startsWith('ami-', 'an AMI id looks like ami-0123456789abcdef0').meta({ title: 'AMI', description: 'Machine image id, e.g. ami-0123456789abcdef0' }),
    subnets: z
      .record(z.string(), z.string().startsWith('subnet-'))
      .default({})
      .describe('Availability zone -> subnet id, used when a zone in resource.zones is an AZ'),
    securityGroups: z
      .array(z.string().min(1))
      .default([])
      .describe('sg-… ids, or group names (names only in the default VPC)'),
    keyName: z.string().optional().meta({ title: 'Key pair', description: 'EC2 key pair name, for SSH; omitted = none' }),
    iamInstanceProfile: z.string().optional().meta({ title: 'IAM instance profile', description: 'Instance profile name or ARN' }),
    rootVolume: RootVolumeSchema.optional(),
    extraTags: z.record(z.string(), z.string()).default({}),
    overlay: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Raw RunInstances input merged last; ClientToken, counts and flotilla tags always win'),
  })
  .strict();

export type AwsSettings = z.output<typeof AwsSettingsSchema>;
export type AwsSettingsInput = z.input<typeof AwsSettingsSchema>;
export type AwsLaunch = z.output<typeof AwsLaunchSchema>;
