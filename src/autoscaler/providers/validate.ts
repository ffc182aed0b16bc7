// Turns a zod failure into one error that names each bad field and what to write instead.
import type { z } from 'zod';

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
