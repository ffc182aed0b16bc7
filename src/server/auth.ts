// Who calls: a bearer token on every endpoint but the public ones (/healthz, signing in, the console's files), or
// a console session cookie (session.ts); roles decide what a caller may call.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../store/index.js';
import type { Role, TokenInfo } from '../store/tokens.js';
import { CONSOLE_HEADER, sessionIdOf } from './session-cookie.js';

export class AuthError extends Error {
  constructor(readonly statusCode: 401 | 403, message: string) {
    super(message);
  }
}

const PUBLIC = new Set(['/healthz']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No caller needed (signing in, the console's static files). */
    public?: boolean;
    /** The route checks its caller itself and answers in its own shape (the ClearML API, src/clearml/). */
    ownAuth?: boolean;
  }
}

export function installAuth(app: FastifyInstance, store: Store): void {
  // A callback hook, not an async one: a token verified in the last few seconds (nearly every request) is
  // checked without a promise or a turn of the event loop.
  app.addHook('onRequest', (req, _reply, done) => {
    const path = req.url.split('?')[0];
    // A route with its own session check (the ClearML API's JWTs, src/clearml/) answers in its own shape.
    const config = req.routeOptions.config;
    if (PUBLIC.has(path) || config?.public || config?.ownAuth) return done();
    const header = req.headers.authorization;
    if (header === undefined) {
      const session = sessionIdOf(req);
      if (session !== undefined) return sessionAuth(store, req, session, done);
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) return done(new AuthError(401, 'missing bearer token: send "Authorization: Bearer <token>" (see flotilla login), or sign in to the console'));
    const hit = store.tokens.cached(m[1]);
    if (hit) return done(authorize(req, hit));
    store.tokens.verify(m[1]).then(
      (info) => done(info ? authorize(req, info) : new AuthError(401, 'token is not valid or has expired')),
      (e: Error) => done(e));
  });
}

/**
 * A console session acts with its token's role. A request that changes something must also carry the console's
 * header: a cross-site form or image can make the browser send the cookie, but cannot add a header.
 */
function sessionAuth(store: Store, req: FastifyRequest, id: string, done: (e?: Error) => void): void {
  store.sessions.verify(id).then((info) => {
    if (!info) return done(new AuthError(401, 'the console session has ended or is not valid: sign in again'));
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.headers[CONSOLE_HEADER] !== '1')
      return done(new AuthError(403, `a request that changes something with a session cookie must carry the header "${CONSOLE_HEADER}: 1"`));
    req.session = id;
    done(authorize(req, info));
  }, (e: Error) => done(e));
}

/** Records who calls; an error if their role may not call this route. */
function authorize(req: FastifyRequest, info: TokenInfo): AuthError | undefined {
  req.auth = info;
  const roles = (req.routeOptions.config as { roles?: readonly Role[] } | undefined)?.roles;
  if (roles && info.role !== 'admin' && !roles.includes(info.role))
    return new AuthError(403, `a ${info.role} token may not call ${req.method} ${req.routeOptions.url}; it needs one of: admin, ${roles.join(', ')}`);
  return undefined;
}
