// Provider-specific checks of an app's settings, so a bad AMI field is a 400 at apply time, not a
// failed launch later. Each cloud registers its validator.
import type { AppConfig } from '../../domain/autoscaler/config.js';

export type Issue = { field: string; message: string };
type Validator = (cfg: AppConfig) => Issue[];

const validators: Record<string, Validator> = {};

export function registerValidator(kind: string, v: Validator): void {
  validators[kind] = v;
}

export function validateProviderSettings(cfg: AppConfig): Issue[] {
  return validators[cfg.provider.kind]?.(cfg) ?? [];
}
