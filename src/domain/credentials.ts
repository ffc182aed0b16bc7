// Credentials whose shape the agent (its config file) and the control plane (git and storage secrets) both
// check: domain schemas, so the server's secret kinds need nothing from the agent.
import { z } from 'zod';

/** Credentials for private repositories (the agent's config, or an app's git secret). */
export const gitCredentialsSchema = z.strictObject({
  username: z.string().min(1),
  password: z.string().min(1).describe('password or access token'),
  host: z.string().min(1).optional().describe('only answer for this host (example.com or example.com:8443); any host when absent'),
});
export type GitCredentials = z.infer<typeof gitCredentialsSchema>;

export const storageSecretSchema = z
  .strictObject({
    aws: z
      .strictObject({
        accessKeyId: z.string().min(1),
        secretAccessKey: z.string().min(1),
        sessionToken: z.string().min(1).optional(),
        region: z.string().min(1).optional(),
      })
      .optional(),
    gcp: z
      .strictObject({
        serviceAccountJson: z.string().refine(isJsonObject, 'must be the JSON text of a service-account key file'),
      })
      .optional(),
    azure: z
      .strictObject({
        accountName: z.string().min(1).optional(),
        accountKey: z.string().min(1).optional(),
        connectionString: z.string().min(1).optional(),
      })
      .refine((a) => a.connectionString || (a.accountName && a.accountKey), {
        message: 'give either connectionString, or accountName with accountKey',
      })
      .optional(),
  })
  .describe('Cloud-storage credentials handed to task containers');

export type StorageSecret = z.infer<typeof storageSecretSchema>;

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
