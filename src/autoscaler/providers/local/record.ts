// The `local` provider record: each instance is an agent child process on this machine.
import { join } from 'node:path';
import { z } from 'zod';
import type { ProviderRecord } from '../registry.js';
import { LocalProvider } from './provider.js';

/** The local provider has no settings of its own. */
export const LocalSettingsSchema = z.object({});

export const localProvider: ProviderRecord = {
  name: 'local',
  settings: LocalSettingsSchema,
  capabilities: {
    // A process always starts (no capacity errors); adoption reads the tags from /proc/<pid>/environ.
    spot: false, zones: false, priceLookup: false, adoption: true, capacityErrors: false, credentialsSecret: false, startupScript: false,
  },
  create: async (cfg, ctx) => new LocalProvider({ logDir: join(ctx.dataDir, 'workers', cfg.name) }),
};
