// Starts a control plane: store, HTTP API, leader election and the controllers.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { Store } from '../store/index.js';
import { buildApp } from './app.js';
import type { RouteGroup, ServerCtx, ServerSettings } from './context.js';
import { leaseSweeper, type Controller } from './controllers.js';
import { historySampler } from './history-sampler.js';
import { Leadership } from './leader.js';
import { VERSION } from '../version.js';
import { autoscalerRoutes } from './routes/autoscalers.js';
import { AutoscalerManager, type ManagerOptions } from '../autoscaler/manager.js';
import { secretVault } from './secrets/vault.js';
import { secretRoutes } from './routes/secrets.js';
import { costRoutes } from './routes/costs.js';
import { bootstrapRoutes } from './routes/bootstrap.js';
import { cloudAutoscaling } from './cloud-autoscaling.js';
import { k8sRoutes } from './routes/k8s.js';
import { consoleAppRoutes } from './routes/console-apps.js';
import { BACKOFF, TIMINGS_ENV, parseTimingsOverride, resolveTimings, type Timings } from '../domain/timings.js';
import { QueueService } from '../services/queue.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { privateDir } from '../store/private-files.js';
import type { JournalSettings } from '../domain/journal.js';

export interface ControlPlaneOptions {
  db?: string;
  dataDir: string;
  host?: string;
  port?: number;
  /** --lease-ttl; wins over timings.leaseTtlMs. */
  leaseTtlS?: number;
  /** Timings that win over FLOTILLA_TIMINGS and the defaults (tests shorten the autoscaler's). */
  timings?: Partial<Timings>;
  /** The environment FLOTILLA_TIMINGS is read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  maxLogBytes?: number;
  logLevel?: string;
  /** The URL agents on other machines use to reach this control plane (default: the listen address). */
  publicUrl?: string;
  /** `flotilla up`: local workers stop with the control plane. */
  stopLocalWorkersOnClose?: boolean;
  /** Settings of the autoscaler manager (tests add providers; timings go in `timings`). */
  autoscaler?: Partial<ManagerOptions>;
  /** Extra route groups and controllers, added by the parts that need them. */
  extraRoutes?: RouteGroup[];
  controllers?: ((ctx: ServerCtx & { url: string; log: pino.Logger }) => Controller[])[];
  /** The queue service's and the journal's clock (tests move it by hand). */
  clock?: Clock;
  /** Bounds of the decision journal (default DEFAULT_JOURNAL in src/domain/journal.ts). */
  journal?: Partial<JournalSettings>;
  /** How often apps are sampled for the console's history (default 30 s; tests shorten it). */
  historyEveryMs?: number;
  /** The console's built files (default: web/dist of this checkout). */
  consoleDir?: string;
}

export interface ControlPlane {
  url: string;
  dataDir: string;
  store: Store;
  adminToken?: string;
  adminTokenFile: string;
  ctx: ServerCtx;
  close(): Promise<void>;
}

export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const dataDir = resolve(o.dataDir);
  // 0700, also when it exists: the database, admin token, secret key, bundles and workers' logs are in it.
  privateDir(dataDir);
  const log = pino({ level: o.logLevel ?? 'info', redact: ['req.headers.authorization', '*.token', '*.password'] });
  const store = await Store.open(o.db ?? `sqlite:${join(dataDir, 'flotilla.db')}`, { maxLogBytesPerTask: o.maxLogBytes, journal: o.journal, clock: o.clock });
  const timings = timingsOf(o);
  const settings: ServerSettings = {
    leaseTtlMs: timings.leaseTtlMs, heartbeatMs: timings.heartbeatMs, maxWaitMs: timings.maxWaitMs, version: VERSION,
  };
  const vault = secretVault(store, dataDir);
  const queue = new QueueService(store, { leaseTtlMs: timings.leaseTtlMs, clock: o.clock ?? systemClock });
  const { app, ctx } = buildApp({ store, queue, settings, logger: log.child({ part: 'http' }), extraRoutes: [autoscalerRoutes, costRoutes, secretRoutes(vault), bootstrapRoutes({ dataDir }), k8sRoutes, consoleAppRoutes(vault), ...(o.extraRoutes ?? [])], consoleDir: o.consoleDir });
  const adminTokenFile = join(dataDir, 'admin-token');
  const adminToken = await ensureAdminToken(store, adminTokenFile);
  const address = await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 8080 });
  const url = address.replace('[::1]', '127.0.0.1');

  const autoscalers = new AutoscalerManager({
    store, queue, serverUrl: o.publicUrl ?? url, dataDir, log: (m) => log.info(m), timings, ...cloudAutoscaling(vault), ...o.autoscaler,
  });
  const controllers: Controller[] = [
    // Grace after start: a lease TTL plus the agent's longest back-off, so an agent retrying the restarted plane has
    // reached it and heartbeat before its lease may be swept.
    leaseSweeper(queue, timings.sweepEveryMs, (m) => log.info(m), timings.leaseTtlMs + BACKOFF.agent.maxMs, () => (o.clock ?? systemClock).now()),
    autoscalers,
    historySampler(store, (m) => log.warn(m), o.historyEveryMs),
    ...(o.controllers ?? []).flatMap((make) => make({ ...ctx, url, log })),
  ];
  const leadership = new Leadership(store.db.pool, (leader) => {
    log.info({ leader }, leader ? 'leading: starting controllers' : 'no longer leading');
    for (const c of controllers) void (leader ? c.start() : c.stop());
  });
  await leadership.start();

  return {
    url, dataDir, store, adminToken, adminTokenFile, ctx,
    close: async () => {
      if (o.stopLocalWorkersOnClose && leadership.leader) await autoscalers.stopLocalWorkers();
      await leadership.stop();
      await app.close();
      await store.close();
    },
  };
}

/** The defaults, then FLOTILLA_TIMINGS (JSON, strict), then `timings`, then --lease-ttl. */
export function timingsOf(o: Pick<ControlPlaneOptions, 'timings' | 'leaseTtlS' | 'env'>): Timings {
  const env = o.env ?? process.env;
  if (env.FLOTILLA_AUTOSCALER_TIMINGS)
    throw new Error(`FLOTILLA_AUTOSCALER_TIMINGS is now ${TIMINGS_ENV} (same JSON, more keys; see docs/configuration.md)`);
  const fromEnv = env[TIMINGS_ENV] ? parseTimingsOverride(env[TIMINGS_ENV]) : {};
  return resolveTimings(fromEnv, o.timings, o.leaseTtlS === undefined ? undefined : { leaseTtlMs: o.leaseTtlS * 1000 });
}

/** First start: make an admin token and write it to a 0600 file. Later starts reuse what exists. */
async function ensureAdminToken(store: Store, file: string): Promise<string | undefined> {
  if (await store.tokens.hasAdmin()) return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  const { token } = await store.tokens.create('admin', 'admin');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}
