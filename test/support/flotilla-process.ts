// Runs the real `flotilla` CLI as a child process (an agent, a server, a one-off command) and keeps
// its output, so tests can see what a user would see and check what must never appear there.
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait.js';
import { cliCommand } from './agents.js';

export interface FlotillaProcess {
  child: ChildProcess;
  /** stdout and stderr as they came, interleaved. */
  output(): string;
  /** Resolves with the exit code once it has ended. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it has ended. */
  stop(graceMs?: number): Promise<void>;
}

export function startFlotilla(args: string[], env: NodeJS.ProcessEnv = {}): FlotillaProcess {
  // The built CLI (or a one-off bundle of the sources): loading through tsx costs seconds per process.
  const child = spawn(process.execPath, [...cliCommand(), ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CONTAINERS_CONF: process.env.CONTAINERS_CONF, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a CLI command to its end; throws with its output when it fails. */
export async function runFlotilla(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const p = startFlotilla(args, env);
  const code = await p.exited;
  if (code !== 0) throw new Error(`flotilla ${args.join(' ')} exited ${code}:\n${p.output()}`);
  return p.output();
}

/** An agent process; resolves once it has registered with the control plane. */
export async function startAgentProcess(server: string, token: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const agent = startFlotilla(['--server', server, 'agent', ...args], { FLOTILLA_TOKEN: token, ...env });
  await waitFor('the agent to register', () => {
    if (agent.child.exitCode !== null) throw new Error(`the agent exited ${agent.child.exitCode}:\n${agent.output()}`);
    return /registered as worker/.test(agent.output());
  }, 60_000);
  return agent;
}
