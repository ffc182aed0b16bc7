// Bearer tokens on every endpoint but /healthz; roles decide what a token may call.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../store/index.js';
import type { Role, TokenInfo } from '../store/tokens.js';

export class AuthError extends Error {
  constructor(readonly statusCode: 401 | 403, message: string) {
    super(message);
  }
}

const PUBLIC = new Set(['/healthz']);

export function installAuth(app: FastifyInstance, store: Store): void {
  // A callback hook, not an async one: a token verified in the last few seconds (nearly every request) is
  // checked without a promise or a turn of the event loop.
  app.addHook('onRequest', (req, _reply, done) => {
    const path = req.url.split('?')[0];
    // A route with its own session check (the ClearML API's JWTs, src/clearml/) answers in its own shape.
    if (PUBLIC.has(path) || (req.routeOptions.config as { ownAuth?: boolean } | undefined)?.ownAuth) return done();
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return done(new AuthError(401, 'missing bearer token: send "Authorization: Bearer <token>" (see flotilla login)'));
    const hit = store.tokens.cached(m[1]);
    if (hit) return done(authorize(req, hit));
    store.tokens.verify(m[1]).then(
      (info) => done(info ? authorize(req, info) : new AuthError(401, 'token is not valid or has expired')),
      (e: Error) => done(e));
  });
}

/** Records who calls; an error if their role may not call this route. */
function authorize(req: FastifyRequest, info: TokenInfo): AuthError | undefined {
  req.auth = info;
  const roles = (req.routeOptions.config as { roles?: readonly Role[] } | undefined)?.roles;
  if (roles && info.role !== 'admin' && !roles.includes(info.role))
    return new AuthError(403, `a ${info.role} token may not call ${req.method} ${req.routeOptions.url}; it needs one of: admin, ${roles.join(', ')}`);
  return undefined;
}
