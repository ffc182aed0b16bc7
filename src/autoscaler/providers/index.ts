// Every provider of this build, registered here and only here: one record each (./registry.ts).
// Adding a provider = writing its record and listing it below.
import { awsProvider } from './aws/record.js';
import { gcpProvider } from './gcp/record.js';
import { localProvider } from './local/record.js';
import { ProviderRegistry } from './registry.js';
import { simulatedProvider } from './simulated/record.js';

export { ProviderRegistry, type Issue, type ProviderCapabilities, type ProviderContext, type ProviderRecord } from './registry.js';
export { awsProvider, gcpProvider, localProvider, simulatedProvider };

export const PROVIDERS = new ProviderRegistry([localProvider, simulatedProvider, awsProvider, gcpProvider]);

/** The apply-time issues of an app's provider settings (see ProviderRegistry.validate). */
export const validateProviderSettings = PROVIDERS.validate.bind(PROVIDERS);
