// Bearer tokens on every endpoint but /healthz; roles decide what a token may call.
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/index.js';
import type { Role } from '../store/tokens.js';

export class AuthError extends Error {
  constructor(readonly statusCode: 401 | 403, message: string) {
    super(message);
  }
}

const PUBLIC = new Set(['/healthz']);

export function installAuth(app: FastifyInstance, store: Store): void {
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0];
    if (PUBLIC.has(path)) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new AuthError(401, 'missing bearer token: send "Authorization: Bearer <token>" (see flotilla login)');
    const info = await store.tokens.verify(m[1]);
    if (!info) throw new AuthError(401, 'token is not valid or has expired');
    req.auth = info;
    const roles = (req.routeOptions.config as { roles?: readonly Role[] } | undefined)?.roles;
    if (roles && info.role !== 'admin' && !roles.includes(info.role))
      throw new AuthError(403, `a ${info.role} token may not call ${req.method} ${req.routeOptions.url}; it needs one of: admin, ${roles.join(', ')}`);
  });
}
