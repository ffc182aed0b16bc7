// What the web console reads beyond the plain API: the overview, the live stream, an app's history and the
// Kubernetes glue's overview. Every route is declared here once (roles, validation, OpenAPI).
import { z } from 'zod';
import { addRoute } from '../route.js';
import type { RouteGroup } from '../context.js';
import { overview } from '../overview.js';
import { LIMITS, bounded } from '../../domain/limits.js';
import { GLUE_APP } from './k8s.js';
import { AuthError } from '../auth.js';

const WINDOWS = { '1h': 3_600_000, '1d': 24 * 3_600_000 } as const;

export const consoleRoutes: RouteGroup = ({ app, routes, store, live, closing }) => {
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/overview', roles: ['user'],
    summary: 'Queues (depth, waits, why not scaling), apps (instances, $/h, spend), workers and the latest decisions',
    handler: async () => overview(store),
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/events', roles: ['user'],
    summary: 'Server-Sent Events: {topic, app?, queue?, taskId?} when something changes; resume with Last-Event-ID',
    handler: async ({ req, reply, auth }) => {
      if (!live.serve(req, reply, auth.id, closing))
        throw new AuthError(403, `this token already has ${live.settings.maxPerToken} live streams open: close a console tab`);
      return reply;
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/autoscalers/:name/history', roles: ['user'],
    summary: "An app's samples (every 30 s, the last day kept): instances by state, waiting tasks, $/h",
    params: z.object({ name: bounded(LIMITS.name).min(1) }),
    query: z.object({ window: z.enum(['1h', '1d']).default('1h') }),
    handler: async ({ params, query }) => {
      await store.apps.get(params.name);
      return { samples: await store.history.list(params.name, Date.now() - WINDOWS[query.window]) };
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/k8s/overview', roles: ['user'],
    summary: "The Kubernetes glue: its queues, pods by phase (a scheduled task's pod is pending, a running one's runs), " +
      'why pods are pending, and its latest journal rows',
    handler: async () => {
      const journal = await store.decisions.recent({ app: GLUE_APP, limit: 50 });
      const queues = [...new Set(journal.map((d) => d.queue).filter((q): q is string => !!q))].sort();
      const tasks = queues.length ? await store.tasks.active(queues) : [];
      const waiting = await store.tasks.waitingByQueue(queues);
      return {
        queues: queues.map((q) => {
          const mine = tasks.filter((t) => t.queue === q);
          return {
            name: q, waiting: waiting[q]?.waiting ?? 0,
            podsByPhase: { Pending: mine.filter((t) => t.status === 'scheduled').length, Running: mine.filter((t) => t.status === 'running').length },
            pending: mine.filter((t) => t.status === 'scheduled').map((t) => ({ task: t.id, reason: t.statusMessage })),
          };
        }),
        journal: journal.slice(0, 20),
      };
    },
  });
};
