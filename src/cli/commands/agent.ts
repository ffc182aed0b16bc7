// flotilla agent: register as a worker and run tasks from the given queues.
// The token comes only from FLOTILLA_TOKEN or the login file, never a flag (ps would show it).
import type { Command } from 'commander';
import { resolveConnection, missingTokenHints } from '../config.js';
import { integer, list } from '../args.js';
import { note } from '../output.js';

interface AgentFlags {
  queue?: string[]; workerId?: string; once?: boolean; idleExit?: number; taskId?: string; workDir?: string;
  app?: string; resource?: string; instanceId?: string;
  docker?: string | boolean; taskImageOverride?: boolean; containerRuntime?: string; allowMount?: string[];
  agentConfig?: string; storageCredentials?: string; stopGrace?: number;
}

/** After the stop budget (the task's grace period and the wrap-up), the agent exits anyway this much later. */
const FORCE_EXIT_MARGIN_MS = 1_000;

const collect = (value: string, previous: string[] = []) => [...previous, value];

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
    .option('--stop-grace <seconds>', 'on SIGTERM, how long the running task gets before SIGKILL (default 10)', integer(1, 86_400))
    .option('--docker [image]', "run each task in a container: the task's image, else IMAGE, else python:3.12-slim")
    .option('--no-task-image-override', "with --docker: the agent's image wins over a task's own")
    .option('--container-runtime <cmd>', 'podman, docker or a path (default: podman if found, else docker)')
    .option('--allow-mount <dir>', 'host directory tasks may mount into their containers (repeatable)', collect)
    .option('--agent-config <file>', 'YAML/JSON file (mode 0600) with git: {username, password, host} and storage: credentials',
      process.env.FLOTILLA_AGENT_CONFIG)
    .option('--storage-credentials <file>', 'YAML/JSON file (mode 0600) with cloud-storage credentials for task containers')
    .action(async (o: AgentFlags, cmd: Command) => runAgent(o, cmd.optsWithGlobals()));
}

async function runAgent(o: AgentFlags, globals: { server?: string }): Promise<void> {
  if (!o.queue?.length && !o.taskId) throw new Error('give --queue q1,q2 (or --task-id ID)');
  const conn = resolveConnection(globals);
  if (!conn.token) throw new Error(missingTokenHints(conn).join('\n  '));
  // Held in memory from here on: git, podman and task processes must not inherit it.
  delete process.env.FLOTILLA_TOKEN;
  const { createAgent } = await import('../../agent/agent.js');
  const { agentExecution } = await import('../../agent/setup.js');
  const log = (msg: string) => note(`${new Date().toISOString()} ${msg}`);
  const execution = agentExecution({
    server: conn.server, token: conn.token, docker: o.docker, noTaskImageOverride: o.taskImageOverride === false,
    containerRuntime: o.containerRuntime, allowMounts: o.allowMount, configFile: o.agentConfig,
    storageCredentialsFile: o.storageCredentials, fetchAppSecrets: !!o.app, log,
  });
  const agent = createAgent({
    ...execution,
    server: conn.server, token: conn.token, queues: o.queue ?? [],
    workerId: o.workerId,
    once: o.once, idleExitS: o.idleExit, taskId: o.taskId, workRoot: o.workDir,
    app: o.app, resource: o.resource, instanceId: o.instanceId,
    stopGraceMs: o.stopGrace === undefined ? undefined : o.stopGrace * 1000,
    log,
  });
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    if (stopping) {
      log(`${signal} again: exiting now`);
      process.exit(130);
    }
    note(`${signal}: stopping (a running task goes back to its queue)`);
    // Whatever may still hang (a request the control plane never answers, a runtime that does not return),
    // the agent is gone at its stop budget plus a margin. Its task dies with it (see executors/spawn.ts).
    const budgetMs = agent.stopBudgetMs + FORCE_EXIT_MARGIN_MS;
    setTimeout(() => {
      log(`${signal}: not stopped after ${budgetMs / 1000}s (grace period and wrap-up): exiting now`);
      process.exit(1);
    }, budgetMs).unref();
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
