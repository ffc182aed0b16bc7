import { z } from 'zod';
import { addRoute, ValidationError } from '../route.js';
import type { RouteGroup } from '../context.js';
import { NotFoundError } from '../../domain/errors.js';
import { LIMITS, bounded, idString } from '../../domain/limits.js';

export const tokenRoutes: RouteGroup = ({ app, routes, store }) => {
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/tokens', roles: [], summary: 'Create a token (shown once); `app` binds an agent token to an autoscaler app',
    body: z.object({
      name: bounded(LIMITS.name).min(1),
      role: z.enum(['admin', 'user', 'agent']),
      ttlSeconds: z.number().int().positive().max(100 * 365 * 86_400, 'at most 100 years').optional(),
      app: z.string().min(1).max(LIMITS.name).optional()
        .describe("agent tokens only: the autoscaler app whose worker it may register (and whose secrets that worker reads); none without it"),
    }),
    handler: async ({ body, reply }) => {
      if (body.app !== undefined && body.role !== 'agent')
        throw new ValidationError([{ field: 'body.app', message: 'only an agent token is bound to an app' }]);
      if (body.app !== undefined) await store.apps.get(body.app); // 404 when there is no such app
      const { token, info } = await store.tokens.create(body.name, body.role, { ttlMs: body.ttlSeconds && body.ttlSeconds * 1000, app: body.app });
      reply.code(201);
      return { token, ...info };
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/tokens', roles: [], summary: 'List tokens (never their values)',
    handler: async () => ({ tokens: await store.tokens.list() }),
  });
  addRoute(app, routes, {
    method: 'DELETE', url: '/api/v1/tokens/:id', roles: [], summary: 'Revoke a token',
    params: z.object({ id: idString }),
    handler: async ({ params }) => {
      if (!(await store.tokens.revoke(params.id))) throw new NotFoundError(`token "${params.id}" not found`);
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/whoami', roles: ['user', 'agent'], summary: 'The calling token',
    handler: async ({ auth }) => ({ name: auth.name, role: auth.role, scope: auth.scope,
      app: auth.app, resource: auth.resource, queues: auth.queues }),
  });
};
