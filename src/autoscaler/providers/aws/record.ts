// The `aws` provider record: EC2 through the AWS SDK. The SDK (2–4 s to load) is not imported when the control
// plane starts, only settings.ts (zod) is; `preload` loads it when an app of this kind is applied or found at start.
import type { ProviderRecord } from '../registry.js';
import { AwsLaunchSchema, AwsSettingsSchema } from './settings.js';

export const awsProvider: ProviderRecord = {
  name: 'aws',
  settings: AwsSettingsSchema,
  launch: AwsLaunchSchema,
  capabilities: {
    spot: true, zones: true, priceLookup: true, adoption: true, capacityErrors: true, credentialsSecret: true, startupScript: true,
  },
  preload: () => import('./index.js'),
  prices: async (cfg, ctx) => (await import('./prices.js')).awsPriceLookup(
    AwsSettingsSchema.parse({ ...cfg.provider.settings, ...(ctx.credentials ? { credentials: ctx.credentials } : {}) })),
  create: async (cfg, ctx) =>
    (await import('./index.js')).createAwsProvider({ ...cfg.provider.settings, ...(ctx.credentials ? { credentials: ctx.credentials } : {}) }),
};
