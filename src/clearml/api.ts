// The ClearML-compatible API under /clearml: one catch-all route that reads the body itself (the agent sends GET
// requests with JSON bodies, which fastify does not parse, and json-lines batches), checks the session, calls the
// endpoint and wraps every answer, errors included, in ClearML's envelope. Anything it does not serve is ClearML's
// "endpoint not found", never a 500.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, ForbiddenError, GoneError, NotFoundError } from '../domain/errors.js';
import { oversized } from '../domain/limits.js';
import { ClearmlError, envelope, notFound, parseEndpoint, type Endpoint } from './envelope.js';
import { ENDPOINTS, type Deps } from './endpoints.js';
import { authenticate, login } from './session.js';

export const CLEARML_PREFIX = '/clearml';
const MAX_BODY = 16 * 1024 * 1024;

export function installClearml(app: FastifyInstance, deps: Deps): void {
  void app.register(async (scope) => {
    // Bodies are read by the handler, whatever their method and type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    scope.setErrorHandler((err: any, req, reply) => {
      const endpoint = parseEndpoint(req.url.slice(CLEARML_PREFIX.length).split('?')[0]!) ?? { name: 'unknown', requested: null };
      const [code, subcode, msg] = statusOf(err);
      if (code >= 500) req.log.error({ err, url: req.url }, 'clearml call failed');
      void reply.code(code).send(envelope(endpoint, {}, code, subcode, msg));
    });
    scope.route({
      method: ['GET', 'POST', 'PUT'],
      url: `${CLEARML_PREFIX}/*`,
      // Its own session check (server/auth.ts leaves it to this route): ClearML clients log in for a JWT.
      config: { ownAuth: true },
      handler: (req, reply) => handle(deps, req, reply),
    });
  });
}

async function handle(deps: Deps, req: FastifyRequest, reply: FastifyReply) {
  const [path, search] = req.url.slice(CLEARML_PREFIX.length).split('?');
  const endpoint = parseEndpoint(path ?? '');
  if (!endpoint) throw notFound({ name: path ?? '', requested: null });
  const answer = (data: unknown) => reply.code(200).send(envelope(endpoint, data));
  if (endpoint.name === 'auth.login') return answer(await login(deps.store, req.headers.authorization));
  const run = ENDPOINTS[endpoint.name];
  if (!run) throw notFound(endpoint);
  const auth = await authenticate(deps.store, req.headers.authorization);
  const body = await readBody(req, endpoint, search);
  const worker = req.headers['x-clearml-worker'] ?? req.headers['x-trains-worker'];
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')![1]!;
  return answer(await run(deps, { body, auth, worker: typeof worker === 'string' ? worker : undefined, secrets: [bearer] }));
}

async function readBody(req: FastifyRequest, endpoint: Endpoint, search: string | undefined): Promise<Record<string, any>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.raw) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ClearmlError(413, 0, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: Record<string, any> = {};
  if (/json-lines/i.test(req.headers['content-type'] ?? '')) {
    // events.add_batch: one event per line.
    const events = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (!line.trim()) continue;
      try { events.push(JSON.parse(line)); } catch { throw new ClearmlError(400, 0, `line ${i + 1} of the batch is not JSON`); }
    }
    body = { events };
  } else if (text.trim()) {
    try { body = JSON.parse(text); } catch { throw new ClearmlError(400, 0, 'the body is not JSON'); }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ClearmlError(400, 0, 'the body must be a JSON object');
  }
  for (const [k, v] of new URLSearchParams(search ?? '')) if (!(k in body)) body[k] = v;
  // The limits every Flotilla request is held to (domain/limits.ts); U+0000 only in log text (the log store keeps it).
  const big = oversized(body, 'body');
  if (big) throw new ClearmlError(400, 0, `${big.field}: ${big.message}`);
  const nul = findNul(body, endpoint.name === 'events.add_batch' ? 'msg' : null);
  if (nul) throw new ClearmlError(400, 0, `${nul}: must not contain U+0000 (NUL)`);
  return body;
}

function findNul(v: unknown, allowedKey: string | null, path = 'body'): string | null {
  if (typeof v === 'string') return v.includes('\0') ? path : null;
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k.includes('\0')) return path;
      if (k === allowedKey && typeof x === 'string') continue;
      const hit = findNul(x, allowedKey, `${path}.${k}`);
      if (hit) return hit;
    }
  }
  return null;
}

function statusOf(err: any): [number, number, string] {
  if (err instanceof ClearmlError) return [err.code, err.subcode, err.message];
  if (err instanceof NotFoundError) return [400, 100, err.message];
  if (err instanceof ConflictError) return [409, 0, err.message];
  if (err instanceof ForbiddenError) return [403, 0, err.message];
  if (err instanceof GoneError) return [410, 0, err.message];
  if (typeof err?.statusCode === 'number' && err.statusCode < 500) return [err.statusCode, 0, err.message];
  return [500, 0, 'internal error; see the server log'];
}
