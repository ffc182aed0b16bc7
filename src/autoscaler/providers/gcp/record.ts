// The `gcp` provider record: Compute Engine through @google-cloud/compute. The client library (several seconds to
// load) is not imported when the control plane starts, only settings.ts (zod) is; `preload` loads it when an app of
// this kind is applied or found at start.
import type { ProviderRecord } from '../registry.js';
import { GcpLaunchSchema, GcpSettingsSchema } from './settings.js';

/** The secret holds the key file's fields, or the whole key file as text under `json`. */
function keyOf(credentials: Record<string, unknown>): unknown {
  return typeof credentials.json === 'string' ? credentials.json : credentials;
}

export const gcpProvider: ProviderRecord = {
  name: 'gcp',
  settings: GcpSettingsSchema,
  launch: GcpLaunchSchema,
  check: (cfg) => cfg.resources.flatMap((r, i) => (!r.zones?.length && !cfg.provider.settings.zone
    ? [{ field: `resources[${i}].zones`, message: 'GCE needs a zone: list zones or set provider.settings.zone' }]
    : [])),
  capabilities: {
    spot: true, zones: true, priceLookup: false, adoption: true, capacityErrors: true, credentialsSecret: true, startupScript: true,
  },
  preload: () => import('./index.js'),
  create: async (cfg, ctx) =>
    (await import('./index.js')).createGcpProvider({ ...cfg.provider.settings, ...(ctx.credentials ? { credentials: keyOf(ctx.credentials) } : {}) }),
};
