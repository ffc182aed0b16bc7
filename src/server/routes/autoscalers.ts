// Autoscaler apps over the API: apply a config, read it back, its status and journal, and why a task waits.
import { z } from 'zod';
import { addRoute, ValidationError } from '../route.js';
import type { RouteGroup } from '../context.js';
import { AppConfigSchema, appConfigJsonSchema, type AppConfig } from '../../domain/autoscaler/config.js';
import { appStatus } from '../../autoscaler/status.js';
import { whyTask } from '../../autoscaler/why.js';
import { checkConfig } from '../../domain/config-keys.js';
import { PROVIDERS, validateProviderSettings } from '../../autoscaler/providers/index.js';
import { LIMITS, bounded, idString } from '../../domain/limits.js';
import { stringify as stringifyYaml } from 'yaml';
import { DECISION_KINDS, type DecisionKind } from '../../domain/autoscaler/lifecycle.js';

const nameParams = z.object({ name: bounded(LIMITS.name).min(1) });

export interface AppIssue { path: (string | number)[]; field: string; message: string }

/** `resources[0].launch.ami` → ['resources', 0, 'launch', 'ami'] (the provider checks name fields this way). */
const pathOf = (field: string): (string | number)[] =>
  field.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '').map((p) => (/^\d+$/.test(p) ? Number(p) : p));

/**
 * An app document checked as PUT applies it: strict (an unknown key is named with its path and the nearest known key),
 * then the provider's own settings. The console's validate answers from the same function, so the two never differ.
 */
export function parseApp(body: unknown): { ok: true; data: AppConfig } | { ok: false; issues: AppIssue[] } {
  const parsed = checkConfig(AppConfigSchema, body);
  if (!parsed.success)
    return { ok: false, issues: parsed.issues.map((i) => ({ path: i.path as (string | number)[], field: ['body', ...i.path.map(String)].join('.'), message: i.message })) };
  const issues = validateProviderSettings(parsed.data);
  if (issues.length) return { ok: false, issues: issues.map((i) => ({ path: pathOf(i.field), field: i.field, message: i.message })) };
  return { ok: true, data: parsed.data };
}

/** Inline provider credentials (allowed for emulators) are never echoed back: use a secret for real keys. */
export function redacted(cfg: AppConfig): AppConfig {
  const settings = cfg.provider.settings;
  if (!settings.credentials || typeof settings.credentials !== 'object') return cfg;
  const masked = Object.fromEntries(Object.keys(settings.credentials).map((k) => [k, '********']));
  return { ...cfg, provider: { ...cfg.provider, settings: { ...settings, credentials: masked } } };
}

export const autoscalerRoutes: RouteGroup = ({ app, routes, store }) => {
  addRoute(app, routes, {
    method: 'PUT', url: '/api/v1/autoscalers/:name', roles: ['user'],
    summary: 'Create or replace an autoscaler app (the same document as app.yaml)',
    params: nameParams, body: z.record(z.string(), z.unknown()),
    handler: async ({ params, body, reply }) => {
      const parsed = parseApp({ ...body, name: body.name ?? params.name });
      if (!parsed.ok) throw new ValidationError(parsed.issues.map((i) => ({ field: i.field, message: i.message })));
      if (parsed.data.name !== params.name)
        throw new ValidationError([{ field: 'body.name', message: `must match the URL's name "${params.name}"` }]);
      for (const q of Object.keys(parsed.data.queues)) await store.queues.ensure(q);
      const { created } = await store.apps.put(parsed.data);
      reply.code(created ? 201 : 200);
      return redacted(parsed.data);
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/autoscalers', roles: ['user'], summary: 'List autoscaler apps',
    handler: async () => ({ apps: (await store.apps.list()).map((a) => ({ ...redacted(a), updatedAt: a.updatedAt })) }),
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/autoscaler-schema', roles: ['user'],
    summary: 'JSON Schema of an app file; `providers` holds each provider kind\'s settings and launch schemas (the console\'s fields)',
    // provider.settings and launch are free-form in the app schema; a validator ignores the extra `providers` keyword.
    handler: async () => ({ ...(appConfigJsonSchema() as object), providers: PROVIDERS.jsonSchemas() }),
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/autoscalers/:name', roles: ['user'], summary: 'One app\'s config, as JSON or YAML (export)',
    params: nameParams, query: z.object({ format: z.enum(['json', 'yaml']).default('json') }),
    handler: async ({ params, query, reply }) => {
      const cfg = redacted(await store.apps.get(params.name));
      if (query.format === 'json') return cfg;
      reply.type('application/yaml; charset=utf-8');
      return stringifyYaml(cfg);
    },
  });
  addRoute(app, routes, {
    method: 'DELETE', url: '/api/v1/autoscalers/:name', roles: ['user'],
    summary: 'Delete an app; the instances it runs are stopped and their tasks go back to their queues',
    params: nameParams, handler: async ({ params }) => { await store.apps.delete(params.name); },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/autoscalers/:name/status', roles: ['user'],
    summary: 'Instances by state, queue depths, idle workers, spend rate and spend',
    params: nameParams, handler: async ({ params }) => appStatus(store, await store.apps.get(params.name)),
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/autoscalers/:name/decisions', roles: ['user'], summary: 'The decision journal, newest first',
    params: nameParams,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(50),
      kind: z.string().max(400).optional()
        .transform((k) => (k ? k.split(',').filter(Boolean) : []))
        .pipe(z.array(z.enum(DECISION_KINDS as [DecisionKind, ...DecisionKind[]])))
        .describe('only these kinds, comma-separated (launch,terminate,refuse,capacity-error…)'),
      queue: bounded(LIMITS.name).optional(),
    }),
    handler: async ({ params, query }) => {
      await store.apps.get(params.name);
      return { decisions: await store.decisions.recent({ app: params.name, limit: query.limit, kinds: query.kind, queue: query.queue }) };
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/tasks/:id/why', roles: ['user'],
    summary: 'Why a task waits: the plan evaluated now names the limit that binds; a running or ended task says so',
    params: z.object({ id: idString }),
    handler: async ({ params }) => whyTask(store, params.id),
  });
};
