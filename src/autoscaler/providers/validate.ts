// Turns a zod failure into one error that names each bad field and what to write instead; an unknown key
// is named with its path and the nearest known key (../../domain/config-keys.ts).
import type { z } from 'zod';
import { checkConfig, describeIssues } from '../../domain/config-keys.js';

/** The issues of `value` against `schema`, each with the full field path, for an apply-time 400. */
export function settingsIssues(schema: z.ZodType, value: unknown, prefix: string): { field: string; message: string }[] {
  const result = checkConfig(schema, value ?? {}, prefix);
  if (result.success) return [];
  return result.issues.map((issue) => ({ field: issue.field, message: issue.message }));
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** Parses `value` or throws a SettingsError such as `aws provider settings: region: expected string`. */
export function parseSettings<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = checkConfig(schema, value ?? {});
  if (result.success) return result.data;
  throw new SettingsError(`${what}: ${describeIssues(result.issues).join('; ')}`);
}
