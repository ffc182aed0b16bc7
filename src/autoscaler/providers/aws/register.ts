// Importing this file makes `provider: aws` available: the factory and the apply-time validator.
import { registerProvider } from '../index.js';
import { registerValidator } from '../validate-config.js';
import { settingsIssues } from '../validate.js';
import { AwsLaunchSchema, AwsSettingsSchema } from './settings.js';

// The SDK loads on first use (about 2 s), not when the control plane starts.
registerProvider('aws', async (cfg, deps) =>
  (await import('./index.js')).createAwsProvider({ ...cfg.provider.settings, ...(deps.credentials ? { credentials: deps.credentials } : {}) }),
);

registerValidator('aws', (cfg) => [
  ...settingsIssues(AwsSettingsSchema, cfg.provider.settings, 'provider.settings'),
  ...cfg.resources.flatMap((r, i) => settingsIssues(AwsLaunchSchema, r.launch, `resources[${i}].launch`)),
]);
