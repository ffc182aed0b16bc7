// How big one request's parts may be. Every list and string the API takes has a bound, so no request can make
// the control plane loop over thousands of names or store megabytes in a field meant for a line: over-long input
// is a 400 naming the field and the limit. Each limit with why it has its value; docs/api.md lists them.
import { z } from 'zod';

export const LIMITS = Object.freeze({
  /** Queues named in one request (an agent's priority list, the glue's queues): far more than any deployment serves. */
  queuesPerRequest: 500,
  /** Ids of tasks, workers, leases, tokens, instances: ours are 12–40 characters, cloud ids under 100. */
  id: 128,
  /** Names of tasks, tokens, apps and resources, and short labels (image names, branches, instance types). */
  name: 256,
  /** A task's shell command, setup script: a long script inline, not a file. */
  script: 64 * 1024,
  /** Entries in an environment map (a task's env, a container's env). */
  envEntries: 256,
  /** One environment value (a certificate or a JSON blob fits). */
  envValue: 32 * 1024,
  /** A URL, a path, a mount. */
  path: 4096,
  /** Mounts of a task's container. */
  mounts: 64,
  /** One log text (a chunk of output): the agent splits longer output; the pipe gives ≤ 64 KiB at a time. */
  logText: 1024 * 1024,
  /** Lines in one log batch (the agent sends ≤ 2,000). */
  logLines: 10_000,
  /** A status message, a requeue or release reason, a journal reason. */
  message: 2000,
  /** A journal row's detail, as JSON. */
  detailBytes: 16 * 1024,
  // ---- the catch-all every request passes before its schema (route.ts) ----
  /** Any string anywhere in a request. */
  anyString: 1024 * 1024,
  /** Any array anywhere in a request. */
  anyArray: 10_000,
  /** Keys of any object anywhere in a request. */
  anyKeys: 10_000,
  /** Nesting of objects and arrays. */
  depth: 32,
});

/** A string of at most `max` characters whose 400 says so. */
export const bounded = (max: number) => z.string().max(max, `at most ${max} characters`);

/** A list of at most `max` items whose 400 says so. */
export const boundedList = <T extends z.ZodType>(item: T, max: number) => z.array(item).max(max, `at most ${max} items`);

/** An id in a path or a body. */
export const idString = z.string().min(1).max(LIMITS.id, `at most ${LIMITS.id} characters`);

/**
 * Finds the first part of a parsed request over the catch-all limits, before any schema looks at it (a schema
 * may loop over every element of a huge list before it says the list is too long). Iterative: no deep recursion.
 */
export function oversized(value: unknown, where: string): { field: string; message: string } | undefined {
  const stack: [unknown, string, number][] = [[value, where, 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.length > LIMITS.anyString) return { field: path, message: `at most ${LIMITS.anyString} characters` };
    } else if (Array.isArray(v)) {
      if (v.length > LIMITS.anyArray) return { field: path, message: `at most ${LIMITS.anyArray} items` };
      if (depth >= LIMITS.depth) return { field: path, message: `nested at most ${LIMITS.depth} deep` };
      for (let i = 0; i < v.length; i++) stack.push([v[i], `${path}.${i}`, depth + 1]);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length > LIMITS.anyKeys) return { field: path, message: `at most ${LIMITS.anyKeys} keys` };
      if (depth >= LIMITS.depth) return { field: path, message: `nested at most ${LIMITS.depth} deep` };
      for (const k of keys) stack.push([(v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1]);
    }
  }
  return undefined;
}

/** A process's exit code: stored as a 32-bit integer (PostgreSQL refused a larger one with a 500; SQLite took it). */
export const exitCode = z.number().int().min(-(2 ** 31), 'a 32-bit exit code').max(2 ** 31 - 1, 'a 32-bit exit code');
