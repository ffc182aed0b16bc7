// flotilla agent: register as a worker and run tasks from the given queues.
// The token comes only from FLOTILLA_TOKEN or the login file, never a flag (ps would show it).
import type { Command } from 'commander';
import { resolveConnection, missingTokenHints } from '../config.js';
import { integer, list } from '../args.js';
import { note } from '../output.js';

interface AgentFlags {
  queue?: string[]; workerId?: string; once?: boolean; idleExit?: number; taskId?: string; workDir?: string;
  app?: string; resource?: string; instanceId?: string;
}

export function registerAgent(program: Command): void {
  program.command('agent').description('run tasks from queues on this machine (token from FLOTILLA_TOKEN or `flotilla login`)')
    .option('--queue <q1,q2>', 'queues to take tasks from, first non-empty first (repeatable)', list)
    .option('--worker-id <id>', 'worker id (default chosen by the agent: host name and process id)')
    .option('--once', 'run one task, then exit')
    .option('--idle-exit <seconds>', 'exit after this long with no task', integer(1, 365 * 86_400))
    .option('--task-id <id>', 'take only this task, then exit')
    .option('--work-dir <dir>', 'where per-task working directories are made')
    .option('--app <id>', 'autoscaler app that launched this agent')
    .option('--resource <name>', 'resource type this machine belongs to')
    .option('--instance-id <id>', 'cloud instance id of this machine')
    .action(async (o: AgentFlags, cmd: Command) => runAgent(o, cmd.optsWithGlobals()));
}

async function runAgent(o: AgentFlags, globals: { server?: string }): Promise<void> {
  if (!o.queue?.length && !o.taskId) throw new Error('give --queue q1,q2 (or --task-id ID)');
  const conn = resolveConnection(globals);
  if (!conn.token) throw new Error(missingTokenHints(conn).join('\n  '));
  const { createAgent } = await import('../../agent/agent.js');
  const agent = createAgent({
    server: conn.server, token: conn.token, queues: o.queue ?? [],
    workerId: o.workerId,
    once: o.once, idleExitS: o.idleExit, taskId: o.taskId, workRoot: o.workDir,
    app: o.app, resource: o.resource, instanceId: o.instanceId,
    log: (msg) => note(`${new Date().toISOString()} ${msg}`),
  });
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    note(`${signal}: stopping (a running task goes back to its queue)`);
    stopping = agent.stop(signal).then(() => process.exit(0), (e) => {
      note(`error while stopping: ${(e as Error).message}`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await agent.run();
  await stopping;
}
