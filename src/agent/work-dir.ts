// Where an agent makes its tasks' working directories, and the clean-up of what killed agents left there.
// Layout: <base>/<worker id>/task-<task id>-XXXXXX, with <base>/<worker id>/.agent naming the agent process that
// uses the folder (host/pid/start time, as on its containers). Several agents on one host share <base>, each in
// its own folder; at start an agent empties its own folder of task folders (it runs none yet) and removes the
// folders of agents of this host that no longer run. A folder without an .agent file is not touched.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { agentAlive, agentIdentity } from './executors/container.js';

const OWNER_FILE = '.agent';

/** `$XDG_CACHE_HOME/flotilla/work`, else `~/.cache/flotilla/work`: per-user, kept across reboots, safe to delete. */
export function defaultWorkBase(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache');
  return join(cache, 'flotilla', 'work');
}

/** The folder of one worker under `base` (a worker id may hold characters a file name should not). */
export function workerFolder(base: string, workerId: string): string {
  return join(base, workerId.replace(/[^A-Za-z0-9_.-]/g, '_'));
}

/**
 * Makes this agent's folder under `base`, claims it, removes the task folders left in it and the folders of
 * this host's agents that are gone. Returns the folder.
 */
export function prepareWorkFolder(base: string, workerId: string, log: (msg: string) => void): string {
  const dir = workerFolder(base, workerId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('task-')) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    log(`removed ${join(dir, name)}, left by an earlier run of this worker`);
  }
  writeFileSync(join(dir, OWNER_FILE), agentIdentity() + '\n', { mode: 0o600 });
  for (const name of readdirSync(base)) {
    const other = join(base, name);
    if (other === dir) continue;
    const owner = readOwner(other);
    if (owner === undefined || agentAlive(owner)) continue;
    rmSync(other, { recursive: true, force: true });
    log(`removed ${other}: its agent ${owner} is gone`);
  }
  return dir;
}

function readOwner(dir: string): string | undefined {
  const file = join(dir, OWNER_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
