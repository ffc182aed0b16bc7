// A control plane as a real `flotilla server` process on a fixed port and store, so the chaos suite can
// kill -9 it and start it again where it was.
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

export class CpProcess {
  proc?: FlotillaProcess;
  /** Every server output of this round, kills included (for the canary scan and for failures). */
  private logs = '';
  readonly url: string;

  constructor(readonly db: string, readonly dataDir: string, readonly port: number, readonly env: NodeJS.ProcessEnv = {},
    readonly args: string[] = []) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const p = startFlotilla(['server', '--db', this.db, '--data-dir', this.dataDir, '--port', String(this.port), '--log-level', 'info',
      '--lease-ttl', '5', ...this.args], { FLOTILLA_TIMINGS: JSON.stringify(FAST_TIMINGS), ...this.env });
    this.proc = p;
    await waitFor('the control plane to answer', async () => {
      if (p.child.exitCode !== null) throw new Error(`server exited ${p.child.exitCode}:\n${p.output()}`);
      return (await fetch(`${this.url}/healthz`).catch(() => null))?.ok;
    }, 60_000, 100);
  }

  admin(): FlotillaClient {
    return new FlotillaClient(this.url, readFileSync(join(this.dataDir, 'admin-token'), 'utf8').trim());
  }

  async kill9(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
    this.logs += p.output();
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
