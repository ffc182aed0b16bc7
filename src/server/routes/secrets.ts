// Secrets: written by admins, listed without values, and opened only for the agents of the
// autoscaler app that uses them (git and storage credentials), never logged.
import { z } from 'zod';
import { addRoute, ValidationError, zodIssues } from '../route.js';
import type { RouteGroup, ServerCtx } from '../context.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../domain/errors.js';
import { SECRET_KINDS, SECRET_KIND_NAMES, type SecretKind } from '../secrets/kinds.js';
import type { SecretVault } from '../secrets/vault.js';
import { idString } from '../../domain/limits.js';
import type { TokenInfo } from '../../store/tokens.js';

export const secretName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'use letters, digits, "_", "." and "-" (at most 128)');

const nameParams = z.object({ name: secretName });

/** What each kind holds, as JSON Schema made from the zod schemas PUT checks a value with. */
export const secretKindSchemas = () =>
  Object.fromEntries(SECRET_KIND_NAMES.map((k) => [k, z.toJSONSchema(SECRET_KINDS[k], { io: 'input', unrepresentable: 'any' })]));

export function secretRoutes(vault: SecretVault): RouteGroup {
  return (ctx) => {
    const { app, routes } = ctx;
    addRoute(app, routes, {
      method: 'PUT', url: '/api/v1/secrets/:name', roles: [], summary: 'Create or replace a secret (admin only; never read back)',
      params: nameParams,
      body: z.object({ kind: z.enum(SECRET_KIND_NAMES as [SecretKind, ...SecretKind[]]), value: z.record(z.string(), z.unknown()) }),
      handler: async ({ params, body, reply }) => {
        const parsed = SECRET_KINDS[body.kind].safeParse(body.value);
        if (!parsed.success) throw new ValidationError(zodIssues('body.value', parsed.error));
        const { created } = await vault.put(params.name, body.kind, parsed.data);
        reply.code(created ? 201 : 200);
        return { name: params.name, kind: body.kind, created };
      },
    });
    addRoute(app, routes, {
      method: 'GET', url: '/api/v1/secret-kinds', roles: [], summary: "Each secret kind's value as JSON Schema, from the schemas a write is checked with (admin only; the console's secret form)",
      handler: async () => ({ kinds: secretKindSchemas() }),
    });
    addRoute(app, routes, {
      method: 'GET', url: '/api/v1/secrets', roles: ['user'], summary: 'List secrets: names, kinds and times, never values',
      handler: async () => ({ secrets: await vault.list() }),
    });
    addRoute(app, routes, {
      method: 'DELETE', url: '/api/v1/secrets/:name', roles: [], summary: 'Delete a secret (admin only)',
      params: nameParams,
      handler: async ({ params }) => vault.delete(params.name),
    });
    addRoute(app, routes, {
      method: 'GET', url: '/api/v1/workers/:workerId/secrets', roles: ['agent'],
      summary: "The git and storage credentials of the worker's autoscaler app; only for the token that registered the worker, if it is bound to that app",
      params: z.object({ workerId: idString }),
      handler: async ({ params, auth, reply }) => {
        reply.header('cache-control', 'no-store');
        return workerSecrets(ctx, vault, params.workerId, auth);
      },
    });
  };
}

async function workerSecrets(ctx: ServerCtx, vault: SecretVault, workerId: string, auth: TokenInfo) {
  // Stricter than other worker routes: not even an admin token gets another token's worker's secrets.
  if ((await ctx.store.workers.tokenOf(workerId)) !== auth.id)
    throw new ForbiddenError(`worker "${workerId}" was not registered with this token`);
  const worker = await ctx.store.workers.get(workerId);
  if (!worker?.app) return {};
  // And only to a token bound to the worker's app (registration checks that too; this also covers a worker
  // registered before tokens had a binding). An admin token's own worker is the one exception.
  if (auth.role !== 'admin' && auth.app !== worker.app)
    throw new ForbiddenError(auth.app === null
      ? `app "${worker.app}" is out of this token's scope: it is bound to no app, so it reads no app's secrets`
      : `app "${worker.app}" is out of this token's scope: it is bound to app "${auth.app}"`);
  const exec = (await ctx.store.apps.get(worker.app)).execution;
  const open = async (field: 'gitSecret' | 'storageSecret', kind: SecretKind) => {
    const name = exec[field];
    if (!name) return undefined;
    const secret = await vault.open(name).catch((e) => {
      if (e instanceof NotFoundError)
        throw new NotFoundError(`app "${worker.app}" execution.${field} names secret "${name}", which does not exist: create it with \`flotilla secret set ${name} --kind ${kind}\``);
      throw e;
    });
    if (secret.kind !== kind)
      throw new ConflictError(`app "${worker.app}" execution.${field} names secret "${name}" of kind ${secret.kind}; it must be of kind ${kind}`);
    return secret.value;
  };
  return { git: await open('gitSecret', 'git'), storage: await open('storageSecret', 'storage') };
}
