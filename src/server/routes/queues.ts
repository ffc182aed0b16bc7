import { z } from 'zod';
import { addRoute } from '../route.js';
import type { RouteGroup } from '../context.js';
import { queueName } from '../../domain/task.js';

export const queueRoutes: RouteGroup = ({ app, routes, store }) => {
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/queues', roles: ['user'], summary: 'Create a queue',
    body: z.object({ name: queueName }),
    handler: async ({ body, reply }) => {
      await store.queues.create(body.name);
      reply.code(201);
      return { name: body.name };
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/queues', roles: ['user'], summary: 'List queues with their depths',
    handler: async () => ({ queues: await store.queues.list() }),
  });
  addRoute(app, routes, {
    method: 'DELETE', url: '/api/v1/queues/:name', roles: ['user'], summary: 'Delete an empty queue',
    params: z.object({ name: queueName }),
    handler: async ({ params }) => {
      await store.queues.delete(params.name);
    },
  });
};
