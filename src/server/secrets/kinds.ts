// What each kind of secret holds. A value is checked against its kind when it is written, so a
// mistake shows up at `flotilla secret set`, not when an agent or a provider first needs it.
import { z } from 'zod';
import { gitCredentialsSchema, storageSecretSchema } from '../../domain/credentials.js';

export const gitSecretSchema = gitCredentialsSchema;

export const awsSecretSchema = z.strictObject({
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  sessionToken: z.string().min(1).optional(),
  region: z.string().min(1).optional(),
});

export const gcpSecretSchema = z.strictObject({
  serviceAccountJson: z.string().min(2).describe('the JSON text of a service-account key file'),
  projectId: z.string().min(1).optional(),
});

/** The key pair of a ClearML server (an app's source.credentialsSecret; docs/clearml.md). */
export const clearmlSecretSchema = z.strictObject({ accessKey: z.string().min(1), secretKey: z.string().min(1) });

export const SECRET_KINDS = {
  git: gitSecretSchema,
  storage: storageSecretSchema,
  aws: awsSecretSchema,
  gcp: gcpSecretSchema,
  clearml: clearmlSecretSchema,
  generic: z.record(z.string(), z.string()),
} as const;

export type SecretKind = keyof typeof SECRET_KINDS;
export const SECRET_KIND_NAMES = Object.keys(SECRET_KINDS) as SecretKind[];
export type GitSecret = z.infer<typeof gitSecretSchema>;
