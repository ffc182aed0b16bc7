// What a user writes for `provider: gcp` (app level) and under a resource's `launch:` (per resource type).
import { z } from 'zod';

const ServiceAccountKeySchema = z
  .object({
    client_email: z.string().min(1),
    private_key: z.string().min(1),
  })
  .loose();

export const GcpSettingsSchema = z
  .object({
    project: z.string().min(1).describe('Google Cloud project id'),
    credentials: z
      .union([ServiceAccountKeySchema, z.string().min(1)])
      .optional()
      .describe('Service-account key JSON (decrypted secret value); omitted = application-default credentials'),
    credentialsSecret: z
      .string()
      .optional()
      .describe('Name of the Flotilla secret holding the key; the control plane decrypts it into credentials'),
    zone: z.string().optional().describe('Zone used when a resource lists no zones'),
    apiEndpoint: z.string().optional().describe('Compute API host; tests point it at the in-repo fake'),
    billingEndpoint: z
      .url()
      .optional()
      .describe('Cloud Billing Catalog API base URL (default https://cloudbilling.googleapis.com); http only for a loopback fake'),
    port: z.number().int().positive().optional(),
    protocol: z.enum(['https', 'http']).default('https').describe('http only for a loopback fake: no credentials sent'),
    throttleRetries: z.number().int().min(0).max(10).default(5).describe('Retries after HTTP 429/503'),
    operationTimeoutS: z.number().positive().default(300).describe('How long to wait for an insert to finish'),
  })
  .strict();

export const GcpLaunchSchema = z
  .object({
    image: z
      .string()
      .default('projects/debian-cloud/global/images/family/debian-12')
      .describe('Boot image or image family URL'),
    diskSizeGb: z.number().int().positive().optional(),
    diskType: z.string().optional().describe('pd-balanced, pd-ssd, pd-standard, hyperdisk-balanced…'),
    accelerator: z
      .object({ type: z.string().min(1).describe('e.g. nvidia-tesla-t4'), count: z.number().int().positive().default(1) })
      .strict()
      .optional(),
    network: z.string().optional().describe('Network URL or name; omitted = default'),
    subnetwork: z.string().optional(),
    externalIp: z.boolean().default(true).describe('Give the machine a public IP (off when a Cloud NAT exists)'),
    networkTags: z.array(z.string()).default([]).describe('Firewall tags'),
    serviceAccount: z
      .object({
        email: z.string().min(1),
        scopes: z.array(z.string()).default(['https://www.googleapis.com/auth/cloud-platform']),
      })
      .strict()
      .optional(),
    labels: z.record(z.string(), z.string()).default({}),
    metadata: z
      .record(z.string(), z.string())
      .default({})
      .refine((m) => !('startup-script' in m), 'startup-script is reserved: use execution.startupScript'),
    overlay: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Raw instance resource merged last; name, labels and startup-script always win'),
  })
  .strict();

export type GcpSettings = z.output<typeof GcpSettingsSchema>;
export type GcpLaunch = z.output<typeof GcpLaunchSchema>;

/** The service-account key of the settings (the secret holds its fields, or the key file as text), if any. */
export function serviceAccountKey(settings: GcpSettings): { client_email: string; private_key: string } | undefined {
  return typeof settings.credentials === 'string' ? JSON.parse(settings.credentials) : settings.credentials;
}
