// Runs a task's command in a container with the `podman` or `docker` CLI. Env values (the task's and
// the storage credentials) travel in an env-file written 0600 in a private temp dir, never in argv.
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ContainerCredentials } from '../storage-credentials.js';
import { spawnStreaming, type SpawnedOptions } from './spawn.js';
import type { ExecSpec, Execution, Executor } from './types.js';

const run = promisify(execFile);

/** Used when neither the task, the agent (--docker IMAGE) nor the app configures an image. */
export const DEFAULT_IMAGE = 'docker.io/library/python:3.12-slim';
/** Where the task's working copy is mounted inside the container; the command starts there. */
export const CONTAINER_WORKDIR = '/workspace';

export interface ImageChoice {
  taskImage?: string;
  /** The agent's image: `--docker IMAGE`. */
  agentImage?: string;
  /** A configured default (e.g. the autoscaler app's execution default). */
  defaultImage?: string;
  /** `--no-task-image-override`: the agent's image wins over the task's. */
  noTaskImageOverride?: boolean;
}

export function chooseImage(c: ImageChoice): string {
  const agentSide = c.agentImage || c.defaultImage;
  if (c.noTaskImageOverride && agentSide) return agentSide;
  return c.taskImage || agentSide || DEFAULT_IMAGE;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The runtime command: `preferred` when given (a name on PATH or a path), else podman, else docker. */
export function findContainerRuntime(preferred?: string, pathVar = process.env.PATH ?? ''): string {
  const lookup = (name: string) =>
    name.includes('/') ? (isExecutable(name) ? name : undefined) : pathVar.split(delimiter).map((d) => join(d, name)).find(isExecutable);
  const names = preferred ? [preferred] : ['podman', 'docker'];
  for (const name of names) {
    const found = lookup(name);
    if (found) return found;
  }
  throw new Error(
    preferred
      ? `--container-runtime ${preferred}: not found or not executable; install it or give its full path`
      : 'no container runtime found: install podman or docker, or pass --container-runtime PATH',
  );
}

export interface ContainerExecutorOptions extends Omit<ImageChoice, 'taskImage'> {
  /** podman or docker (name or path); found automatically when absent. */
  runtime?: string;
  /** Host directories a task may mount (its own mounts must lie inside one of them). */
  allowedMounts?: string[];
  /** Storage credentials for every task container (and nowhere else). */
  credentials?: ContainerCredentials;
  /** Env of the runtime CLI itself (CONTAINERS_CONF, DOCKER_HOST…); defaults to the agent's env. */
  runtimeEnv?: NodeJS.ProcessEnv;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Container name for a task: the runtime allows only [a-zA-Z0-9_.-]. */
export function containerName(taskId: string): string {
  return `flotilla-${taskId.replace(/[^a-zA-Z0-9_.-]/g, '_')}`;
}

/** Checks `host:container[:ro|rw]` against the allowed host directories; returns the -v value. */
export function checkMount(mount: string, allowed: string[]): string {
  const [host, target, mode, ...extra] = mount.split(':');
  if (!host || !target || extra.length > 0 || !isAbsolute(host) || !isAbsolute(target) || (mode && !['ro', 'rw'].includes(mode))) {
    throw new Error(`container mount "${mount}": write it as /host/path:/container/path[:ro|rw]`);
  }
  const real = realOrResolved(host); // a symlink inside an allowed dir must not lead outside it
  const inside = allowed.some((dir) => {
    const rel = relative(realOrResolved(dir), real);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  });
  if (!inside) {
    throw new Error(`container mount "${mount}": ${host} is not under an allowed mount directory; add it to the agent's allowed mounts`);
  }
  return [real, target, mode || 'rw'].join(':');
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** The label that names the agent a container belongs to: `host/pid/start time`. */
export const AGENT_LABEL = 'flotilla.agent';

/** The start time of a process in clock ticks since boot (/proc/PID/stat field 22); undefined without /proc. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** This agent process, as its containers' AGENT_LABEL says: a pid can be reused, a pid with its start time cannot. */
export function agentIdentity(pid = process.pid): string {
  return `${hostname()}/${pid}/${startTime(pid) ?? '-'}`;
}

/** Whether the agent an AGENT_LABEL names still runs; an agent of another host counts as alive (not ours to judge). */
export function agentAlive(label: string): boolean {
  const [host, pidText, start] = label.split('/');
  if (host !== hostname()) return true;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return label === agentIdentity();
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const now = startTime(pid);
  return start === '-' || now === undefined || now === start;
}

/**
 * Removes the task containers that agents of this host left behind (an agent killed while its task ran, whose
 * guard could not remove the container): those labelled with an agent that no longer runs. Called at agent start.
 */
export async function removeLeftoverContainers(runtime: string, env: NodeJS.ProcessEnv, log: (msg: string) => void): Promise<string[]> {
  const { stdout } = await run(runtime, ['ps', '-a', '--filter', `label=${AGENT_LABEL}`, '--format', '{{.ID}}'], { env });
  const ids = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!ids.length) return [];
  // One inspect per container: another agent of this host may remove one between the list and the inspect, and
  // an inspect of several fails as a whole when one is gone.
  const format = `{{.Id}} {{.Name}} {{index .Config.Labels "${AGENT_LABEL}"}} {{index .Config.Labels "flotilla.task-id"}} {{index .Config.Labels "flotilla.lease-id"}}`;
  const lines = await Promise.all(ids.map((id) => run(runtime, ['inspect', '--format', format, id], { env })
    .then((r) => r.stdout, () => '')));
  const removed: string[] = [];
  for (const line of lines.join('\n').split('\n')) {
    const [id, name, agent, taskId, leaseId] = line.trim().split(' ');
    if (!id || !agent || agentAlive(agent)) continue;
    await run(runtime, ['rm', '-f', id], { env }).then(() => {
      removed.push(name.replace(/^\//, ''));
      log(`removed container ${name.replace(/^\//, '')} of task ${taskId} (lease ${leaseId}): its agent ${agent} is gone`);
    }, (e) => log(`could not remove the leftover container ${name}: ${(e as Error).message}`));
  }
  return removed;
}

/** `podman run` / `docker run` exit codes that mean the runtime failed before or instead of the command (or a missing command). */
const RUNTIME_EXIT_CODES = [125, 126, 127];
/** Lines the runtime CLI (not the task) writes: podman's `Error: …`, docker's `docker: …`, the OCI runtime's own. */
const RUNTIME_ERROR_LINE = /^(Error: |error: |docker: |(crun|runc|conmon|crun-vm)(: | ))/;

/**
 * The status message of a `run` that the container runtime failed (exit 125/126/127 with the runtime's own error
 * lines on stderr), quoting those lines; undefined when the task itself failed (a task's 127 has no such line).
 */
export function runtimeFailure(runtime: string, exitCode: number | null, stderrTail: string): string | undefined {
  if (exitCode === null || !RUNTIME_EXIT_CODES.includes(exitCode)) return undefined;
  const lines = stderrTail.split('\n').map((l) => l.trim()).filter((l) => RUNTIME_ERROR_LINE.test(l));
  if (!lines.length) return undefined;
  const name = runtime.split('/').pop();
  return `the container runtime failed, not the task (${name} run exit ${exitCode}): ${lines.slice(-3).join(' | ')}`.slice(0, 1500);
}

/** How much of a run's stderr is kept to find the runtime's error lines in. */
const STDERR_TAIL = 8192;

/**
 * At agent start (--docker): can this host run containers? `info` (a broken containers.conf, no daemon), then,
 * when the image is already here, `run --rm --pull=never IMAGE true` (what only a real run finds: an OCI runtime
 * refusing rlimits). Throws a message naming the runtime's error and the fix.
 */
export async function checkContainerRuntime(runtime: string, image: string, env: NodeJS.ProcessEnv, log: (msg: string) => void): Promise<void> {
  const name = runtime.split('/').pop();
  const fail = (what: string, e: unknown): never => {
    const err = e as { stderr?: string; code?: number | string; message: string };
    const why = (err.stderr?.trim() || err.message).split('\n').filter(Boolean).slice(-3).join(' | ');
    throw new Error(`--docker: the container runtime cannot run containers here (\`${name} ${what}\` failed${typeof err.code === 'number' ? ` with exit ${err.code}` : ''}): ${why}. ` +
      `Fix the runtime first (try \`${name} run --rm ${image} true\` by hand: a podman that needs a containers.conf gets it with ` +
      'CONTAINERS_CONF=/path/containers.conf, e.g. one without default rlimits), or run the agent without --docker');
  };
  await run(runtime, ['info'], { env, timeout: 60_000 }).catch((e) => fail('info', e));
  const here = await run(runtime, ['image', 'inspect', image], { env, timeout: 60_000 }).then(() => true, () => false);
  if (!here) {
    log(`container runtime ${name} answers; the image ${image} is not here yet, so the first task's run is the full check`);
    return;
  }
  await run(runtime, ['run', '--rm', '--pull=never', image, 'true'], { env, timeout: 120_000 }).catch((e) => fail(`run --rm ${image} true`, e));
  log(`container runtime ${name} runs containers (checked with ${image})`);
}

interface Prepared {
  args: string[];
  runtimeEnv: NodeJS.ProcessEnv;
}

export class ContainerExecutor implements Executor {
  readonly runtime: string;

  constructor(private readonly opts: ContainerExecutorOptions = {}) {
    this.runtime = findContainerRuntime(opts.runtime, (opts.runtimeEnv ?? process.env).PATH);
  }

  imageFor(spec: ExecSpec): string {
    return chooseImage({ ...this.opts, taskImage: spec.image });
  }

  async start(spec: ExecSpec): Promise<Execution> {
    const name = containerName(spec.taskId);
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-ctr-')); // mode 0700
    const cleanup = async () => {
      await run(this.runtime, ['rm', '-f', name], { env: this.runtimeEnv() }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    };
    let prepared: Prepared;
    try {
      prepared = this.prepare(spec, name, dir);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const spawnOpts: SpawnedOptions = {
      env: prepared.runtimeEnv,
      onOutput: spec.onOutput,
      beforeStop: async (graceMs) => {
        const seconds = String(Math.max(1, Math.floor(graceMs / 1000)));
        await run(this.runtime, ['stop', '-t', seconds, name], { env: this.runtimeEnv() });
      },
      // conmon keeps a container running without its CLI: if the agent dies, its guard removes the container.
      onAgentDeath: [[this.runtime, 'kill', name], [this.runtime, 'rm', '-f', name]],
    };
    let stderrTail = '';
    spawnOpts.onOutput = (stream, text) => {
      if (stream === 'stderr') stderrTail = (stderrTail + text).slice(-STDERR_TAIL);
      spec.onOutput(stream, text);
    };
    const inner = spawnStreaming(this.runtime, prepared.args, spawnOpts);
    // The container is removed (and the env-file deleted) before the task counts as done.
    const done = inner.done.then(async (result) => {
      await cleanup();
      const message = runtimeFailure(this.runtime, result.exitCode, stderrTail);
      return message ? { ...result, message } : result;
    });
    return {
      done,
      stop: async (graceMs) => {
        await inner.stop(graceMs);
        await done;
      },
    };
  }

  private runtimeEnv(): NodeJS.ProcessEnv {
    return { ...(this.opts.runtimeEnv ?? process.env) };
  }

  private prepare(spec: ExecSpec, name: string, dir: string): Prepared {
    const creds = this.opts.credentials ?? { env: {}, files: [] };
    // The task's own env wins over the agent's storage credentials: it is the user's explicit choice.
    const env = { ...creds.env, ...spec.env, ...spec.container?.env, FLOTILLA_TASK_ID: spec.taskId };
    const runtimeEnv = this.runtimeEnv();
    const envArgs = this.writeEnv(env, dir, runtimeEnv);
    const mountArgs = creds.files.flatMap((file, i) => {
      // 0644 inside the 0700 dir: other host users cannot reach it, a non-root container user can read it.
      const path = join(dir, `file-${i}`);
      writeFileSync(path, file.content, { mode: 0o644 });
      return ['-v', `${path}:${file.containerPath}:ro`];
    });
    for (const mount of spec.container?.mounts ?? []) {
      mountArgs.push('-v', checkMount(mount, this.opts.allowedMounts ?? []));
    }
    const args = [
      'run', '--rm', '--name', name, '--label', `flotilla.task-id=${spec.taskId}`,
      '--label', `flotilla.lease-id=${spec.leaseId ?? ''}`, '--label', `${AGENT_LABEL}=${agentIdentity()}`,
      ...envArgs,
      '-v', `${resolve(spec.workDir)}:${CONTAINER_WORKDIR}`, '-w', CONTAINER_WORKDIR,
      ...mountArgs,
      this.imageFor(spec), 'sh', '-c', spec.command,
    ];
    return { args, runtimeEnv };
  }

  /**
   * One-line values go into an env-file (0600). A value with a newline cannot be written there, so it
   * is passed as `-e NAME` with the value in the runtime CLI's own env: still never in argv.
   */
  private writeEnv(env: Record<string, string>, dir: string, runtimeEnv: NodeJS.ProcessEnv): string[] {
    const lines: string[] = [];
    const args: string[] = [];
    for (const [key, value] of Object.entries(env)) {
      if (!ENV_NAME.test(key)) throw new Error(`task env: "${key}" is not a valid variable name (letters, digits, _)`);
      if (/[\r\n]/.test(value)) {
        runtimeEnv[key] = value;
        args.push('-e', key);
      } else {
        lines.push(`${key}=${value}`);
      }
    }
    const file = join(dir, 'env');
    writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
    return ['--env-file', file, ...args];
  }
}
