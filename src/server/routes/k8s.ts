// What the Kubernetes glue needs from the control plane, over HTTP so the same glue runs standalone or in the leader.
// Admin tokens only (roles: []): the glue mints agent tokens and ends or requeues any task of its queues, which is
// as much power as creating tokens, and token creation is admin-only too.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { addRoute } from '../route.js';
import type { RouteGroup } from '../context.js';
import { queueName, type Task } from '../../domain/task.js';
import type { Store } from '../../store/index.js';
import { ConflictError } from '../../domain/errors.js';
import { waitForEvent } from '../wait.js';
import { LIMITS, bounded, boundedList, exitCode, idString } from '../../domain/limits.js';

/** The journal's app name for the glue's rows (store.decisions). */
export const GLUE_APP = 'k8s-glue';

const idParams = z.object({ id: idString });
const queueArray = boundedList(queueName, LIMITS.queuesPerRequest);
/** Comma-separated in a query string; its length is checked before it is split. */
const queueList = bounded(LIMITS.queuesPerRequest * 129).transform((s) => s.split(',').filter(Boolean)).pipe(queueArray.min(1));
const message = bounded(LIMITS.message).min(1);

export const k8sRoutes: RouteGroup = (ctx) => {
  const { app, routes, store, queue, closing } = ctx;
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/k8s/queues/:queue/schedule-next', roles: [],
    summary: "Take the head of a queue for a pod: it becomes 'scheduled' and keeps its place; 204 when the queue is empty",
    params: z.object({ queue: queueName }), body: z.object({ message }),
    handler: async ({ params, body }) => (await queue.scheduleNext(params.queue, body.message)) ?? undefined,
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/k8s/tasks/:id/token', roles: [],
    summary: "A short-lived agent token that may take only this task (for its pod's Secret), bound to its queue and no app",
    params: idParams, body: z.object({ ttlSeconds: z.number().int().min(60).max(30 * 86400) }),
    handler: async ({ params, body, reply }) => {
      const task = await store.tasks.get(params.id);
      if (task.status !== 'scheduled') throw new ConflictError(`task "${task.id}" is ${task.status}, not scheduled: no token for it`);
      const { token, info } = await store.tokens.create(`k8s task ${task.id}`, 'agent',
        // Bound to the task's queue and no app: the pod's agent registers for that queue only and reads no secrets.
        { scope: `task:${task.id}`, queues: [task.queue], ttlMs: body.ttlSeconds * 1000 });
      reply.code(201);
      return { token, id: info.id, expiresAt: info.expiresAt };
    },
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/k8s/tasks/:id/message', roles: [], summary: "Set a waiting or running task's status message",
    params: idParams, body: z.object({ message }),
    handler: async ({ params, body }) => { await queue.setMessage(params.id, body.message); },
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/k8s/tasks/:id/requeue', roles: [],
    summary: 'Put a scheduled or running task back at the head of its queue (its pod was evicted or preempted); ' +
      'an aborted one ends aborted, one out of attempts ends failed',
    params: idParams, body: z.object({ reason: message }),
    // The service decides (requeue, or end aborted or failed) and frees the worker, in one transaction.
    handler: async ({ params, body }) => queue.requeue(params.id, body.reason),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/k8s/tasks/:id/fail', roles: [],
    summary: 'End a task its agent did not report on (image pull, OOMKilled, pod gone); 409 when it has already ended',
    params: idParams,
    body: z.object({ status: z.enum(['failed', 'aborted']).default('failed'), message, exitCode: exitCode.nullable().default(null) }),
    handler: async ({ params, body }) => queue.fail(params.id, body.status, body.message, body.exitCode),
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/k8s/tasks', roles: [],
    summary: 'Scheduled and running tasks of these queues (a restarted glue adopts their pods)',
    query: z.object({ queues: queueList }),
    handler: async ({ query }) => {
      const tasks = await activeTasks(store, query.queues);
      return { tasks, digest: digest(tasks) };
    },
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/k8s/wait', roles: [],
    summary: 'Long poll: answers when a task is enqueued, starts, ends or is aborted on one of these queues, or after waitMs; ' +
      'at once when one of the `ready` queues (those the glue has room for) holds a queued task, or when the scheduled ' +
      'and running tasks no longer match `digest` (from GET /api/v1/k8s/tasks)',
    body: z.object({ queues: queueArray.min(1), ready: queueArray.default([]), digest: bounded(LIMITS.id).optional(),
      waitMs: z.number().int().min(0).max(60_000) }),
    handler: async ({ body, req }) => {
      const wanted = new Set(body.queues);
      const wait = waitForEvent(store.events, (e) => (e.kind === 'enqueue' || e.kind === 'task') && wanted.has(e.queue),
        Math.min(body.waitMs, ctx.settings.maxWaitMs), req.raw, closing);
      // Subscribed first, then checked: a change after the glue's pass and before this wait is not missed.
      const waiting = await store.tasks.waitingByQueue(body.ready);
      const changed = body.digest !== undefined && digest(await activeTasks(store, body.queues)) !== body.digest;
      if (changed || Object.values(waiting).some((w) => w.waiting > 0)) {
        wait.cancel();
        return { woke: true };
      }
      return { woke: await wait.promise };
    },
  });
  journalRoutes(ctx);
};

/** One query for all the queues (it was two per queue: 10,000 queries for 5,000 queues held the event loop for seconds). */
const activeTasks = (store: Store, queues: string[]): Promise<Task[]> => store.tasks.active(queues);

/** What the glue acts on, in one string: which tasks are scheduled or running, and which of them were aborted. */
const digest = (tasks: Task[]) => createHash('sha256')
  .update(tasks.map((t) => `${t.id}:${t.status}:${t.abortRequested ? 1 : 0}`).sort().join(',')).digest('base64url');

function journalRoutes({ app, routes, store }: Parameters<RouteGroup>[0]) {
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/k8s/journal', roles: [], summary: "Add a row to the glue's journal",
    body: z.object({ queue: queueName.nullable().default(null), kind: z.string().min(1).max(64), reason: message,
      detail: z.record(z.string(), z.unknown()).default({})
        .refine((d) => JSON.stringify(d).length <= LIMITS.detailBytes, `at most ${LIMITS.detailBytes} characters as JSON`) }),
    handler: async ({ body }) => { await store.decisions.add({ ...body, app: GLUE_APP, at: Date.now() }); },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/k8s/journal', roles: ['user'], summary: "The glue's journal, newest first",
    query: z.object({ queue: queueName.optional(), limit: z.coerce.number().int().min(1).max(1000).default(50) }),
    handler: async ({ query }) => ({ decisions: await store.decisions.recent({ app: GLUE_APP, ...query }) }),
  });
}
