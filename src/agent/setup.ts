// Builds what the agent needs to run tasks from its CLI options: the executor (process, or container
// with --docker), the prepare step (credentials, git clone, the composed command) and the output
// masking of every secret value the agent holds.
import { FlotillaClient, type WorkerSecrets } from '../client/index.js';
import type { AgentOptions } from './agent.js';
import { readAgentConfig, readStorageFile, takeGitCredentialsFromEnv } from './agent-config.js';
import { ContainerExecutor, checkContainerRuntime, chooseImage, removeLeftoverContainers, type ContainerExecutorOptions } from './executors/container.js';
import type { Executor } from './executors/types.js';
import { ProcessExecutor } from './executors/process.js';
import { cloneRepository, type GitCredentials } from './git.js';
import type { OutputTransform } from './log-shipper.js';
import { createMasker, type Masker } from './mask.js';
import { withRetry } from './retry.js';
import { credentialValues, storageCredentials, type StorageSecret } from './storage-credentials.js';
import { taskCommand } from './task-command.js';

export interface AgentSetupOptions {
  server: string;
  token: string;
  /** --docker [IMAGE]: true when given without an image. */
  docker?: string | boolean;
  noTaskImageOverride?: boolean;
  containerRuntime?: string;
  allowMounts?: string[];
  /** --agent-config FILE (git and storage credentials). */
  configFile?: string;
  /** --storage-credentials FILE. */
  storageCredentialsFile?: string;
  /** An agent an autoscaler app launched (--app): fetch the app's git and storage secrets for each task. */
  fetchAppSecrets?: boolean;
  /** Read for FLOTILLA_GIT_*, which are then removed from it (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  log?: (msg: string) => void;
}

export type AgentExecution = Required<Pick<AgentOptions, 'executor' | 'prepare' | 'transformOutput'>>;

type MaskingTransform = OutputTransform & { setSecrets(values: Iterable<string>): void };

/** Masks secrets in each stream; the tail a masker holds back is released by flush() at the task's end. */
export function secretMasking(initial: Iterable<string> = []): MaskingTransform {
  let secrets = [...initial];
  const maskers = new Map<string, Masker>();
  const masker = (stream: string) => maskers.get(stream) ?? maskers.set(stream, createMasker(secrets)).get(stream)!;
  const transform = ((stream, text) => masker(stream).write(text)) as MaskingTransform;
  transform.mask = (text) => {
    const m = createMasker(secrets);
    return m.write(text) + m.flush();
  };
  transform.flush = () => [...maskers].map(([stream, m]) => ({ stream: stream as 'stdout', text: m.flush() })).filter((l) => l.text);
  // Called between tasks, when nothing is held back.
  transform.setSecrets = (values) => {
    secrets = [...values];
    maskers.clear();
  };
  return transform;
}

interface Credentials {
  git?: GitCredentials;
  storage?: StorageSecret;
}

function localCredentials(o: AgentSetupOptions): Credentials {
  const config = o.configFile ? readAgentConfig(o.configFile) : {};
  const git = takeGitCredentialsFromEnv(o.env ?? process.env) ?? config.git;
  const file = o.storageCredentialsFile ? readStorageFile(o.storageCredentialsFile) : undefined;
  const storage = config.storage || file ? { ...config.storage, ...file } : undefined;
  return { git, storage };
}

/** The agent's own credentials win over the app's: they were set on this machine on purpose. */
function merged(local: Credentials, app: WorkerSecrets): Credentials {
  const appStorage = app.storage as StorageSecret | undefined;
  return {
    git: local.git ?? app.git,
    storage: local.storage || appStorage ? { ...appStorage, ...local.storage } : undefined,
  };
}

function secretValues(token: string, c: Credentials): string[] {
  const storage = c.storage ? credentialValues(storageCredentials(c.storage)) : [];
  return [token, ...(c.git ? [c.git.password] : []), ...storage];
}

/** Container mode: one executor per task, so credentials fetched for that task reach its container only. */
function containerExecutor(o: AgentSetupOptions, current: () => Credentials): Executor {
  const base: ContainerExecutorOptions = {
    agentImage: typeof o.docker === 'string' ? o.docker : undefined,
    noTaskImageOverride: o.noTaskImageOverride,
    allowedMounts: o.allowMounts,
  };
  const runtime = new ContainerExecutor({ ...base, runtime: o.containerRuntime }).runtime; // fails now, not at the first task
  return {
    start(spec) {
      const storage = current().storage;
      return new ContainerExecutor({ ...base, runtime, credentials: storage && storageCredentials(storage) }).start(spec);
    },
    async cleanUpHost(log) {
      await removeLeftoverContainers(runtime, process.env, log);
    },
    async checkHost(log) {
      // The image a task without its own would get: the agent's, else the default.
      await checkContainerRuntime(runtime, chooseImage({ agentImage: base.agentImage }), process.env, log);
    },
  };
}

export function agentExecution(o: AgentSetupOptions): AgentExecution {
  const log = o.log ?? (() => undefined);
  const local = localCredentials(o);
  if (local.storage) storageCredentials(local.storage); // validate at start-up
  let current = local;
  const masking = secretMasking(secretValues(o.token, local));
  const container = o.docker !== undefined && o.docker !== false;
  if (!container && (local.storage || o.noTaskImageOverride || o.allowMounts?.length))
    log('storage credentials, --no-task-image-override and --allow-mount only apply with --docker; they are ignored');
  const client = new FlotillaClient(o.server, o.token);

  const prepare: AgentExecution['prepare'] = async (d, workDir, shipper) => {
    if (o.fetchAppSecrets && d.task.workerId) {
      const workerId = d.task.workerId;
      // The control plane may be restarting: wait for it rather than fail the task.
      current = merged(local, await withRetry(() => client.workerSecrets(workerId)));
      masking.setSecrets(secretValues(o.token, current));
    }
    const git = d.task.spec.git;
    if (git) {
      shipper.write('system', `flotilla: cloning ${git.repository}${git.branch ? ` (branch ${git.branch})` : ''}\n`);
      const { commit } = await cloneRepository({
        url: git.repository, branch: git.branch, commit: git.commit, submodules: true, dir: workDir,
        credentials: current.git, onOutput: (stream, text) => shipper.write(stream, text),
      });
      shipper.write('system', `flotilla: checked out commit ${commit}\n`);
    }
    return { command: taskCommand(d.task.spec) };
  };

  return {
    executor: container ? containerExecutor(o, () => current) : new ProcessExecutor(),
    prepare,
    transformOutput: masking,
  };
}
