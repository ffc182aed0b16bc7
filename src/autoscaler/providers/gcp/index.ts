// Entry point of the GCP provider: validate settings, build the provider.
import { parseSettings } from '../validate.js';
import { GcpProvider, type GcpDeps } from './provider.js';
import { GcpSettingsSchema } from './settings.js';

export { GcpProvider, gcpClientOptions, type GcpDeps } from './provider.js';
export { buildInstanceResource, TAGS_METADATA_KEY } from './request.js';
export { GCP_CAPACITY_CODES } from './errors.js';
export { instanceNameFor, requestIdFor, uuidV5 } from './naming.js';
export { GcpLaunchSchema, GcpSettingsSchema, type GcpLaunch, type GcpSettings } from './settings.js';

/** Throws a SettingsError naming the field (e.g. `project: …`) when the settings are wrong. */
export function createGcpProvider(settings: unknown, deps?: GcpDeps): GcpProvider {
  return new GcpProvider(parseSettings(GcpSettingsSchema, settings, 'gcp provider settings'), deps);
}
