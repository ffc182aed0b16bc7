// Runs a task's command as a plain child process in its working directory. Its environment is built from
// nothing (PATH, HOME, the task's own env): never the agent's, so no token of the agent's is passed on.
// What it can still reach as the agent's user, and what keeps the token from it: docs/agent.md, "The token".
import type { ExecSpec, Execution, Executor } from './types.js';
import { spawnStreaming } from './spawn.js';

export class ProcessExecutor implements Executor {
  async start(spec: ExecSpec): Promise<Execution> {
    return spawnStreaming('/bin/sh', ['-c', spec.command], {
      cwd: spec.workDir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: spec.workDir, ...spec.env, FLOTILLA_TASK_ID: spec.taskId },
      onOutput: spec.onOutput,
    });
  }
}
