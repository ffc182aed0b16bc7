// Strict configuration: a key the schema does not know is refused, named with its path and the nearest
// known key ("unknown key budgett at the top level; did you mean budget?"). Used for the app file (CLI,
// API, simulator), the Kubernetes glue file, the agent file and the provider settings. The schemas are
// z.strictObject; free-form maps (env, labels, tags, pod templates) stay records or loose objects.
import type { z } from 'zod';

type Key = PropertyKey;

/** A field path as users write it: `resources[0].launch.ami`; '' is the top level. */
export function fieldPath(path: readonly Key[], prefix = ''): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    prefix,
  );
}

/** Levenshtein distance with adjacent transpositions (optimal string alignment), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++)
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[s.length]![t.length]!;
}

/** The known key nearest to `key`, if one is near enough to be a likely typo (at most a third of its length, at least 2). */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(key, k);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** "unknown key budgett at the top level; did you mean budget?" (or the list of known keys when none is near). */
export function unknownKeyMessage(key: string, where: string, known: readonly string[]): string {
  const at = where ? `at ${where}` : 'at the top level';
  const near = nearestKey(key, known);
  const hint = near ? `did you mean ${near}?` : known.length ? `known keys: ${known.join(', ')}` : 'no keys are allowed here';
  return `unknown key ${key} ${at}; ${hint}`;
}

export interface ConfigIssue {
  /** Full path of the bad field; for an unknown key, the key itself is the last element. */
  path: Key[];
  /** Where the issue is, as users write it ('' = top level). */
  field: string;
  message: string;
  unknownKey?: true;
}

export type ConfigResult<T> = { success: true; data: T } | { success: false; issues: ConfigIssue[] };

function knownKeysOf(inst: unknown): string[] {
  const shape = (inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

/**
 * Validates `value` against `schema`. An unknown key becomes one issue per key, whose message names the key,
 * its path (under `prefix`, e.g. `resources[0].launch`) and the nearest known key at that path.
 */
export function checkConfig<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): ConfigResult<z.output<S>> {
  const known = new Map<string, string[]>();
  const result = schema.safeParse(value, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      const keys = knownKeysOf(iss.inst);
      const path = (iss.path ?? []) as Key[];
      known.set(JSON.stringify(path.map(String)), keys);
      return iss.keys.map((k) => unknownKeyMessage(k, fieldPath(path, prefix), keys)).join('; ');
    },
  });
  if (result.success) return { success: true, data: result.data };
  const issues = result.error.issues.flatMap((iss): ConfigIssue[] => {
    if (iss.code !== 'unrecognized_keys')
      return [{ path: iss.path, field: fieldPath(iss.path, prefix), message: iss.message }];
    const keys = known.get(JSON.stringify(iss.path.map(String))) ?? [];
    return iss.keys.map((k) => ({
      path: [...iss.path, k],
      field: fieldPath([...iss.path, k], prefix),
      message: unknownKeyMessage(k, fieldPath(iss.path, prefix), keys),
      unknownKey: true as const,
    }));
  });
  return { success: false, issues };
}

/**
 * One line per issue: an unknown key's message names its own path; any other reads `field: message` with the
 * field dotted as these messages always were (`queues.0.maxPods`), under `prefix` if given.
 */
export function describeIssues(issues: readonly ConfigIssue[], prefix = ''): string[] {
  return issues.map((i) => {
    if (i.unknownKey) return i.message;
    const field = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    return `${field || '(root)'}: ${i.message}`;
  });
}

export class ConfigError extends Error {
  constructor(readonly what: string, readonly issues: ConfigIssue[], prefix = '') {
    super(`${what}: ${describeIssues(issues, prefix).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `value` or throws a ConfigError such as `kubernetes glue config: unknown key maxPod at queues[0]; did you mean maxPods?`. */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, what: string, prefix = ''): z.output<S> {
  const r = checkConfig(schema, value, prefix);
  if (r.success) return r.data;
  throw new ConfigError(what, r.issues, prefix);
}

/**
 * For data this program wrote itself (an app stored in the database): keys a later version no longer knows
 * are dropped, as before strictness, so a stored app always loads; any other issue still throws.
 */
export function parseDroppingUnknownKeys<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  let current = value;
  for (let round = 0; round < 8; round++) {
    const r = schema.safeParse(current);
    if (r.success) return r.data;
    const unknown = r.error.issues.filter((i) => i.code === 'unrecognized_keys');
    if (!unknown.length) break;
    current = structuredClone(current);
    for (const iss of unknown) {
      let node: unknown = current;
      for (const k of iss.path) node = (node as Record<Key, unknown> | undefined)?.[k as never];
      if (node && typeof node === 'object') for (const k of iss.keys) delete (node as Record<string, unknown>)[k];
    }
  }
  return schema.parse(current);
}
