import { z } from 'zod';
import { addRoute } from '../route.js';
import type { RouteGroup } from '../context.js';
import { CreateTaskSchema, TASK_STATUSES, FINAL_STATUSES, queueName, type ValidTask } from '../../domain/task.js';
import { waitForEvent } from '../wait.js';
import { NotFoundError } from '../../domain/errors.js';
import { idString } from '../../domain/limits.js';

const idParams = z.object({ id: idString });

/** The store says a queue is missing; the answer to the user says how to make it. */
function withQueueHint(e: unknown): never {
  const m = e instanceof NotFoundError && /^queue "([^"]+)" does not exist$/.exec(e.message);
  if (m) throw new NotFoundError(`${e.message}: create it with "flotilla queue create ${m[1]}"`);
  throw e;
}

export const taskRoutes: RouteGroup = ({ app, routes, store, queue, settings, closing }) => {
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks', roles: ['user'], summary: 'Put a task on a queue',
    body: CreateTaskSchema,
    handler: async ({ body, auth, reply }) => {
      const task = await queue.create(body, auth.name).catch(withQueueHint);
      reply.code(201);
      return task;
    },
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/batch', roles: ['user'],
    summary: 'Put several tasks on queues in one call: all of them, or (on any error) none',
    body: z.object({ tasks: z.array(CreateTaskSchema).min(1).max(1000) }),
    handler: async ({ body, auth, reply }) => {
      const tasks = await queue.createMany(body.tasks, auth.name).catch(withQueueHint);
      reply.code(201);
      return { tasks };
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/tasks', roles: ['user'], summary: 'List tasks (queued ones in queue order)',
    query: z.object({
      queue: queueName.optional(),
      status: z.enum(TASK_STATUSES).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      offset: z.coerce.number().int().min(0).default(0),
      cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
    }),
    handler: async ({ query }) => store.tasks.page(query),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/rerun', roles: ['user'], summary: 'Run a task again: a new task with the same spec on the same queue',
    params: idParams,
    handler: async ({ params, auth, reply }) => {
      const t = await store.tasks.get(params.id);
      const task = await queue.create({ ...t.spec, queue: t.queue, name: t.name, priority: t.priority, maxAttempts: t.maxAttempts } as ValidTask, auth.name)
        .catch(withQueueHint);
      reply.code(201);
      return task;
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/tasks/:id', roles: ['user'], summary: 'One task',
    params: idParams,
    handler: async ({ params }) => store.tasks.get(params.id),
  });
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tasks/:id/abort', roles: ['user'],
    summary: 'Abort a task: a queued one leaves its queue, a running one is stopped by its agent',
    params: idParams,
    handler: async ({ params }) => queue.abort(params.id),
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/tasks/:id/logs', roles: ['user'],
    summary: 'Log lines after a sequence number; waitMs long-polls for new lines (follow)',
    params: idParams,
    query: z.object({
      after: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(5000).default(1000),
      waitMs: z.coerce.number().int().min(0).max(30_000).default(0),
    }),
    handler: async ({ params, query, req }) => {
      const read = async () => {
        const lines = await store.logs.read(params.id, query.after, query.limit);
        const task = await store.tasks.get(params.id);
        return { lines, next: lines.length ? lines[lines.length - 1].seq : query.after, status: task.status,
          done: FINAL_STATUSES.includes(task.status) };
      };
      const wake = waitForEvent(store.events, (e) => (e.kind === 'log' || e.kind === 'task') && e.taskId === params.id,
        Math.min(query.waitMs, settings.maxWaitMs), req.raw, closing);
      const first = await read();
      if (first.lines.length || first.done || query.waitMs === 0) {
        wake.cancel();
        return first;
      }
      await wake.promise;
      return read();
    },
  });
};
