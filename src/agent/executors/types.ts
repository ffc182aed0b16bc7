// How the agent runs one task: as a plain child process or in a container.

export type Stream = 'stdout' | 'stderr';

export interface ExecSpec {
  taskId: string;
  /** The lease the task runs under (the container executor labels the container with it). */
  leaseId?: string;
  /** Shell command line, run with /bin/sh -c. */
  command: string;
  env: Record<string, string>;
  /** Fresh working directory of this task (the git working copy when there is one). */
  workDir: string;
  /** Container image; only the container executor reads it. */
  image?: string;
  /** Extra container settings from the task: env and allowed mounts. */
  container?: { env?: Record<string, string>; mounts?: string[] };
  onOutput(stream: Stream, text: string): void;
}

export interface ExecResult {
  exitCode: number | null;
  signal?: string | null;
  /** Why it failed when that was not the task (the container runtime's own error): the task's status message. */
  message?: string;
}

export interface Execution {
  /** Resolves when the task's process (or container) has ended and its output is flushed. */
  done: Promise<ExecResult>;
  /** SIGTERM, then SIGKILL after graceMs. Resolves when it has ended. */
  stop(graceMs: number): Promise<void>;
}

export interface Executor {
  start(spec: ExecSpec): Promise<Execution>;
  /** At agent start: removes what killed agents of this host left behind (the container executor: their containers). */
  cleanUpHost?(log: (msg: string) => void): Promise<void>;
  /** At agent start, before it registers: throws (and the agent does not start) when this host cannot run tasks. */
  checkHost?(log: (msg: string) => void): Promise<void>;
}
