// One way to declare a route: its roles, its zod schemas (validation and OpenAPI from the same source).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Role, TokenInfo } from '../store/tokens.js';
import { oversized } from '../domain/limits.js';

/** Issues a 400 lists: enough to say what is wrong (a batch of 1,000 bad tasks once answered with 60 KB of them). */
export const MAX_ISSUES = 20;

export class ValidationError extends Error {
  readonly statusCode = 400;
  readonly issues: { field: string; message: string }[];
  constructor(all: { field: string; message: string }[]) {
    const issues = all.length > MAX_ISSUES
      ? [...all.slice(0, MAX_ISSUES), { field: '', message: `and ${all.length - MAX_ISSUES} more issues not listed: fix these and send again` }]
      : all;
    super(`invalid request: ${issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ')}`);
    this.issues = issues;
  }
}

export function zodIssues(where: string, err: z.ZodError) {
  return err.issues.map((i) => ({
    field: [where, ...i.path.map(String)].filter(Boolean).join('.'),
    message: i.message,
  }));
}

export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  // The catch-all bounds first: a schema would loop over all of a huge list before saying it is too long.
  const big = oversized(value, where);
  if (big) throw new ValidationError([big]);
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new ValidationError(zodIssues(where, r.error));
  return r.data;
}

const NUL_MESSAGE = 'must not contain U+0000 (NUL)';

/**
 * U+0000 is refused in every string of a request (values and keys of body, query and params), whatever the
 * route: PostgreSQL cannot store it in text, and SQLite could, so the two stores would answer differently.
 * A route lists in `acceptsNul` the fields that are output rather than input (log lines), where the store
 * keeps it; `*` matches any one step of a path (an array index or a key).
 */
export function nulIssues(where: string, value: unknown, accepts: readonly string[] = []): { field: string; message: string }[] {
  const issues: { field: string; message: string }[] = [];
  const allowed = accepts.map((a) => a.split('.'));
  const isAllowed = (path: string[]) => allowed.some((a) => a.length === path.length && a.every((s, i) => s === '*' || s === path[i]));
  const walk = (v: unknown, path: string[]) => {
    if (issues.length >= 20) return; // enough to say what is wrong
    if (typeof v === 'string') {
      if (v.includes('\0') && !isAllowed(path)) issues.push({ field: path.join('.'), message: NUL_MESSAGE });
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, String(i)]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\0')) issues.push({ field: path.join('.'), message: `a key (${JSON.stringify(k)}) ${NUL_MESSAGE}` });
        else walk(x, [...path, k]);
      }
    }
  };
  walk(value, [where]);
  return issues;
}

export interface Ctx<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  auth: TokenInfo;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteDef<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  roles: readonly Role[];
  /** Callable with no token (signing in to the console); the handler then has no `auth`. */
  public?: boolean;
  summary: string;
  body?: B;
  query?: Q;
  params?: P;
  /** Fields where U+0000 is accepted (output, not input), e.g. `body.lines.*.text`; refused everywhere else. */
  acceptsNul?: readonly string[];
  handler(ctx: Ctx<z.infer<B>, z.infer<Q>, z.infer<P>>): Promise<unknown>;
}

export type AnyRoute = RouteDef<z.ZodType, z.ZodType, z.ZodType>;

const none = z.object({});

declare module 'fastify' {
  interface FastifyRequest {
    auth?: TokenInfo;
    /** The console session id the request came with, when it was authenticated by one. */
    session?: string;
  }
}

export function addRoute<B extends z.ZodType = typeof none, Q extends z.ZodType = typeof none, P extends z.ZodType = typeof none>(
  app: FastifyInstance,
  registry: AnyRoute[],
  def: RouteDef<B, Q, P>,
): void {
  registry.push(def as unknown as AnyRoute);
  app.route({
    method: def.method,
    url: def.url,
    config: { roles: def.roles, ...(def.public ? { public: true } : {}) },
    handler: async (req, reply) => {
      const auth = req.auth!;
      const body = def.body ? parseOr400(def.body, req.body, 'body') : {};
      const query = def.query ? parseOr400(def.query, req.query, 'query') : {};
      const params = def.params ? parseOr400(def.params, req.params, 'params') : {};
      const nul = [...nulIssues('body', body, def.acceptsNul), ...nulIssues('query', query, def.acceptsNul),
        ...nulIssues('params', params, def.acceptsNul)];
      if (nul.length) throw new ValidationError(nul);
      const out = await def.handler({ body, query, params, auth, req, reply } as Ctx<any, any, any>);
      if (out === undefined) return reply.code(204).send();
      return out;
    },
  });
}
