// Real agent processes for tests: `flotilla agent` spawned as a child the way the local provider starts
// its workers: the token through a pipe on fd 3 (`--token-fd 3`), never in the environment or on the
// command line. Every agent a test starts is killed when the test ends (killAgents, and on exit).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { buildSync } from 'esbuild';
import type { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = join(root, 'dist/src/cli/main.js');
const guard = new URL('./agent-guard.mjs', import.meta.url).href;

export interface AgentOptions {
  workerId?: string;
  once?: boolean;
  idleExitS?: number;
  /** Extra environment for the agent (and so for the tasks it runs). */
  env?: Record<string, string>;
  /** A set the agent is added to (and removed from when it exits). */
  group?: Set<AgentProc>;
  /** More `flotilla agent` flags (e.g. --stop-grace 1, --docker IMAGE). */
  args?: string[];
}

export interface AgentProc {
  proc: ChildProcess;
  workerId: string;
  /** Everything the agent wrote to stdout and stderr so far. */
  output(): string;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<AgentProc>();
let seq = 0;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let bundled: string | undefined;

/**
 * The built CLI when it is newer than every source file; else the sources bundled once per test process
 * with esbuild (tsx's own compiler), since loading through tsx costs seconds per agent.
 */
export function cliCommand(): string[] {
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(root, 'src'))) return [built];
  if (!bundled) {
    // Two levels under the root and inside dist/, like the built CLI: packages and package.json resolve the same.
    bundled = join(root, 'dist', 'test-agent', `cli-${process.pid}.mjs`);
    buildSync({ entryPoints: [join(root, 'src/cli/main.ts')], outfile: bundled, bundle: true, platform: 'node',
      format: 'esm', packages: 'external', target: 'node20', logLevel: 'error' });
    const file = bundled;
    process.on('exit', () => rmSync(file, { force: true }));
  }
  return [bundled];
}

/**
 * Starts `flotilla agent --server URL --queue Q1,Q2 --worker-id ID`. Tests that run side by side keep
 * their own agents in opts.group and kill only those.
 */
export function spawnAgent(server: string, token: string, queues: string[], opts: AgentOptions = {}): AgentProc {
  const workerId = opts.workerId ?? `test-agent-${process.pid}-${++seq}`;
  const workDir = mkdtempSync(join(tmpdir(), 'flotilla-agent-'));
  const args = [...cliCommand(), 'agent', '--server', server, '--queue', queues.join(','),
    '--worker-id', workerId, '--work-dir', workDir, '--token-fd', '3'];
  if (opts.once) args.push('--once');
  if (opts.idleExitS !== undefined) args.push('--idle-exit', String(opts.idleExitS));
  if (opts.args) args.push(...opts.args);
  // stdin stays open (see agent-guard.mjs): the agent dies with this process.
  const proc = spawn(process.execPath, ['--import', guard, ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: workDir,
      FLOTILLA_CONFIG: join(workDir, 'no-login.json'),
      ...opts.env,
    },
  });
  const tokenPipe = proc.stdio[3] as Writable;
  tokenPipe.on('error', () => undefined);
  tokenPipe.end(`${token}\n`, () => tokenPipe.destroy());
  let out = '';
  proc.stdout!.on('data', (b) => (out += b));
  proc.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })));
  const agent: AgentProc = {
    proc, workerId, exited,
    output: () => out,
    kill: (signal = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
  live.add(agent);
  opts.group?.add(agent);
  void exited.then(() => {
    live.delete(agent);
    opts.group?.delete(agent);
    rmSync(workDir, { recursive: true, force: true });
  });
  return agent;
}

/** Kills the given agents (default: every one still running) and waits for them to be gone; for afterEach. */
export async function killAgents(which: Iterable<AgentProc> = live): Promise<void> {
  const all = [...which];
  for (const a of all) a.kill('SIGKILL');
  await Promise.all(all.map((a) => a.exited));
}

process.on('exit', () => {
  for (const a of live) a.kill('SIGKILL');
});
