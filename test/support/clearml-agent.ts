// The real clearml-agent (1.9.2, Apache-2.0) for tests: unpacked from ../shared/peers into a temporary folder (never
// copied into the project) and run with Debian's Python, whose packages scripts/ensure-clearml-agent.sh installs.
// pathlib2 has no Debian package; the agent only imports Path from it, so a one-line module stands in.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderClearmlConf, type ClearmlCredentials } from '../../src/clearml/conf.js';

export const ARCHIVE = process.env.FLOTILLA_CLEARML_AGENT_ARCHIVE
  ?? resolve(import.meta.dirname, '../../../shared/peers/clearml-agent-1.9.2.tar.gz');
export const PYTHON = '/usr/bin/python3';

let unpacked: string | undefined;

/** Why the agent cannot run here (the test is skipped with it), or undefined. */
export function clearmlAgentMissing(): string | undefined {
  if (!existsSync(ARCHIVE)) return `the clearml-agent archive is not at ${ARCHIVE} (set FLOTILLA_CLEARML_AGENT_ARCHIVE)`;
  if (!existsSync(PYTHON)) return `${PYTHON} is missing (scripts/ensure-clearml-agent.sh installs it)`;
  return undefined;
}

/** The environment that makes `python3 -m clearml_agent` work (and what the local provider runs, see FLOTILLA_CLEARML_AGENT). */
export function clearmlAgentEnv(): Record<string, string> {
  if (!unpacked) {
    const dir = mkdtempSync(join(tmpdir(), 'clearml-agent-src-'));
    execFileSync('tar', ['-xzf', ARCHIVE, '-C', dir]);
    mkdirSync(join(dir, 'shim'));
    writeFileSync(join(dir, 'shim', 'pathlib2.py'), 'from pathlib import *\n');
    const src = join(dir, 'clearml-agent-1.9.2');
    unpacked = `${join(dir, 'shim')}:${existsSync(join(src, 'clearml_agent')) ? src : dir}`;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return { PYTHONPATH: unpacked, FLOTILLA_CLEARML_AGENT: `${PYTHON} -m clearml_agent` };
}

export interface ClearmlAgentProc {
  child: ChildProcess;
  workerId: string;
  output(): string;
  /** SIGTERM (then SIGKILL after graceMs) to its process group; resolves when it has ended. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

const live = new Set<ClearmlAgentProc>();
process.once('exit', () => { for (const a of live) killGroup(a.child, 'SIGKILL'); });

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try { process.kill(-child.pid!, signal); } catch { /* gone */ }
}

/** `clearml-agent daemon --queue Q… --foreground` in process mode, with its own clearml.conf and home. */
export function startClearmlAgent(o: ClearmlCredentials & { queues: string[]; workerId: string; args?: string[]; env?: Record<string, string> }): ClearmlAgentProc {
  const home = mkdtempSync(join(tmpdir(), 'clearml-agent-home-'));
  const conf = join(home, 'clearml.conf');
  writeFileSync(conf, renderClearmlConf(o, { workDir: home }), { mode: 0o600 });
  const child = spawn(PYTHON, ['-m', 'clearml_agent', 'daemon', '--foreground', '--queue', ...o.queues, ...(o.args ?? [])], {
    env: {
      PATH: process.env.PATH, HOME: home, ...clearmlAgentEnv(),
      CLEARML_CONFIG_FILE: conf, CLEARML_WORKER_ID: o.workerId, CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL: '1', PYTHONUNBUFFERED: '1',
      CONTAINERS_CONF: process.env.CONTAINERS_CONF, ...o.env,
    },
    cwd: home,
    // Its own process group: a test stops the agent and the task it runs together.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const agent: ClearmlAgentProc = {
    child, workerId: o.workerId, output: () => out, exited,
    async stop(graceMs = 5_000) {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, 'SIGTERM');
        const t = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      killGroup(child, 'SIGKILL'); // what is left of the group (a task the agent left behind)
      live.delete(agent);
      rmSync(home, { recursive: true, force: true });
    },
  };
  live.add(agent);
  return agent;
}
