// Console sessions over the API: sign in with a token (once), get an HttpOnly SameSite=Strict cookie, sign out.
// The token itself never reaches the browser's storage; the session is stored as a hash (store/sessions.ts).
import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { addRoute } from './route.js';
import type { RouteGroup } from './context.js';
import { AuthError } from './auth.js';
import { LIMITS, bounded } from '../domain/limits.js';
import { SESSION_COOKIE, SESSION_TTL_MS } from './session-cookie.js';

function setCookie(req: FastifyRequest, reply: FastifyReply, value: string, maxAgeS: number): void {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${secure}`);
}

export const sessionRoutes: RouteGroup = ({ app, routes, store }) => {
  addRoute(app, routes, {
    method: 'POST', url: '/api/v1/session', roles: [], public: true,
    summary: 'Sign in to the console with a token: sets the session cookie (HttpOnly, SameSite=Strict)',
    body: z.object({ token: bounded(LIMITS.name * 4).min(1).describe('an admin or user token') }),
    handler: async ({ body, req, reply }) => {
      const info = await store.tokens.verify(body.token);
      if (!info) throw new AuthError(401, 'token is not valid or has expired');
      if (info.role !== 'admin' && info.role !== 'user')
        throw new AuthError(403, `a ${info.role} token cannot sign in to the console: use a user or admin token (flotilla token create --role user)`);
      const s = await store.sessions.open(info, SESSION_TTL_MS);
      setCookie(req, reply, s.id, Math.floor((s.expiresAt - Date.now()) / 1000));
      return { name: info.name, role: info.role, expiresAt: s.expiresAt };
    },
  });
  addRoute(app, routes, {
    method: 'GET', url: '/api/v1/session', roles: ['user'], summary: 'Who the console is signed in as',
    handler: async ({ auth }) => ({ name: auth.name, role: auth.role }),
  });
  addRoute(app, routes, {
    method: 'DELETE', url: '/api/v1/session', roles: ['user'], summary: 'Sign out: the session is revoked on the server',
    handler: async ({ req, reply }) => {
      if (req.session) await store.sessions.revoke(req.session);
      setCookie(req, reply, '', 0);
    },
  });
};
