// Real `flotilla` processes the chaos suite can kill -9 and start again where they were: the control plane (a
// `flotilla server` on a fixed port and store) and the standalone Kubernetes glue (`flotilla k8s-glue`).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { FlotillaClient } from '../../src/client/index.js';
import { startFlotilla, type FlotillaProcess } from '../support/flotilla-process.js';
import { waitFor } from '../support/wait.js';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Short autoscaler timings, so a round sees several passes and adoptions in seconds. */
export const FAST_TIMINGS = { tickMs: 200, listEveryMs: 200, orphanGraceMs: 1500, requestedGraceMs: 3000 };

/** Prints one line per kill as it happens when CHAOS_VERBOSE is set (to follow a round, or find where one hung). */
export function chaosSay(line: string): void {
  if (process.env.CHAOS_VERBOSE) process.stderr.write(`chaos: ${line} ${new Date().toISOString()}\n`);
}

/**
 * One `flotilla` command as a process that a chaos round kills with SIGKILL and starts again with the same
 * arguments; its output is kept across kills (for the canary scan and for failures).
 */
export abstract class KillableProcess {
  proc?: FlotillaProcess;
  private logs = '';

  constructor(readonly label: string) {}

  /** The command line and environment of each start. */
  protected abstract command(): { args: string[]; env: NodeJS.ProcessEnv };
  /** True once the process is ready to be used (it is checked every 100 ms for up to 60 s). */
  protected abstract ready(p: FlotillaProcess): Promise<boolean>;

  async start(): Promise<void> {
    const { args, env } = this.command();
    const p = startFlotilla(args, env);
    this.proc = p;
    await waitFor(`the ${this.label} to be ready`, async () => {
      if (p.child.exitCode !== null) throw new Error(`the ${this.label} exited ${p.child.exitCode}:\n${p.output()}`);
      return this.ready(p);
    }, 60_000, 100);
  }

  async kill9(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
    this.logs += p.output();
  }

  /** kill -9, down for `downMs`, started again. */
  async restart(downMs: number): Promise<void> {
    chaosSay(`kill -9 ${this.label}`);
    await this.kill9();
    await new Promise((res) => setTimeout(res, downMs));
    await this.start();
    chaosSay(`${this.label} back`);
  }

  output(): string {
    return this.logs + (this.proc?.output() ?? '');
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    await p?.stop();
    this.logs += p?.output() ?? '';
  }
}

export class CpProcess extends KillableProcess {
  readonly url: string;

  constructor(readonly db: string, readonly dataDir: string, readonly port: number, readonly env: NodeJS.ProcessEnv = {},
    readonly args: string[] = []) {
    super('control plane');
    this.url = `http://127.0.0.1:${port}`;
  }

  protected command() {
    return {
      args: ['server', '--db', this.db, '--data-dir', this.dataDir, '--port', String(this.port), '--log-level', 'info',
        '--lease-ttl', '5', ...this.args],
      env: { FLOTILLA_TIMINGS: JSON.stringify(FAST_TIMINGS), ...this.env },
    };
  }

  protected async ready(): Promise<boolean> {
    return (await fetch(`${this.url}/healthz`).catch(() => null))?.ok ?? false;
  }

  /** The admin token the server wrote at its first start. */
  adminToken(): string {
    return readFileSync(join(this.dataDir, 'admin-token'), 'utf8').trim();
  }

  admin(): FlotillaClient {
    return new FlotillaClient(this.url, this.adminToken());
  }
}

/** `flotilla k8s-glue` on its own, with an admin token of the control plane and a kubeconfig file. */
export class GlueProcess extends KillableProcess {
  constructor(readonly configFile: string, readonly kubeconfig: string, readonly server: string, readonly token: () => string) {
    super('k8s glue');
  }

  protected command() {
    return {
      args: ['k8s-glue', '--config', this.configFile, '--kubeconfig', this.kubeconfig],
      env: { FLOTILLA_SERVER: this.server, FLOTILLA_TOKEN: this.token() },
    };
  }

  /** It says so once its pod followers are started (it creates no pod before their first list). */
  protected async ready(p: FlotillaProcess): Promise<boolean> {
    return /k8s glue for queues/.test(p.output());
  }
}
