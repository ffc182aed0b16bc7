// Spawning a child whose output streams to the task log and which can be stopped with a grace period.
// Shared by the process and the container executors.
//
// A task never outlives its agent: the child runs under a small /bin/sh guard (GUARD below) in its own
// process group. The guard keeps one end of a socket pair whose other end only the agent holds; when the
// agent dies, even by SIGKILL, the kernel closes the agent's end, the guard's watcher reads end-of-file, runs
// the executor's clean-up (the container executor: `podman rm -f`) and kills the whole group with SIGKILL.
// Why not only `setpriv --pdeathsig KILL`: the death signal reaches one process (not its children), fires when
// the parent *thread* ends, and is lost if the agent dies between fork and prctl; end-of-file has none of these.
import { spawn, type SpawnOptions } from 'node:child_process';
import type { ExecResult, Execution, Stream } from './types.js';

export interface SpawnedOptions extends SpawnOptions {
  onOutput(stream: Stream, text: string): void;
  /** Extra step before the SIGTERM (e.g. `podman stop`); bounded by the grace period. */
  beforeStop?(graceMs: number): Promise<void>;
  /** Commands (argv each) the guard runs if the agent dies while the child runs, before it kills the group. */
  onAgentDeath?: string[][];
}

/**
 * $1: the clean-up commands (one shell line, may be empty); $2…: the child's argv. Fd 3: the guard's end of
 * the agent's socket pair. The watcher ignores SIGTERM (a stop's SIGTERM to the group must not disarm it; the
 * SIGKILL at the end of the grace period ends it); the guard traps SIGTERM so it waits for the child and reports
 * the child's status (a child killed by a signal: the guard ends by the same signal, so the agent sees it).
 */
export const GUARD = [
  'cleanup=$1; shift',
  `( trap '' TERM INT HUP; read -r _ <&3; eval "$cleanup"; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &`,
  'watcher=$!',
  // The guard's own messages ("Terminated") go nowhere; the child (a subshell that execs it, so the guard's
  // trap is reset and the redirection is the child's alone) gets the real stderr back.
  'exec 3<&- 4>&2 2>/dev/null',
  'trap : TERM INT HUP',
  '( exec "$@" ) 2>&4 4>&-',
  'status=$?',
  'kill -KILL "$watcher" 2>/dev/null',
  'if [ "$status" -gt 128 ]; then',
  '  sig=$(kill -l "$status" 2>/dev/null)',
  '  case $sig in HUP|INT|KILL|PIPE|ALRM|TERM|USR1|USR2) trap - "$sig"; kill -s "$sig" $$ ;; esac',
  'fi',
  'exit "$status"',
].join('\n');

/** Quotes commands (argv each) as one shell line for GUARD's `eval`. */
export function shellLine(commands: string[][]): string {
  return commands.map((argv) => argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')).join('; ');
}

/** After the SIGKILL, how long stop() waits for the child's output pipes to close (a process that left the group may hold them). */
const CLOSE_AFTER_KILL_MS = 2_000;

export function spawnStreaming(cmd: string, args: string[], opts: SpawnedOptions): Execution {
  // detached: the guard leads a new session and process group, so stop() and the watcher reach the task's children too.
  const guardArgs = ['-c', GUARD, 'flotilla-guard', shellLine(opts.onAgentDeath ?? []), cmd, ...args];
  const child = spawn('/bin/sh', guardArgs, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.setEncoding('utf8');
    child[stream]!.on('data', (text: string) => opts.onOutput(stream, text));
  }
  // The agent's end of the socket pair: never written, never read; it closes when the agent's process ends.
  const lifeline = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void; on(e: 'error', f: () => void): unknown };
  lifeline.on('error', () => undefined);
  lifeline.resume(); // flowing, so its end-of-file (the guard and its watcher gone) closes it
  let closed!: () => void;
  const done = new Promise<ExecResult>((resolve) => {
    closed = () => resolve({ exitCode: child.exitCode, signal: child.signalCode });
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
    const started = Date.now();
    if (opts.beforeStop) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([opts.beforeStop(graceMs).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    signalGroup('SIGTERM');
    let afterKill: NodeJS.Timeout | undefined;
    const killer = setTimeout(() => {
      signalGroup('SIGKILL');
      // Whatever still holds the output pipes left the group: stop waiting for it.
      afterKill = setInterval(() => {
        if (child.exitCode === null && child.signalCode === null) return;
        child.stdout?.destroy();
        child.stderr?.destroy();
        lifeline.destroy();
        closed();
      }, CLOSE_AFTER_KILL_MS);
    }, Math.max(0, graceMs - (Date.now() - started)));
    await done;
    clearTimeout(killer);
    clearInterval(afterKill);
  };
  return { done, stop };
}
