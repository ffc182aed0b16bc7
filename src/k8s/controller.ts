// The glue as a controller of the control plane's leader (`flotilla server --k8s-glue glue.yaml`). It still talks to
// the control plane over HTTP, with an admin token minted at start and revoked at stop.
import type pino from 'pino';
import { FlotillaClient } from '../client/index.js';
import type { Controller } from '../domain/controller.js';
import type { Store } from '../store/index.js';
import { loadGlueConfigFile, type ResolvedGlueConfig } from './config.js';
import { Glue, type GlueOptions } from './glue.js';
import { defaultNamespace, Kube, loadKubeConfig } from './kube.js';

const TOKEN_NAME = 'k8s-glue (control plane leader)';

/** What the leader hands a controller factory (the server passes its context, which has these and more). */
export interface GlueControllerCtx {
  store: Pick<Store, 'tokens'>;
  url: string;
  log: pino.Logger;
}

export function glueController(config: ResolvedGlueConfig, opts: { kubeconfig?: string } & Partial<GlueOptions> = {}) {
  return (ctx: GlueControllerCtx): Controller[] => {
    const log = ctx.log.child({ part: 'k8s-glue' });
    let glue: Glue | undefined;
    let tokenId: string | undefined;
    const start = async () => {
      // One such token at a time: a leader that died without stopping left its token behind.
      for (const t of await ctx.store.tokens.list()) if (t.name === TOKEN_NAME) await ctx.store.tokens.revoke(t.id);
      const { token, info } = await ctx.store.tokens.create(TOKEN_NAME, 'admin');
      tokenId = info.id;
      const kc = opts.kubeconfig || !opts.kube ? loadKubeConfig(opts.kubeconfig) : opts.kube.kc;
      glue = new Glue({
        namespace: defaultNamespace(kc), kube: new Kube(kc), log: (m) => log.info(m), ...opts,
        config, client: new FlotillaClient(ctx.url, token),
      });
      await glue.start();
      log.info(`k8s glue started for queues ${config.queues.map((q) => q.name).join(', ')}`);
    };
    const stop = async () => {
      await glue?.stop();
      glue = undefined;
      if (tokenId) await ctx.store.tokens.revoke(tokenId).catch(() => undefined);
    };
    return [{
      name: 'k8s-glue',
      start: () => start().catch((e) => log.error(`k8s glue did not start: ${(e as Error).message}`)),
      stop: () => stop().catch((e) => log.error(`k8s glue did not stop cleanly: ${(e as Error).message}`)),
    }];
  };
}

/** Reads and checks glue.yaml first, so a bad config stops `flotilla server` at once with the field named. */
export async function glueControllerFromFile(path: string) {
  return glueController(await loadGlueConfigFile(path));
}
