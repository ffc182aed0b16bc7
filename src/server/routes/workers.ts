// Agents: registration, the dequeue long poll, and reports on the leases they hold.
import { z } from 'zod';
import { addRoute } from '../route.js';
import type { RouteGroup, ServerCtx } from '../context.js';
import { queueName } from '../../domain/task.js';
import { ForbiddenError, NotFoundError } from '../../domain/errors.js';
import { isBound, outOfScope } from '../../domain/agent-scope.js';
import type { TokenInfo } from '../../store/tokens.js';
import type { FastifyRequest } from 'fastify';
import { LIMITS, bounded, boundedList, exitCode, idString } from '../../domain/limits.js';
import { waitForEvent } from '../wait.js';
import { recordInterruption } from '../../autoscaler/interruptions.js';

const workerParams = z.object({ workerId: idString });
const taskParams = z.object({ id: idString });
const leaseBody = z.object({ leaseId: idString });
const queueList = boundedList(queueName, LIMITS.queuesPerRequest);
const finishReport = leaseBody.extend({
  status: z.enum(['completed', 'failed', 'aborted']),
  exitCode: exitCode.nullable(),
  message: bounded(LIMITS.message).optional(),
});

/** An agent token may act only for workers it registered. */
async function checkOwner(ctx: ServerCtx, auth: TokenInfo, workerId: string) {
  const worker = await ctx.store.workers.identity(workerId);
  if (auth.role !== 'admin' && worker?.tokenId !== auth.id)
    throw new ForbiddenError(`worker "${workerId}" was registered with another token`);
  return worker;
}

export const workerRoutes: RouteGroup = (ctx) => {
  const { app, routes, store, queue, settings, metrics } = ctx;
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/workers', roles: ['user'], summary: 'List workers',
    query: z.object({ all: z.coerce.boolean().default(false) }),
    handler: async ({ query }) => ({ workers: await store.workers.list(query.all) }),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/workers', roles: ['agent'], summary: "Register an agent as a worker, within its token's binding (403); another token's worker: 409",
    body: z.object({
      id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits and _.:- only'),
      queues: queueList.min(1),
      app: bounded(LIMITS.name).optional(),
      resource: bounded(LIMITS.name).optional(),
      instanceId: bounded(LIMITS.id).optional(),
    }),
    handler: async ({ body, auth }) => {
      // A token registers only inside its binding: its instance, app, resource and queues (domain/agent-scope.ts).
      const appCfg = auth.role !== 'admin' && auth.app !== null && auth.queues === null
        ? await store.apps.get(auth.app).catch((e) => { if (e instanceof NotFoundError) return null; throw e; }) : null;
      const refused = outOfScope(auth, body, appCfg);
      if (refused) throw new ForbiddenError(refused);
      // Another token's live worker is not taken over: 409, nothing changed (services/queue.ts).
      return { worker: await queue.register({ ...body, tokenId: auth.id }), settings: {
        leaseTtlMs: settings.leaseTtlMs, heartbeatMs: settings.heartbeatMs, maxWaitMs: settings.maxWaitMs } };
    },
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/workers/:workerId/dequeue', roles: ['agent'],
    summary: 'Long poll for the next task of the first non-empty queue; 204 when none came in waitMs (a wait of 5 s or more ends up to 10 % early, at random, so agents started together do not poll in step)',
    params: workerParams,
    body: z.object({
      queues: queueList.min(1).optional(),
      taskId: idString.optional(),
      waitMs: z.number().int().min(0).max(60_000).default(20_000),
      finished: finishReport.extend({ taskId: idString }).optional()
        .describe('The end of the task this worker held, reported before taking the next (one request instead of two)'),
    }),
    handler: async ({ params, body, auth, req }) => {
      // The hot path asks the store once: who owns the worker is cached, and the take itself refuses a stopped worker.
      const worker = await checkOwner(ctx, auth, params.workerId);
      if (auth.scope?.startsWith('task:') && body.taskId !== auth.scope.slice(5))
        throw new ForbiddenError('this token may only take the task it was made for');
      // A bound token's worker takes only from the queues it registered (which were checked against the binding).
      if (body.queues && worker && isBound(auth)) {
        const outside = body.queues.filter((q) => !worker.queues.includes(q));
        if (outside.length) throw new ForbiddenError(`queue "${outside[0]}" is out of this worker's scope: it registered for ${worker.queues.map((q) => `"${q}"`).join(', ')}`);
      }
      // The end of the task this worker holds comes first (a stale report is a 409, and nothing is taken).
      const watch = goneOrClosing(req, ctx.closing);
      try {
        const got = await queue.dequeue(params.workerId, { queues: body.queues ?? worker?.queues ?? [], taskId: body.taskId }, {
          finished: body.finished, waitMs: spread(Math.min(body.waitMs, settings.maxWaitMs)), signal: watch.signal,
        });
        if (got) metrics.observeStart(got.task);
        return got ?? undefined;
      } finally {
        watch.release();
      }
    },
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/workers/:workerId/stop', roles: ['agent'], summary: 'An agent going away',
    params: workerParams,
    handler: async ({ params, auth }) => {
      await checkOwner(ctx, auth, params.workerId);
      await queue.stopWorker(params.workerId);
    },
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/workers/:workerId/interruption', roles: ['agent'],
    summary: "The cloud announced that this worker's machine goes (notice) or should be left (rebalance): spot",
    params: workerParams,
    body: z.object({
      kind: z.enum(['notice', 'rebalance']),
      source: z.enum(['aws', 'gcp']),
      action: bounded(LIMITS.name).optional().describe('What the cloud will do: terminate, stop, hibernate, preempt'),
      at: z.number().int().nonnegative().optional().describe('When the machine goes, epoch ms'),
    }),
    // The instance is marked interrupted (its offering cools down); its reconciler wakes on the worker event.
    handler: async ({ params, body, auth }) => {
      await checkOwner(ctx, auth, params.workerId);
      const worker = await store.workers.get(params.workerId);
      if (!worker) throw new NotFoundError(`worker "${params.workerId}" not found; register it first`);
      const out = await recordInterruption(store, worker, body, Date.now());
      store.events.publish({ kind: 'worker', workerId: worker.id });
      return out;
    },
  });
  leaseRoutes(ctx);
};

/**
 * Aborted when the client goes away or the server starts closing: a long poll then answers at once. Made only
 * when the poll waits, and released when it ends: an agent's keep-alive socket carries thousands of polls, and a
 * listener left on it per poll piles up (and AbortSignal.any on the server-long `closing` signal kept each one).
 */
function goneOrClosing(req: FastifyRequest, closing: AbortSignal): { signal: () => AbortSignal; release(): void } {
  const socket = req.raw.socket;
  let gone: AbortController | undefined;
  const abort = () => gone?.abort();
  return {
    signal: () => {
      gone = new AbortController();
      if (socket.destroyed || closing.aborted) gone.abort();
      socket.once('close', abort);
      closing.addEventListener('abort', abort, { once: true });
      return gone.signal;
    },
    release: () => {
      if (!gone) return;
      socket.off('close', abort);
      closing.removeEventListener('abort', abort);
    },
  };
}

/**
 * A long poll's wait, up to 10 % shorter at random: agents started together (a fleet's launch, a restarted control
 * plane) would otherwise all poll again in the same millisecond, every 20 s, for as long as they live.
 */
function spread(waitMs: number): number {
  return waitMs >= 5_000 ? waitMs - Math.floor(Math.random() * waitMs * 0.1) : waitMs;
}

function leaseRoutes(ctx: ServerCtx) {
  const { app, routes, store, queue, settings, closing } = ctx;
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/lease/heartbeat', roles: ['agent'],
    summary: 'Extend the lease; the answer says whether the task was aborted',
    params: taskParams, body: leaseBody,
    handler: async ({ params, body }) => queue.heartbeat(params.id, body.leaseId),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/lease/wait-abort', roles: ['agent'],
    summary: 'Long poll while a task runs: answers {abort: true} as soon as the task is aborted, else {abort: false} after waitMs',
    params: taskParams, body: leaseBody.extend({ waitMs: z.number().int().min(0).max(60_000).default(20_000) }),
    // Does not extend the lease (heartbeats do). A stale lease: 409. An abort publishes a task event after its commit.
    handler: async ({ params, body, req }) => {
      const deadline = Date.now() + Math.min(body.waitMs, settings.maxWaitMs);
      for (;;) {
        // Subscribed before the read, so an abort between the two is not missed.
        const wake = waitForEvent(store.events, (e) => e.kind === 'task' && e.taskId === params.id,
          Math.max(0, deadline - Date.now()), req.raw, closing);
        if (await store.tasks.abortRequested(params.id, body.leaseId).catch((e) => (wake.cancel(), Promise.reject(e)))) {
          wake.cancel();
          return { abort: true };
        }
        const fired = await wake.promise;
        if (!fired || Date.now() >= deadline || req.raw.socket?.destroyed || closing.aborted)
          return { abort: fired ? await store.tasks.abortRequested(params.id, body.leaseId) : false };
      }
    },
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/lease/logs', roles: ['agent'], summary: 'Append log lines',
    params: taskParams,
    body: leaseBody.extend({
      lines: boundedList(z.object({ stream: z.enum(['stdout', 'stderr', 'system']), text: bounded(LIMITS.logText) }), LIMITS.logLines),
    }),
    // A task's output is not input: it may hold any character, U+0000 too (the log store keeps it).
    acceptsNul: ['body.lines.*.text'],
    handler: async ({ params, body }) => store.logs.append(params.id, body.leaseId, body.lines),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/lease/finish', roles: ['agent'], summary: 'Report the end of a task',
    params: taskParams,
    body: finishReport,
    // The worker is idle again in the same step.
    handler: async ({ params, body }) => queue.finish(params.id, body.leaseId, body),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/lease/release', roles: ['agent'],
    summary: 'Hand a task back to the head of its queue (the agent is stopping)',
    params: taskParams, body: leaseBody.extend({ reason: bounded(LIMITS.message).default('agent stopped') }),
    // The task and its worker's record change in one transaction.
    handler: async ({ params, body }) => queue.release(params.id, body.leaseId, body.reason),
  });
}
