// Where an agent's own credentials come from: its config file (YAML or JSON, mode 0600), the
// FLOTILLA_GIT_* variables, and a storage-credentials file. Values are read once and the variables
// are removed from the agent's env, so no child process (git, podman, a task) inherits them. An unknown key
// in a file is refused with its path and the nearest known key.
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { checkConfig, describeIssues } from '../domain/config-keys.js';
import { gitCredentialsSchema, type GitCredentials } from './git.js';
import { storageSecretSchema, type StorageSecret } from './storage-credentials.js';

export const agentConfigSchema = z.strictObject({
  git: gitCredentialsSchema.optional().describe('credentials for private repositories'),
  storage: storageSecretSchema.optional().describe('cloud-storage credentials handed to task containers'),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Reads a file that holds secrets; refuses one that other users can read. */
export function readPrivateFile(path: string, what: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    throw new Error(`${what} ${path} cannot be read: check the path`);
  }
  if (mode & 0o077) throw new Error(`${what} ${path} is readable by others (mode ${mode.toString(8)}); fix it with: chmod 600 ${path}`);
  return readFileSync(path, 'utf8');
}

function parseFile<T extends z.ZodType>(schema: T, path: string, what: string, field: string): z.infer<T> {
  let data: unknown;
  try {
    data = parseYaml(readPrivateFile(path, what)); // YAML is a superset of JSON
  } catch (e) {
    if ((e as Error).message.startsWith(what)) throw e;
    throw new Error(`${what} ${path} is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = checkConfig(schema, data ?? {}, field);
  if (!r.success) throw new Error(`${what} ${path}: ${describeIssues(r.issues, field).join('; ')}`);
  return r.data;
}

export function readAgentConfig(path: string): AgentConfig {
  return parseFile(agentConfigSchema, path, 'agent config file', '');
}

/** --storage-credentials FILE: a storage secret ({aws, gcp, azure}) as YAML or JSON. */
export function readStorageFile(path: string): StorageSecret {
  return parseFile(storageSecretSchema, path, 'storage credentials file', 'storage');
}

/** FLOTILLA_GIT_USER / FLOTILLA_GIT_PASSWORD (+ FLOTILLA_GIT_HOST), taken out of `env`. */
export function takeGitCredentialsFromEnv(env: NodeJS.ProcessEnv = process.env): GitCredentials | undefined {
  const { FLOTILLA_GIT_USER: username, FLOTILLA_GIT_PASSWORD: password, FLOTILLA_GIT_HOST: host } = env;
  delete env.FLOTILLA_GIT_USER;
  delete env.FLOTILLA_GIT_PASSWORD;
  delete env.FLOTILLA_GIT_HOST;
  if (!username && !password) return undefined;
  if (!username || !password) throw new Error('set both FLOTILLA_GIT_USER and FLOTILLA_GIT_PASSWORD (or neither)');
  return { username, password, ...(host ? { host } : {}) };
}
