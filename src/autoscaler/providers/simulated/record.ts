// The `simulated` provider record: the SimCloud (boot times, capacity errors, spot reclaims from the app's
// `simulation` section) on a virtual clock, for fault drills and tests without a cloud.
import { z } from 'zod';
import type { ProviderRecord } from '../registry.js';
import { SimulatedProvider } from './provider.js';

/** `seed` makes the faults repeatable. */
export const SimulatedSettingsSchema = z.object({ seed: z.coerce.number().int().optional() });

export const simulatedProvider: ProviderRecord = {
  name: 'simulated',
  settings: SimulatedSettingsSchema,
  capabilities: {
    // Adoption holds while the SimCloud outlives the provider object (as a cloud outlives a control plane).
    spot: true, zones: true, priceLookup: false, adoption: true, capacityErrors: true, credentialsSecret: false, startupScript: false,
  },
  create: async (cfg) => new SimulatedProvider({
    seed: Number(cfg.provider.settings.seed ?? 1), bootTime: cfg.simulation?.bootTime, faults: cfg.simulation?.faults,
  }),
};
