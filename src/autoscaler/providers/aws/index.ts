// Entry point of the AWS provider: validate settings, build the provider.
import { parseSettings } from '../validate.js';
import { AwsProvider, type AwsDeps } from './provider.js';
import { AwsSettingsSchema } from './settings.js';

export { AwsProvider, ec2ClientFor, type AwsDeps } from './provider.js';
export { buildRunInstancesInput, placementOf } from './request.js';
export { AWS_CAPACITY_CODES, AWS_THROTTLE_CODES } from './errors.js';
export { AwsLaunchSchema, AwsSettingsSchema, type AwsLaunch, type AwsSettings } from './settings.js';

/** Throws a SettingsError naming the field (e.g. `region: …`) when the settings are wrong. */
export function createAwsProvider(settings: unknown, deps?: AwsDeps): AwsProvider {
  return new AwsProvider(parseSettings(AwsSettingsSchema, settings, 'aws provider settings'), deps);
}
