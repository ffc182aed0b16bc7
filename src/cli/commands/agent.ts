// flotilla agent: register as a worker and run tasks from the given queues.
// The token never comes as a flag value (ps would show it). For an agent that runs tasks, the way is
// --token-file (a 0600 file) or --token-fd (a pipe its parent writes and closes): an agent's environment is
// readable by its process-mode tasks in /proc/<pid>/environ. FLOTILLA_TOKEN and the login file still work
// (a person trying it out), with a warning.
import { EXIT_UNREACHABLE } from '../../domain/agent-exit.js';
import type { Command } from 'commander';
import { resolveConnection, missingTokenHints } from '../config.js';
import { integer, list } from '../args.js';
import { note } from '../output.js';
import { readTokenFd, readTokenFile } from '../../agent/token-source.js';
import { DEFAULT_METADATA_URL, type InterruptionWatch } from '../../agent/interruption.js';

interface AgentFlags {
  queue?: string[]; workerId?: string; once?: boolean; idleExit?: number; taskId?: string; workDir?: string;
  app?: string; resource?: string; instanceId?: string;
  docker?: string | boolean; taskImageOverride?: boolean; containerRuntime?: string; allowMount?: string[];
  agentConfig?: string; storageCredentials?: string; stopGrace?: number; exitIfUnreachable?: number;
  tokenFile?: string; tokenFd?: number; deleteTokenFile?: boolean;
  interruptions?: 'aws' | 'gcp'; metadataUrl?: string; interruptionGrace?: number;
}

/** After the stop budget (the task's grace period and the wrap-up), the agent exits anyway this much later. */
const FORCE_EXIT_MARGIN_MS = 1_000;

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerAgent(program: Command): void {
  program.command('agent').description('run tasks from queues on this machine (token: --token-file or --token-fd; else FLOTILLA_TOKEN or `flotilla login`)')
    .option('--token-file <file>', 'read the agent token from this file (mode 0600, refused otherwise), once, at start')
    .option('--delete-token-file', 'with --token-file: delete the file once read (a process-mode task cannot read it later)')
    .option('--token-fd <n>', 'read the agent token from this inherited file descriptor (a pipe) to its end, then close it',
      integer(3, 65_535))
    .option('--queue <q1,q2>', 'queues to take tasks from, first non-empty first (repeatable)', list)
    .option('--worker-id <id>', 'worker id (default chosen by the agent: host name and process id)')
    .option('--once', 'run one task, then exit')
    .option('--idle-exit <seconds>', 'exit after this long with no task', integer(1, 365 * 86_400))
    .option('--exit-if-unreachable <seconds>', `with no task, exit (code ${EXIT_UNREACHABLE}) once the control plane has been unreachable this long; a cloud machine's start-up script then powers it off`,
      integer(1, 365 * 86_400))
    .option('--task-id <id>', 'take only this task, then exit')
    .option('--work-dir <dir>', 'where per-task working directories are made, in a folder per worker id (default $XDG_CACHE_HOME/flotilla/work, else ~/.cache/flotilla/work)')
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
    .option('--interruptions <cloud>', 'watch this cloud\'s spot interruption notice (aws or gcp): on a notice the task gets SIGTERM and goes back to the head of its queue',
      (v: string) => {
        if (v !== 'aws' && v !== 'gcp') throw new Error(`--interruptions: "${v}" is not a cloud; give aws or gcp`);
        return v;
      })
    .option('--metadata-url <url>', 'with --interruptions: the metadata server (default http://169.254.169.254 on aws, http://metadata.google.internal on gcp)')
    .option('--interruption-grace <seconds>', 'with --interruptions: how long the task gets after SIGTERM on a notice (default 90 on aws, 20 on gcp; the machine\'s deadline shortens it)',
      integer(1, 3_600))
    .action(async (o: AgentFlags, cmd: Command) => runAgent(o, cmd.optsWithGlobals()));
}

/**
 * The agent's token: --token-fd, else --token-file, else FLOTILLA_TOKEN or the login file (with a warning
 * about what a process-mode task can read). Read once; afterwards only the agent's memory holds it.
 */
function agentToken(o: AgentFlags, globals: { server?: string }, log: (msg: string) => void): string {
  const envToken = process.env.FLOTILLA_TOKEN;
  // Held in memory from here on: git, podman and task processes must not inherit it. (This does not clear
  // /proc/<pid>/environ, the environment the agent was started with: hence the warning below.)
  delete process.env.FLOTILLA_TOKEN;
  if (o.tokenFd !== undefined && o.tokenFile) throw new Error('give --token-file or --token-fd, not both');
  if (o.deleteTokenFile && !o.tokenFile) throw new Error('--delete-token-file goes with --token-file FILE');
  const envWarning = `FLOTILLA_TOKEN is in this agent's environment: a task run in process mode (the agent's user) can ` +
    `read it from /proc/${process.pid}/environ for as long as the agent runs. Give the token with --token-file FILE ` +
    `(mode 0600, with --delete-token-file) or --token-fd N instead, or run tasks in containers (--docker)`;
  let token: string;
  if (o.tokenFd !== undefined || o.tokenFile) {
    token = o.tokenFd !== undefined ? readTokenFd(o.tokenFd) : readTokenFile(o.tokenFile!, { remove: o.deleteTokenFile });
    if (envToken) log(`warning: ${envWarning} (the token given by ${o.tokenFile ? '--token-file' : '--token-fd'} is the one used)`);
    return token;
  }
  const conn = resolveConnection(globals, { ...process.env, ...(envToken ? { FLOTILLA_TOKEN: envToken } : {}) });
  if (!conn.token) throw new Error(missingTokenHints(conn).join('\n  '));
  if (conn.tokenFrom === 'FLOTILLA_TOKEN') log(`warning: ${envWarning}`);
  else
    log('warning: the token comes from the login file, which a task run in process mode (the agent\'s user) can read; ' +
      'give it with --token-file FILE --delete-token-file or --token-fd N, or run tasks in containers (--docker)');
  return conn.token;
}

function interruptionWatch(o: AgentFlags): InterruptionWatch | undefined {
  if (!o.interruptions) {
    if (o.metadataUrl || o.interruptionGrace) throw new Error('--metadata-url and --interruption-grace go with --interruptions aws|gcp');
    return undefined;
  }
  const metadataUrl = o.metadataUrl ?? DEFAULT_METADATA_URL[o.interruptions];
  if (!/^https?:\/\/[^\s]+$/.test(metadataUrl)) throw new Error(`--metadata-url: "${metadataUrl}" is not an http(s) URL`);
  return { source: o.interruptions, metadataUrl, graceMs: o.interruptionGrace === undefined ? undefined : o.interruptionGrace * 1000 };
}

async function runAgent(o: AgentFlags, globals: { server?: string }): Promise<void> {
  if (!o.queue?.length && !o.taskId) throw new Error('give --queue q1,q2 (or --task-id ID)');
  const log = (msg: string) => note(`${new Date().toISOString()} ${msg}`);
  const conn = { ...resolveConnection(globals), token: agentToken(o, globals, log) };
  const { createAgent } = await import('../../agent/agent.js');
  const { agentExecution } = await import('../../agent/setup.js');
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
    interruptions: interruptionWatch(o),
    exitIfUnreachableS: o.exitIfUnreachable,
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
  // SIGHUP (its terminal closed): hand the task back as on Ctrl-C rather than die with it.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  await agent.run();
  await stopping;
  if (agent.gaveUp()) process.exit(EXIT_UNREACHABLE);
}
