// The fastify app: auth, error shapes, and every route group.
import { setMaxListeners } from 'node:events';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Store } from '../store/index.js';
import { QueueService } from '../services/queue.js';
import type { AnyRoute } from './route.js';
import { ValidationError } from './route.js';
import { ConflictError, ForbiddenError, GoneError, NotFoundError } from '../domain/errors.js';
import type { RouteGroup, ServerCtx, ServerSettings } from './context.js';
import { installAuth } from './auth.js';
import { Metrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { queueRoutes } from './routes/queues.js';
import { taskRoutes } from './routes/tasks.js';
import { workerRoutes } from './routes/workers.js';
import { tokenRoutes } from './routes/tokens.js';
import { installClearml } from '../clearml/api.js';
import { sessionRoutes } from './session.js';
import { installConsole } from './console-static.js';
import { consoleRoutes } from './routes/console.js';
import { LiveHub } from './live.js';

export interface AppOptions {
  store: Store;
  settings: ServerSettings;
  /** The queue service (default: one on this store with the system clock). */
  queue?: QueueService;
  logger?: FastifyBaseLogger;
  /** Route groups added by other parts (autoscaler, secrets, bootstrap, k8s). */
  extraRoutes?: RouteGroup[];
  /** The console's built files (default: web/dist of this checkout). */
  consoleDir?: string;
}

export function buildApp(opts: AppOptions): { app: FastifyInstance; ctx: ServerCtx } {
  const requestLogging = (opts.logger as { isLevelEnabled?: (l: string) => boolean } | undefined)?.isLevelEnabled?.('debug') ?? false;
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    // Two log lines per request (agents poll and report all the time) only when asked for with --log-level debug;
    // failures are logged by the error handler below.
    logController: new LogController({ disableRequestLogging: !requestLogging }),
    // A child logger per request (to stamp its id on its lines) cost a visible share of a busy queue's CPU, and
    // without request lines there is nothing to match the id with: the error handler names the request instead.
    ...(requestLogging ? {} : { childLoggerFactory: (logger: FastifyBaseLogger) => logger }),
    bodyLimit: 16 * 1024 * 1024,
    // Longer than any id or name a route takes (LIMITS.id, LIMITS.name), so an over-long one is the route's 400 naming
    // the field and its limit; a path parameter longer than this is fastify's 414.
    routerOptions: { maxParamLength: 1024 },
    // Long polls hold requests open; keep-alive connections from agents are reused.
    keepAliveTimeout: 75_000,
  });
  const routes: AnyRoute[] = [];
  const closing = new AbortController();
  // Every open long poll listens for the shutdown (hundreds with a fleet of agents): no leak, so no warning.
  setMaxListeners(0, closing.signal);
  const ctx: ServerCtx = {
    app, store: opts.store, settings: opts.settings, routes,
    queue: opts.queue ?? new QueueService(opts.store, { leaseTtlMs: opts.settings.leaseTtlMs }), metrics: new Metrics(opts.store), closing: closing.signal,
    live: new LiveHub(opts.store.events),
  };
  // preClose runs before fastify waits for in-flight requests: end the long polls so close() is quick.
  app.addHook('preClose', async () => {
    closing.abort();
    ctx.live.close();
  });
  installAuth(app, opts.store);
  app.setErrorHandler((err: any, req, reply) => {
    const status = statusOf(err);
    if (status >= 500) req.log.error({ err, reqId: req.id, method: req.method, url: req.url }, 'request failed');
    const body: Record<string, unknown> = { error: status >= 500 ? 'internal error; see the server log' : err.message };
    if (err instanceof ValidationError) body.issues = err.issues;
    reply.code(status).send(body);
  });
  app.get('/healthz', async () => ({ ok: true, version: opts.settings.version }));
  app.get('/openapi.json', { config: { roles: ['user', 'agent'] } }, async () => openApiDocument(routes, opts.settings.version));
  app.get('/metrics', { config: { roles: ['user'] } }, async (_req, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
  installClearml(app, { store: opts.store, queue: ctx.queue });
  for (const group of [queueRoutes, taskRoutes, workerRoutes, tokenRoutes, sessionRoutes, consoleRoutes, ...(opts.extraRoutes ?? [])]) group(ctx);
  installConsole(app, opts.consoleDir);
  return { app, ctx };
}

/** Domain errors carry no HTTP: their status is decided here, once. */
function statusOf(err: any): number {
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof GoneError) return 410;
  return typeof err.statusCode === 'number' ? err.statusCode : 500;
}
