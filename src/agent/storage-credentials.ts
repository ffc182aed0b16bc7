// Cloud-storage credentials from a storage secret, in the form each SDK reads by default. They are
// handed to the task's container only (env-file and read-only mounts), never to the agent's own env.
import { storageSecretSchema } from '../domain/credentials.js';

export { storageSecretSchema, type StorageSecret } from '../domain/credentials.js';

/** A file the container sees read-only at `containerPath`. */
export interface ContainerFile {
  containerPath: string;
  content: string;
}

export interface ContainerCredentials {
  env: Record<string, string>;
  files: ContainerFile[];
}

export const GCP_CREDENTIALS_PATH = '/run/flotilla/gcp-service-account.json';

function defined(entries: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Validates a storage secret (errors name the field) and turns it into container env and files. */
export function storageCredentials(input: unknown): ContainerCredentials {
  const parsed = storageSecretSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`storage secret: ${['storage', ...issue.path].join('.')}: ${issue.message}`);
  }
  const { aws, gcp, azure } = parsed.data;
  const env: Record<string, string> = {};
  const files: ContainerFile[] = [];
  if (aws) {
    Object.assign(
      env,
      defined({
        AWS_ACCESS_KEY_ID: aws.accessKeyId,
        AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
        AWS_SESSION_TOKEN: aws.sessionToken,
        AWS_DEFAULT_REGION: aws.region,
        AWS_REGION: aws.region,
      }),
    );
  }
  if (gcp) {
    files.push({ containerPath: GCP_CREDENTIALS_PATH, content: gcp.serviceAccountJson });
    env.GOOGLE_APPLICATION_CREDENTIALS = GCP_CREDENTIALS_PATH;
  }
  if (azure) {
    Object.assign(
      env,
      defined({
        AZURE_STORAGE_ACCOUNT: azure.accountName,
        AZURE_STORAGE_KEY: azure.accountKey,
        AZURE_STORAGE_CONNECTION_STRING: azure.connectionString,
      }),
    );
  }
  return { env, files };
}

/** Every value that must be masked in task logs. */
export function credentialValues(creds: ContainerCredentials): string[] {
  const secretEnv = Object.entries(creds.env)
    .filter(([name]) => !/_REGION$|^GOOGLE_APPLICATION_CREDENTIALS$|^AZURE_STORAGE_ACCOUNT$/.test(name))
    .map(([, value]) => value);
  return [...secretEnv, ...creds.files.flatMap((f) => fileSecrets(f.content))];
}

// The service-account file as a whole rarely gets printed; its private key and key id do.
function fileSecrets(content: string): string[] {
  try {
    const json = JSON.parse(content) as Record<string, unknown>;
    return [json.private_key, json.private_key_id].filter((v): v is string => typeof v === 'string');
  } catch {
    return [content];
  }
}
