// What a new cloud machine calls with its one-time bootstrap token (from its start-up script): the
// agent bundle of this control plane's version, then the trade of that token for its own agent token.
// Tokens are never logged: they travel only in the Authorization header and the answer body.
import { createReadStream, statSync } from 'node:fs';
import { z } from 'zod';
import { addRoute } from '../route.js';
import type { RouteGroup } from '../context.js';
import { AuthError } from '../auth.js';
import { ForbiddenError } from '../../domain/errors.js';
import type { Store } from '../../store/index.js';
import type { TokenInfo } from '../../store/tokens.js';
import { AgentBundle } from '../bootstrap/bundle.js';
import { LIMITS } from '../../domain/limits.js';

/** The live Flotilla instance a bootstrap token was issued for, or a 403 saying what is wrong. */
async function instanceOf(store: Store, auth: TokenInfo) {
  if (auth.role !== 'bootstrap' || !auth.scope)
    throw new ForbiddenError('only the one-time bootstrap token in a machine\'s start-up script can be exchanged');
  const rec = await store.instances.get(auth.scope);
  if (!rec || rec.state === 'terminated' || rec.state === 'failed' || rec.state === 'terminating')
    throw new ForbiddenError(`instance ${auth.scope} is not running for this control plane any more`);
  return rec;
}

export function bootstrapRoutes(o: { dataDir: string; bundle?: AgentBundle }): RouteGroup {
  const bundle = o.bundle ?? new AgentBundle(o.dataDir);
  return ({ app, routes, store }) => {
    addRoute(app, routes, {
      method: 'GET', url: '/api/v1/bootstrap/bundle', roles: ['bootstrap'],
      summary: "A gzip tar of the agent of this control plane's exact version (package.json, dist/src, production node_modules)",
      handler: async ({ reply }) => {
        const file = await bundle.path();
        reply.header('content-type', 'application/gzip');
        reply.header('content-length', statSync(file).size);
        reply.header('content-disposition', 'attachment; filename="flotilla-agent.tar.gz"');
        return reply.send(createReadStream(file));
      },
    });
    addRoute(app, routes, {
      method: 'POST', url: '/api/v1/bootstrap/exchange', roles: ['bootstrap'],
      summary: 'Trade the one-time bootstrap token for an agent token of this instance, bound to its app, resource and queues (once; 401 after)',
      body: z.object({ instanceId: z.string().min(1).max(LIMITS.id, `at most ${LIMITS.id} characters`).describe('the cloud instance id: i-… on AWS, ZONE/NAME on GCE') }),
      handler: async ({ body, auth, reply }) => {
        const rec = await instanceOf(store, auth);
        // Checked before the token is spent, so a machine that asks too early can ask again.
        if (!rec.providerId)
          throw new ForbiddenError(`instance ${rec.id} has no cloud id recorded yet; try again in a few seconds`);
        if (rec.providerId !== body.instanceId)
          throw new ForbiddenError(`this bootstrap token belongs to instance ${rec.providerId}, not ${body.instanceId}`);
        if (!(await store.tokens.consume(auth.id))) throw new AuthError(401, 'this bootstrap token was already used');
        // Scoped to the cloud id: the agent registers under it (--worker-id "$INSTANCE_ID"). Bound to the app,
        // resource and queues its launch gave the bootstrap token (one made before bindings: the instance's app
        // and resource, and the queues the app maps to it).
        const { token } = await store.tokens.create(`agent of instance ${rec.id}`, 'agent', {
          scope: rec.providerId, app: auth.app ?? rec.app, resource: auth.resource ?? rec.resource, queues: auth.queues,
        });
        reply.header('cache-control', 'no-store');
        return { token };
      },
    });
  };
}
