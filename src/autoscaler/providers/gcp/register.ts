// Importing this file makes `provider: gcp` available: the factory and the apply-time validator.
import { registerProvider } from '../index.js';
import { registerValidator } from '../validate-config.js';
import { settingsIssues } from '../validate.js';
import { GcpLaunchSchema, GcpSettingsSchema } from './settings.js';

/** The secret holds the key file's fields, or the whole key file as text under `json`. */
function keyOf(credentials: Record<string, unknown>): unknown {
  return typeof credentials.json === 'string' ? credentials.json : credentials;
}

// The client library loads on first use (several seconds), not when the control plane starts.
registerProvider('gcp', async (cfg, deps) =>
  (await import('./index.js')).createGcpProvider({ ...cfg.provider.settings, ...(deps.credentials ? { credentials: keyOf(deps.credentials) } : {}) }),
);

registerValidator('gcp', (cfg) => [
  ...settingsIssues(GcpSettingsSchema, cfg.provider.settings, 'provider.settings'),
  ...cfg.resources.flatMap((r, i) => [
    ...settingsIssues(GcpLaunchSchema, r.launch, `resources[${i}].launch`),
    ...(!r.zones?.length && !cfg.provider.settings.zone
      ? [{ field: `resources[${i}].zones`, message: 'GCE needs a zone: list zones or set provider.settings.zone' }]
      : []),
  ]),
]);
