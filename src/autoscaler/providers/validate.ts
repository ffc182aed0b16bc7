// Turns a zod failure into one error that names each bad field and what to write instead.
import type { z } from 'zod';

/** A field path as users write it: `resources[0].launch.ami`. */
function fieldPath(prefix: string, path: PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), prefix);
}

/** The issues of `value` against `schema`, each with the full field path, for an apply-time 400. */
export function settingsIssues(schema: z.ZodType, value: unknown, prefix: string): { field: string; message: string }[] {
  const result = schema.safeParse(value ?? {});
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ field: fieldPath(prefix, issue.path), message: issue.message }));
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** Parses `value` or throws a SettingsError such as `aws provider settings: region: expected string`. */
export function parseSettings<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(root)';
    return `${field}: ${issue.message}`;
  });
  throw new SettingsError(`${what}: ${lines.join('; ')}`);
}
