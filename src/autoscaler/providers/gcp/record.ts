// The `gcp` provider record: Compute Engine through @google-cloud/compute. The client library (several seconds to
// load) is not imported when the control plane starts, only settings.ts (zod) is; `preload` loads it when an app of
// this kind is applied or found at start.
import type { AppConfig } from '../../../domain/autoscaler/config.js';
import type { ProviderContext, ProviderRecord } from '../registry.js';
import { GcpLaunchSchema, GcpSettingsSchema } from './settings.js';

/** The secret holds the key file's fields, or the whole key file as text under `json`. */
function keyOf(credentials: Record<string, unknown>): unknown {
  return typeof credentials.json === 'string' ? credentials.json : credentials;
}

/** The app's settings with the decrypted secret's key added as credentials. */
function settingsOf(cfg: AppConfig, ctx: ProviderContext): Record<string, unknown> {
  return { ...cfg.provider.settings, ...(ctx.credentials ? { credentials: keyOf(ctx.credentials) } : {}) };
}

export const gcpProvider: ProviderRecord = {
  name: 'gcp',
  settings: GcpSettingsSchema,
  launch: GcpLaunchSchema,
  check: (cfg) => cfg.resources.flatMap((r, i) => (!r.zones?.length && !cfg.provider.settings.zone
    ? [{ field: `resources[${i}].zones`, message: 'GCE needs a zone: list zones or set provider.settings.zone' }]
    : [])),
  capabilities: {
    spot: true, zones: true, priceLookup: true, adoption: true, capacityErrors: true, credentialsSecret: true, startupScript: true,
  },
  preload: () => import('./index.js'),
  prices: async (cfg, ctx) => (await import('./prices.js')).gcpPriceLookup(
    GcpSettingsSchema.parse(settingsOf(cfg, ctx)),
    { withAccelerators: new Set(cfg.resources.filter((r) => (r.launch as { accelerator?: unknown } | undefined)?.accelerator).map((r) => r.instanceType)) }),
  create: async (cfg, ctx) =>
    (await import('./index.js')).createGcpProvider(settingsOf(cfg, ctx)),
};
