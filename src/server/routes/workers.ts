// Agents: registration, the dequeue long poll, and reports on the leases they hold.
import { z } from 'zod';
import { addRoute } from '../route.js';
import type { RouteGroup, ServerCtx } from '../context.js';
import { queueName } from '../../domain/task.js';
import { waitForEvent } from '../wait.js';
import { ForbiddenError, GoneError } from '../../domain/errors.js';
import type { TokenInfo } from '../../store/tokens.js';
import type { FastifyRequest } from 'fastify';
import type { Lease, Task } from '../../domain/task.js';

const workerParams = z.object({ workerId: z.string().min(1) });
const taskParams = z.object({ id: z.string().min(1) });
const leaseBody = z.object({ leaseId: z.string().min(1) });
const finishReport = leaseBody.extend({
  status: z.enum(['completed', 'failed', 'aborted']),
  exitCode: z.number().int().nullable(),
  message: z.string().max(2000).optional(),
});

/** An agent token may act only for workers it registered. */
async function checkOwner(ctx: ServerCtx, auth: TokenInfo, workerId: string) {
  const worker = await ctx.store.workers.identity(workerId);
  if (auth.role !== 'admin' && worker?.tokenId !== auth.id)
    throw new ForbiddenError(`worker "${workerId}" was registered with another token`);
  return worker;
}

export const workerRoutes: RouteGroup = (ctx) => {
  const { app, routes, store, settings, metrics } = ctx;
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/workers', roles: ['user'], summary: 'List workers',
    query: z.object({ all: z.coerce.boolean().default(false) }),
    handler: async ({ query }) => ({ workers: await store.workers.list(query.all) }),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/workers', roles: ['agent'], summary: 'Register an agent as a worker',
    body: z.object({
      id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits and _.:- only'),
      queues: z.array(queueName).min(1),
      app: z.string().optional(),
      resource: z.string().optional(),
      instanceId: z.string().optional(),
    }),
    handler: async ({ body, auth }) => {
      // A scoped agent token (one instance or one task) may register only under its own identity.
      if (auth.role === 'agent' && auth.scope && !auth.scope.startsWith('task:') && auth.scope !== body.id)
        throw new ForbiddenError(`this token may only register worker "${auth.scope}"`);
      return { worker: await store.workers.register({ ...body, tokenId: auth.id }), settings: {
        leaseTtlMs: settings.leaseTtlMs, heartbeatMs: settings.heartbeatMs, maxWaitMs: settings.maxWaitMs } };
    },
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/workers/:workerId/dequeue', roles: ['agent'],
    summary: 'Long poll for the next task of the first non-empty queue; 204 when none came in waitMs',
    params: workerParams,
    body: z.object({
      queues: z.array(queueName).min(1).optional(),
      taskId: z.string().optional(),
      waitMs: z.number().int().min(0).max(60_000).default(20_000),
      finished: finishReport.extend({ taskId: z.string().min(1) }).optional()
        .describe('The end of the task this worker held, reported before taking the next (one request instead of two)'),
    }),
    handler: async ({ params, body, auth, req }) => {
      // The hot path asks the store once: who owns the worker is cached, and the take itself refuses a stopped worker.
      const worker = await checkOwner(ctx, auth, params.workerId);
      if (auth.scope?.startsWith('task:') && body.taskId !== auth.scope.slice(5))
        throw new ForbiddenError('this token may only take the task it was made for');
      const queues = body.queues ?? worker?.queues ?? [];
      const take = () => body.taskId
        ? store.tasks.dequeueById(params.workerId, body.taskId, settings.leaseTtlMs)
        : store.tasks.dequeue(params.workerId, queues, settings.leaseTtlMs);
      // The end of the task this worker holds comes first (a stale report is a 409, and nothing is taken).
      const f = body.finished;
      const first = !f ? take()
        : body.taskId ? store.tasks.finish(f.taskId, f.leaseId, f, Date.now(), params.workerId).then(take)
        : store.tasks.finishAndDequeue(params.workerId, f, queues, settings.leaseTtlMs);
      const got = (await first) ?? await waitAndTake(ctx, params.workerId, queues, body, req, take);
      if (got) metrics.observeStart(got.task);
      return got ?? undefined;
    },
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/workers/:workerId/stop', roles: ['agent'], summary: 'An agent going away',
    params: workerParams,
    handler: async ({ params, auth }) => {
      await checkOwner(ctx, auth, params.workerId);
      await store.workers.stop(params.workerId);
    },
  });
  leaseRoutes(ctx);
};

type Dequeued = { task: Task; lease: Lease };
type Take = () => Promise<Dequeued | null>;

/** The long poll: nothing was queued, so wait for an enqueue on one of the queues (or the deadline) and try again. */
async function waitAndTake(ctx: ServerCtx, workerId: string, queues: string[],
  body: { taskId?: string; waitMs: number }, req: FastifyRequest, take: Take): Promise<Dequeued | null> {
  const { store, settings } = ctx;
  const wanted = new Set(queues);
  const deadline = Date.now() + Math.min(body.waitMs, settings.maxWaitMs);
  for (;;) {
    // Subscribed before the take, so an enqueue between the two is not missed.
    const wake = waitForEvent(store.events, (e) => e.kind === 'enqueue' && (wanted.has(e.queue) || !!body.taskId),
      Math.max(0, deadline - Date.now()), req.raw, ctx.closing);
    const got = await take();
    if (got) {
      wake.cancel();
      return got;
    }
    if ((await store.workers.get(workerId))?.status === 'stopped') {
      wake.cancel();
      throw new GoneError(`worker "${workerId}" was stopped (by its autoscaler or at sign-off); register again to serve`);
    }
    if (Date.now() >= deadline || req.raw.socket.destroyed || ctx.closing.aborted) {
      wake.cancel();
      await store.workers.seen(workerId);
      return null;
    }
    await wake.promise;
  }
}

function leaseRoutes(ctx: ServerCtx) {
  const { app, routes, store, settings } = ctx;
  const afterEnd = async (workerId: string) => store.workers.setTask(workerId, null);
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/lease/heartbeat', roles: ['agent'],
    summary: 'Extend the lease; the answer says whether the task was aborted',
    params: taskParams, body: leaseBody,
    handler: async ({ params, body }) => store.tasks.heartbeat(params.id, body.leaseId, settings.leaseTtlMs),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/lease/logs', roles: ['agent'], summary: 'Append log lines',
    params: taskParams,
    body: leaseBody.extend({
      lines: z.array(z.object({ stream: z.enum(['stdout', 'stderr', 'system']), text: z.string() })).max(10_000),
    }),
    handler: async ({ params, body }) => store.logs.append(params.id, body.leaseId, body.lines),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/lease/finish', roles: ['agent'], summary: 'Report the end of a task',
    params: taskParams,
    body: finishReport,
    // The store marks the worker idle again in the same step.
    handler: async ({ params, body }) => store.tasks.finish(params.id, body.leaseId, body),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/lease/release', roles: ['agent'],
    summary: 'Hand a task back to the head of its queue (the agent is stopping)',
    params: taskParams, body: leaseBody.extend({ reason: z.string().max(500).default('agent stopped') }),
    handler: async ({ params, body }) => {
      const before = await store.tasks.get(params.id);
      const task = await store.tasks.release(params.id, body.leaseId, body.reason);
      if (before.workerId) await afterEnd(before.workerId);
      return task;
    },
  });
}
