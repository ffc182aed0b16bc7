// The `aws` provider record: EC2 through the AWS SDK. The SDK loads on first use (about 2 s), not when the control
// plane starts, so only settings.ts (zod) is imported here.
import type { ProviderRecord } from '../registry.js';
import { AwsLaunchSchema, AwsSettingsSchema } from './settings.js';

export const awsProvider: ProviderRecord = {
  name: 'aws',
  settings: AwsSettingsSchema,
  launch: AwsLaunchSchema,
  capabilities: {
    spot: true, zones: true, priceLookup: false, adoption: true, capacityErrors: true, credentialsSecret: true, startupScript: true,
  },
  create: async (cfg, ctx) =>
    (await import('./index.js')).createAwsProvider({ ...cfg.provider.settings, ...(ctx.credentials ? { credentials: ctx.credentials } : {}) }),
};
