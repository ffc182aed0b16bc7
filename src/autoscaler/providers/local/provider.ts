// The `local` provider: each "instance" is an agent child process on this machine. Its tags live in
// the process environment, so a restarted control plane finds its workers by reading /proc. Its token is
// not there: it goes through a pipe on fd 3 (`--token-fd 3`) that the agent reads to its end and closes,
// so neither /proc/<pid>/environ, nor its command line, nor a file on disk ever holds it.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { openSync, closeSync, readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { privateDir } from '../../../store/private-files.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ComputeProvider, LaunchedInstance, LaunchRequest, ProviderInstance } from '../types.js';
import { TAG } from '../types.js';

const ENV = {
  [TAG.app]: 'FLOTILLA_TAG_APP',
  [TAG.resource]: 'FLOTILLA_TAG_RESOURCE',
  [TAG.instance]: 'FLOTILLA_TAG_INSTANCE',
  [TAG.controlPlane]: 'FLOTILLA_TAG_CONTROL_PLANE',
} as const;
const LAUNCHED_AT = 'FLOTILLA_TAG_LAUNCHED_AT';

export interface LocalProviderOptions {
  /** Where each worker's output goes (<logDir>/<instance>.log). */
  logDir: string;
  /** The flotilla CLI entry; defaults to this package's built dist/src/cli/main.js. */
  cliEntry?: string;
}

export function defaultCliEntry(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, 'dist', 'src', 'cli', 'main.js');
}

export class LocalProvider implements ComputeProvider {
  readonly kind = 'local';
  private readonly cliEntry: string;

  constructor(private readonly opts: LocalProviderOptions) {
    this.cliEntry = opts.cliEntry ?? defaultCliEntry();
    privateDir(opts.logDir); // the workers' logs (task output) are the user's only
  }

  async launch(req: LaunchRequest): Promise<LaunchedInstance> {
    const existing = (await this.list(req.appId)).find((p) => p.clientToken === req.clientToken);
    if (existing) return { providerId: existing.providerId, offering: req.offering, state: existing.state };
    const tagEnv = Object.fromEntries(Object.entries(req.tags).map(([k, v]) => [ENV[k as keyof typeof ENV] ?? k, v]));
    if (req.clearml) return this.launchClearml(req, req.clearml, tagEnv);
    if (!req.agent) throw new Error('local provider: launch request carries no agent settings');
    const args = [this.cliEntry, 'agent', '--server', req.agent.server, '--queue', req.agent.queues.join(','),
      '--worker-id', req.clientToken, '--instance-id', req.clientToken, '--app', req.appId, '--resource', req.resource,
      ...req.agent.args, '--token-fd', String(TOKEN_FD)];
    const log = openSync(join(this.opts.logDir, `${req.clientToken}.log`), 'a', 0o600);
    // Detached and unreferenced: the worker outlives a control plane that is killed, and is adopted on restart.
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', log, log, 'pipe'],
      env: { ...passThroughEnv(), ...tagEnv, [LAUNCHED_AT]: String(Date.now()) },
    });
    closeSync(log);
    sendToken(child.stdio[TOKEN_FD] as Writable | null, req.agent.token);
    child.unref();
    if (!child.pid) throw new Error('local provider: could not start the agent process');
    return { providerId: String(child.pid), offering: req.offering, state: 'running' };
  }

  /**
   * An app serving a ClearML server's queues: the worker process is the real clearml-agent (FLOTILLA_CLEARML_AGENT,
   * default `clearml-agent`), its clearml.conf a 0600 file next to its log, its work under its own folder.
   */
  private launchClearml(req: LaunchRequest, c: NonNullable<LaunchRequest['clearml']>, tagEnv: Record<string, string>): LaunchedInstance {
    const work = join(this.opts.logDir, `${req.clientToken}-clearml`);
    privateDir(work);
    const conf = join(work, 'clearml.conf');
    writeFileSync(conf, c.conf(work), { mode: 0o600 });
    const [cmd, ...pre] = (process.env.FLOTILLA_CLEARML_AGENT ?? 'clearml-agent').split(/\s+/).filter(Boolean);
    const log = openSync(join(this.opts.logDir, `${req.clientToken}.log`), 'a', 0o600);
    const child = spawn(cmd!, [...pre, 'daemon', '--foreground', '--queue', ...c.queues, ...c.args], {
      detached: true,
      stdio: ['ignore', log, log],
      cwd: work,
      env: {
        ...passThroughEnv(), ...clearmlAgentEnv(), HOME: work, PYTHONUNBUFFERED: '1', ...tagEnv,
        [LAUNCHED_AT]: String(Date.now()), CLEARML_CONFIG_FILE: conf, CLEARML_WORKER_ID: c.workerId,
      },
    });
    closeSync(log);
    child.on('error', () => undefined); // a missing command: the instance never registers, and its boot timeout says so
    child.unref();
    if (!child.pid) throw new Error(`local provider: could not start ${cmd} (set FLOTILLA_CLEARML_AGENT to the clearml-agent command)`);
    return { providerId: String(child.pid), offering: req.offering, state: 'running' };
  }

  async terminate(providerIds: string[]): Promise<void> {
    for (const id of providerIds) {
      try {
        process.kill(Number(id), 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  }

  async list(appId: string): Promise<ProviderInstance[]> {
    const out: ProviderInstance[] = [];
    const tagged = new Map<string, Record<string, string>>();
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      const env = readEnviron(pid);
      if (env && env[ENV[TAG.app]] === appId && !isZombie(pid)) tagged.set(pid, env);
    }
    for (const [pid, env] of tagged) {
      // A child of the worker inherits its tags (clearml-agent runs each task in a child process; a child the
      // agent forked and not yet exec'd, such as a task's guard): the instance is the worker, not each of its children.
      const parent = tagged.get(parentOf(pid) ?? '');
      if (parent && parent[ENV[TAG.instance]] === env[ENV[TAG.instance]]) continue;
      const tags: Record<string, string> = {};
      for (const [tag, name] of Object.entries(ENV)) if (env[name]) tags[tag] = env[name];
      out.push({
        providerId: pid,
        clientToken: env[ENV[TAG.instance]],
        resource: env[ENV[TAG.resource]],
        state: 'running',
        launchedAt: env[LAUNCHED_AT] ? new Date(Number(env[LAUNCHED_AT])) : undefined,
        tags,
      });
    }
    return out;
  }
}

/** The agent's descriptor for its token: the first one after stdin, stdout and stderr. */
const TOKEN_FD = 3;

/** Writes the token into the agent's pipe and closes our end: the agent reads to the end and closes its own. */
function sendToken(pipe: Writable | null, token: string): void {
  if (!pipe) return; // the spawn failed; the caller reports it
  pipe.on('error', () => undefined); // an agent that died at once: its log says why
  pipe.end(`${token}\n`, () => pipe.destroy());
}

/** Only what an agent needs: the control plane's own secrets (admin token, secret key) stay out. */
function passThroughEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'CONTAINERS_CONF', 'NODE_OPTIONS'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));
}

/** What the control plane's environment says about running clearml-agent here (its Python path, its own settings). */
function clearmlAgentEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env)
    .filter((e): e is [string, string] => e[1] !== undefined && (e[0] === 'PYTHONPATH' || e[0].startsWith('CLEARML_AGENT_'))));
}

function readEnviron(pid: string): Record<string, string> | null {
  try {
    const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
    if (!raw.includes(ENV[TAG.app])) return null;
    return Object.fromEntries(raw.split('\0').filter(Boolean).map((kv) => {
      const i = kv.indexOf('=');
      return [kv.slice(0, i), kv.slice(i + 1)];
    }));
  } catch {
    return null;
  }
}

/** The fields of /proc/PID/stat after the command name (state first, then the parent pid); undefined when it is gone. */
function statFields(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const parentOf = (pid: string) => statFields(pid)?.[1];
const isZombie = (pid: string) => (statFields(pid)?.[0] ?? 'Z') === 'Z';
