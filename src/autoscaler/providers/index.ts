// Picks the provider an app's config names.
import { join } from 'node:path';
import type { AppConfig } from '../../domain/autoscaler/config.js';
import type { ComputeProvider } from './types.js';
import { LocalProvider } from './local/index.js';
import { SimulatedProvider } from './simulated/index.js';

export interface ProviderDeps {
  dataDir: string;
  /** Decrypted credentials of the app's provider secret, when it names one. */
  credentials?: Record<string, unknown>;
}

export type ProviderFactory = (cfg: AppConfig, deps: ProviderDeps) => Promise<ComputeProvider>;

const factories: Record<string, ProviderFactory> = {
  local: async (cfg, d) => new LocalProvider({ logDir: join(d.dataDir, 'workers', cfg.name) }),
  simulated: async (cfg) => new SimulatedProvider({
    seed: Number(cfg.provider.settings.seed ?? 1), bootTime: cfg.simulation?.bootTime, faults: cfg.simulation?.faults,
  }),
};

/** Cloud providers register themselves here, so this file does not load their SDKs for local use. */
export function registerProvider(kind: string, f: ProviderFactory): void {
  factories[kind] = f;
}

export async function createProvider(cfg: AppConfig, deps: ProviderDeps): Promise<ComputeProvider> {
  const f = factories[cfg.provider.kind];
  if (!f) throw new Error(`provider "${cfg.provider.kind}" is not available in this build`);
  return f(cfg, deps);
}
