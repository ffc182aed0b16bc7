// flotilla server (standalone control plane) and flotilla up (everything embedded, SQLite under a data dir).
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ControlPlane, ControlPlaneOptions } from '../../server/main.js';
import { DEFAULT_DATA_DIR } from '../config.js';
import { integer, positiveNumber } from '../args.js';
import { note, setOnOutputClosed } from '../output.js';

interface ServeOpts {
  maxWorkers?: number; idleTimeout?: number; k8sGlue?: string; publicUrl?: string;
  db?: string; dataDir: string; host: string; port: number; leaseTtl?: number; maxLogBytes?: number; logLevel: string;
}

function commonOptions(cmd: Command, logLevel: string): Command {
  return cmd
    .option('--data-dir <dir>', 'folder for the SQLite file and the admin token', DEFAULT_DATA_DIR)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer(0, 65535), 8080)
    .option('--lease-ttl <seconds>', 'a running task goes back to its queue after this long without a heartbeat (default 30)', positiveNumber)
    .option('--max-log-bytes <bytes>', 'log bytes kept per task; later lines are dropped', integer(1, Number.MAX_SAFE_INTEGER))
    .option('--public-url <url>', 'URL that agents on other machines use to reach this control plane (default: the listen address)')
    .option('--log-level <level>', 'server log level (fatal, error, warn, info, debug)', logLevel);
}

export function registerServer(program: Command): void {
  commonOptions(
    program.command('server').description('run a standalone control plane (SQLite or PostgreSQL)')
      .option('--db <url>', 'sqlite:PATH or postgres://USER@HOST/DB (default: SQLite in the data dir)')
      .option('--k8s-glue <file>', 'run the Kubernetes glue with this glue.yaml in the leader (kubeconfig: KUBECONFIG or in-cluster)'),
    'info',
  ).action((o: ServeOpts) => serve(o, false));

  commonOptions(
    program.command('up').description('run everything on this machine: control plane with SQLite under --data-dir, and a local autoscaler on queue "default"')
      .option('--max-workers <n>', 'most local worker processes the default autoscaler starts', integer(1, 256), 4)
      .option('--idle-timeout <seconds>', 'a local worker with no task stops after this long', positiveNumber, 60),
    'warn',
  ).action((o: ServeOpts) => serve(o, true));
}

async function serve(o: ServeOpts, embedded: boolean): Promise<void> {
  const { startControlPlane } = await import('../../server/main.js');
  const dataDir = resolve(o.dataDir);
  const hadToken = existsSync(join(dataDir, 'admin-token'));
  const opts: ControlPlaneOptions = {
    db: embedded ? undefined : o.db, dataDir, host: o.host, port: o.port,
    leaseTtlS: o.leaseTtl, maxLogBytes: o.maxLogBytes, logLevel: o.logLevel, stopLocalWorkersOnClose: embedded,
    publicUrl: o.publicUrl,
  };
  if (o.k8sGlue) opts.controllers = [await (await import('../../k8s/controller.js')).glueControllerFromFile(o.k8sGlue)];
  const cp = await startControlPlane(opts);
  if (embedded) {
    const { applyDefaultApp } = await import('../../autoscaler/default-app.js');
    const app = await applyDefaultApp(cp.store, { maxWorkers: o.maxWorkers!, idleTimeoutS: o.idleTimeout! });
    note(`Autoscaler "${app.name}": up to ${o.maxWorkers} local workers for queue "default", stopped after ${o.idleTimeout}s idle`);
  }
  note(`Flotilla control plane listening on ${cp.url} (data in ${dataDir})`);
  printTokenHelp(cp, hadToken);
  note('Stop it with Ctrl-C.');
  stopOnSignals(cp);
}

function printTokenHelp(cp: ControlPlane, hadToken: boolean): void {
  if (!existsSync(cp.adminTokenFile)) {
    note('An admin token exists but its file is gone: create another with `flotilla token create` using an admin token.');
    return;
  }
  const shown = relative(process.cwd(), cp.adminTokenFile).startsWith('..') ? cp.adminTokenFile : relative(process.cwd(), cp.adminTokenFile);
  note(`${hadToken ? 'Admin token' : 'Created an admin token; it'} is in ${shown} (mode 0600). Use it with:`);
  note(`  export FLOTILLA_SERVER=${cp.url}`);
  note(`  export FLOTILLA_TOKEN=$(cat ${shown})`);
}

/** First signal: close cleanly (HTTP, store, leadership) and exit 0; a second one exits at once. */
function stopOnSignals(cp: ControlPlane): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    note(`${signal}: stopping`);
    cp.close().then(
      () => process.exit(0),
      (e) => {
        note(`error while stopping: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  // `flotilla up | head`: the reader went away; stop as on Ctrl-C (workers, store), not with a stack trace.
  setOnOutputClosed(() => stop('output closed'));
  // SIGHUP: the terminal running `flotilla up` was closed. Without a handler Node exits at once, and the
  // detached local workers (their own session, so the hang-up never reaches them) would outlive it, idle.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
}
