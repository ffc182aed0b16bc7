// Money over the API: the cost report (every billed instance-second attributed), one task's cost, and an app's spend
// this day and month with the month's projection (for the console). All computed by services/costs.ts from stored
// records, the same figures as `flotilla cost report` and the flotilla_spend_usd_total counter.
import { z } from 'zod';
import { addRoute } from '../route.js';
import type { RouteGroup } from '../context.js';
import { COST_BY, CostService } from '../../services/costs.js';
import { LIMITS, bounded, idString } from '../../domain/limits.js';

/** An instant: epoch milliseconds or an ISO 8601 date or time. */
const instant = z.string().max(40).transform((s, ctx) => {
  const n = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a time: give epoch milliseconds or an ISO date such as 2026-12-01` });
    return z.NEVER;
  }
  return n;
});

export const costRoutes: RouteGroup = ({ app, routes, store, queue }) => {
  const costs = new CostService(store, () => queue.clock.now());
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/costs', roles: ['user'],
    summary: 'Spend in [from, to) by app, resource, queue, task or day: busy, boot and idle, instance-hours, tasks, cost per task',
    query: z.object({
      from: instant.describe('start (epoch ms or ISO); default: 7 days before to'),
      to: instant.optional().describe('end (epoch ms or ISO); default: now'),
      by: z.enum(COST_BY as [string, ...string[]]).default('app'),
      app: bounded(LIMITS.name).optional(),
    }).partial({ from: true }),
    handler: async ({ query }) => {
      const to = query.to ?? queue.clock.now();
      return costs.report({ from: query.from ?? to - 7 * 86_400_000, to, by: query.by as (typeof COST_BY)[number], app: query.app });
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/tasks/:id/cost', roles: ['user'],
    summary: 'What a task cost: its run time on each instance, at that instance\'s price',
    params: z.object({ id: idString }),
    handler: async ({ params }) => {
      await store.tasks.get(params.id); // 404 for an unknown task
      return costs.task(params.id);
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/autoscalers/:name/spend', roles: ['user'],
    summary: 'An app\'s spend today, this (budget) month, and the month projected at its current $/h',
    params: z.object({ name: bounded(LIMITS.name).min(1) }),
    handler: async ({ params }) => costs.appSpendPeriods(await store.apps.get(params.name)),
  });
};
