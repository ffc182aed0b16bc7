// Spawning a child whose output streams to the task log and which can be stopped with a grace period.
// Shared by the process and the container executors.
import { spawn, type SpawnOptions } from 'node:child_process';
import type { ExecResult, Execution, Stream } from './types.js';

export interface SpawnedOptions extends SpawnOptions {
  onOutput(stream: Stream, text: string): void;
  /** Extra step before the SIGTERM (e.g. `podman stop`). */
  beforeStop?(graceMs: number): Promise<void>;
}

export function spawnStreaming(cmd: string, args: string[], opts: SpawnedOptions): Execution {
  // detached: the task gets its own process group so stop() reaches its children too.
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.setEncoding('utf8');
    child[stream]!.on('data', (text: string) => opts.onOutput(stream, text));
  }
  const done = new Promise<ExecResult>((resolve) => {
    child.on('error', (err) => {
      opts.onOutput('stderr', `flotilla: could not start ${cmd}: ${err.message}\n`);
      resolve({ exitCode: 127, signal: null });
    });
    child.on('close', (code, signal) => resolve({ exitCode: code, signal }));
  });
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  const stop = async (graceMs: number) => {
    if (opts.beforeStop) await opts.beforeStop(graceMs).catch(() => undefined);
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
    await done;
    clearTimeout(timer);
  };
  return { done, stop };
}
