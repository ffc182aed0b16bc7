// The console's app editor and app view: validate a document without storing it (the same checks as PUT), check a
// provider's credentials with a dry run, replay a trace ("what would it cost"), list an app's instances, and ask its
// reconciler to drain or terminate one, or to stop every idle one.
import { z } from 'zod';
import { addRoute, ValidationError } from '../route.js';
import type { RouteGroup } from '../context.js';
import { ResourceSchema, type AppConfig } from '../../domain/autoscaler/config.js';
import { LIMITS, bounded } from '../../domain/limits.js';
import { parseApp, redacted } from './autoscalers.js';
import { diffDocs } from '../app-diff.js';
import { NotFoundError } from '../../domain/errors.js';
import type { SecretVault } from '../secrets/vault.js';
import { providerCredentials } from '../cloud-autoscaling.js';
import { PROVIDERS } from '../../autoscaler/providers/index.js';
import { settingsIssues } from '../../autoscaler/providers/validate.js';
import { indexWorkers, workerOf } from '../../autoscaler/snapshot.js';
import { SIM_MAX_DAYS, replayAll, traceFromApp, traceFromCsv } from '../simulate.js';
import type { CredentialCheck } from '../../autoscaler/providers/aws/check.js';
import { priceOf, roundUsd } from '../../domain/autoscaler/budget.js';
import { costBetween } from '../../services/costs.js';


const nameParams = z.object({ name: bounded(LIMITS.name).min(1) });
const instanceParams = nameParams.extend({ id: bounded(LIMITS.id).min(1) });
const document = z.record(z.string(), z.unknown());

/** The most the app could spend per hour: every resource at its max (within budget.maxInstances, dearest first), capped by the $/h budget. */
export function maxSpendPerHour(cfg: AppConfig): number {
  const slots = cfg.resources.flatMap((r) => Array<number>(r.maxInstances).fill(priceOf(r))).sort((a, b) => b - a);
  const total = slots.slice(0, cfg.budget.maxInstances ?? slots.length).reduce((s, p) => s + p, 0);
  return roundUsd(Math.min(total, cfg.budget.maxPerHour ?? Infinity));
}

export const consoleAppRoutes = (vault: SecretVault): RouteGroup => ({ app, routes, store }) => {
  /** The app document, or a 400 whose issues carry the path of each bad field (and nothing stored). */
  const parseOr400 = (body: Record<string, unknown>): AppConfig => {
    const parsed = parseApp(body);
    if (!parsed.ok) throw new ValidationError(parsed.issues.map((i) => ({ field: i.field, path: i.path, message: i.message })));
    return parsed.data;
  };

  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/autoscalers/validate', roles: ['user'],
    summary: 'Check an app document as PUT would, storing nothing: the most it could spend per hour and its diff against the running version',
    body: document,
    handler: async ({ body }) => {
      const cfg = parseOr400(body);
      const running = await store.apps.get(cfg.name).catch((e) => { if (e instanceof NotFoundError) return null; throw e; });
      return {
        ok: true, exists: running !== null, maxSpendPerHour: maxSpendPerHour(cfg),
        diff: running ? diffDocs(redacted(running), redacted(cfg)) : [],
      };
    },
  });

  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/autoscalers/check-credentials', roles: ['user'],
    summary: "Check a provider's settings and credentials without launching anything (AWS: a DryRun RunInstances)",
    body: z.object({
      provider: z.object({ kind: z.enum(['local', 'simulated', 'aws', 'gcp']), settings: document.default({}) }),
      resources: z.array(document).max(50).optional(),
    }),
    handler: async ({ body }) => {
      const checks: CredentialCheck[] = [];
      const record = PROVIDERS.get(body.provider.kind);
      const issues = settingsIssues(record.settings, body.provider.settings, 'provider.settings');
      checks.push({ what: 'provider settings', ok: !issues.length, message: issues.length ? issues.map((i) => `${i.field}: ${i.message}`).join('; ') : 'valid' });
      const cfg = { name: 'check', provider: body.provider } as unknown as AppConfig;
      let credentials: Record<string, unknown> | undefined;
      if (body.provider.settings.credentialsSecret !== undefined) {
        try {
          credentials = await providerCredentials(vault, cfg);
          checks.push({ what: `secret "${String(body.provider.settings.credentialsSecret)}"`, ok: true, message: 'found and of the right kind' });
        } catch (e) {
          checks.push({ what: `secret "${String(body.provider.settings.credentialsSecret)}"`, ok: false, message: (e as Error).message });
        }
      }
      const settingsOk = checks.every((c) => c.ok);
      if (body.provider.kind === 'aws' && settingsOk) {
        const { checkAws } = await import('../../autoscaler/providers/aws/check.js');
        const resource = body.resources?.[0] ? parseResource(body.resources[0]) : undefined;
        checks.push(await checkAws({ ...body.provider.settings, ...(credentials ? { credentials } : {}) }, resource));
      } else if (body.provider.kind === 'gcp' && settingsOk) {
        checks.push({ what: 'Compute Engine dry run', ok: true, message: 'Compute Engine has no dry-run launch: the settings and the secret were checked, the first launch tells the rest' });
      } else if (settingsOk) {
        checks.push({ what: `${body.provider.kind} provider`, ok: true, message: 'needs no cloud credentials' });
      }
      return { ok: checks.every((c) => c.ok), checks };
    },
  });

  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/simulate', roles: ['user'],
    summary: 'What would it cost: replay a trace (CSV, or the app\'s own last days of tasks) through the edited app, the running one and ClearML\'s policy',
    body: z.object({
      config: document,
      trace: z.union([
        z.object({ csv: z.string().min(1).max(5_000_000), columns: z.string().max(200).optional() }),
        z.object({ fromApp: bounded(LIMITS.name).min(1), days: z.number().int().min(1).max(SIM_MAX_DAYS).default(7) }),
      ]),
    }),
    handler: async ({ body }) => {
      const edited = parseOr400(body.config);
      const running = await store.apps.get(edited.name).catch((e) => { if (e instanceof NotFoundError) return null; throw e; });
      const jobs = 'csv' in body.trace
        ? traceFromCsv(body.trace.csv, body.trace.columns)
        : await traceFromApp(store, await store.apps.get(body.trace.fromApp), body.trace.days);
      const [mine, clearml, theirs] = await replayAll({ jobs, runs: [
        { config: edited, policy: 'flotilla', field: 'body.config' },
        { config: edited, policy: 'clearml', field: 'body.config' },
        ...(running ? [{ config: running, policy: 'flotilla' as const, field: 'body.config.name' }] : []),
      ] });
      return { jobs: jobs.length, edited: mine, running: theirs ?? null, clearml };
    },
  });

  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/autoscalers/:name/instances', roles: ['user'],
    summary: "An app's live instances: state, resource, zone, market, price, age, worker, task, idle countdown, cost so far",
    params: nameParams,
    handler: async ({ params }) => {
      const cfg = await store.apps.get(params.name);
      const now = Date.now();
      const workers = indexWorkers(await store.workers.list());
      return {
        instances: (await store.instances.live(cfg.name)).map((i) => {
          const w = workerOf(i, workers);
          const idle = w && w.status === 'idle' ? (w.idleSince ?? w.registeredAt) : undefined;
          return {
            id: i.id, providerId: i.providerId, state: i.state, resource: i.resource, instanceType: i.offering.instanceType,
            zone: i.offering.zone ?? null, market: i.offering.market, pricePerHour: i.pricePerHour,
            ageS: Math.round((now - i.launchedAt) / 1000), worker: w?.id ?? null, task: w?.currentTask ?? null,
            idleCountdownS: idle === undefined ? null : Math.max(0, Math.round(cfg.timings.idleTimeoutS - (now - idle) / 1000)),
            costSoFar: roundUsd(costBetween(i, i.launchedAt, now)), requested: i.requested ?? null, draining: !!w?.draining,
            message: i.message,
          };
        }),
      };
    },
  });

  const ask = (what: 'drain' | 'terminate', summary: string) => addRoute(app, routes, {
    method: 'POST', url: `/api/v1/autoscalers/:name/instances/:id/${what}`, roles: ['user'], summary, params: instanceParams,
    handler: async ({ params, reply }) => {
      const rec = await store.instances.get(params.id);
      if (!rec || rec.app !== params.name) throw new NotFoundError(`instance ${params.id} of app "${params.name}" not found`);
      await store.instances.request(rec.id, what);
      reply.code(202);
      return { instance: rec.id, requested: what };
    },
  });
  ask('drain', 'Drain an instance: its task finishes, it takes no new one, and it stops when idle (done by its app\'s reconciler)');
  ask('terminate', 'Terminate an instance now: its task goes back to its queue (done by its app\'s reconciler)');

  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/autoscalers/:name/stop-idle', roles: ['user'],
    summary: 'Stop every idle instance of the app now, without waiting for its idle timeout',
    params: nameParams,
    handler: async ({ params, reply }) => {
      const cfg = await store.apps.get(params.name);
      const workers = indexWorkers(await store.workers.list());
      const idle = (await store.instances.live(cfg.name)).filter((i) => i.state === 'ready' && workerOf(i, workers)?.status === 'idle');
      for (const i of idle) await store.instances.request(i.id, 'drain');
      reply.code(202);
      return { instances: idle.map((i) => i.id) };
    },
  });
};

function parseResource(r: Record<string, unknown>) {
  const parsed = ResourceSchema.safeParse(r);
  if (!parsed.success)
    throw new ValidationError(parsed.error.issues.map((i) => ({ field: ['body', 'resources', 0, ...i.path].join('.'), message: i.message })));
  return parsed.data;
}
