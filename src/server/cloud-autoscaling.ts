// Wires the cloud providers into the control plane's autoscaler manager: an app's credentials secret is
// decrypted for its provider (in memory only, never logged), and cloud launches get the start-up script.
// The providers themselves are the records of PROVIDERS (src/autoscaler/providers/index.ts).
import type { AppConfig } from '../domain/autoscaler/config.js';
import type { ManagerOptions } from '../autoscaler/manager.js';
import { startupScriptForApp } from '../autoscaler/startup/index.js';
import { NotFoundError } from '../domain/errors.js';
import type { SecretVault } from './secrets/vault.js';

/** What each cloud's provider expects from the secret kind of the same name. */
const TO_CREDENTIALS: Record<string, (v: Record<string, unknown>) => Record<string, unknown>> = {
  aws: ({ accessKeyId, secretAccessKey, sessionToken }) => ({ accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }),
  gcp: ({ serviceAccountJson }) => ({ json: serviceAccountJson }),
};

/** The decrypted credentials named by provider.settings.credentialsSecret, or undefined (SDK default chain). */
export async function providerCredentials(vault: SecretVault, cfg: AppConfig): Promise<Record<string, unknown> | undefined> {
  const name = cfg.provider.settings.credentialsSecret;
  const kind = cfg.provider.kind;
  if (name === undefined || !(kind in TO_CREDENTIALS)) return undefined;
  const fix = `create it with \`flotilla secret set ${String(name)} --kind ${kind}\``;
  const secret = await vault.open(String(name)).catch((e) => {
    if (e instanceof NotFoundError)
      throw new Error(`app "${cfg.name}" provider.settings.credentialsSecret names secret "${String(name)}", which does not exist: ${fix}`);
    throw e;
  });
  if (secret.kind !== kind)
    throw new Error(`app "${cfg.name}" provider.settings.credentialsSecret names secret "${String(name)}" of kind ${secret.kind}; it must be of kind ${kind}: ${fix}`);
  return TO_CREDENTIALS[kind](secret.value as Record<string, unknown>);
}

/** The ClearML key pair named by source.credentialsSecret (an app serving a ClearML server's queues). */
export async function clearmlCredentials(vault: SecretVault, cfg: AppConfig): Promise<{ accessKey: string; secretKey: string }> {
  if (cfg.source?.kind !== 'clearml') throw new Error(`app "${cfg.name}" does not serve a ClearML server`);
  const name = cfg.source.credentialsSecret;
  const fix = `create it with \`flotilla secret set ${name} --kind clearml\` (accessKey, secretKey)`;
  const secret = await vault.open(name).catch((e) => {
    if (e instanceof NotFoundError) throw new Error(`app "${cfg.name}" source.credentialsSecret names secret "${name}", which does not exist: ${fix}`);
    throw e;
  });
  if (secret.kind !== 'clearml')
    throw new Error(`app "${cfg.name}" source.credentialsSecret names secret "${name}" of kind ${secret.kind}; it must be of kind clearml: ${fix}`);
  const { accessKey, secretKey } = secret.value as { accessKey: string; secretKey: string };
  return { accessKey, secretKey };
}

/** The URL of an app's budget.webhookSecret: a generic secret with a `url` key. The URL is a secret: never logged. */
export async function budgetWebhookUrl(vault: SecretVault, cfg: AppConfig): Promise<string | undefined> {
  const name = cfg.budget.webhookSecret;
  if (name === undefined) return undefined;
  const fix = `create it with \`flotilla secret set ${name} --kind generic\` holding {"url": "https://..."}`;
  const secret = await vault.open(name).catch((e) => {
    if (e instanceof NotFoundError) throw new Error(`app "${cfg.name}" budget.webhookSecret names secret "${name}", which does not exist: ${fix}`);
    throw e;
  });
  const url = (secret.value as Record<string, unknown>).url;
  if (secret.kind !== 'generic' || typeof url !== 'string')
    throw new Error(`app "${cfg.name}" budget.webhookSecret "${name}" must be a generic secret with a url key: ${fix}`);
  return url;
}

/** Manager options of a control plane: credentials from the secrets vault, start-up scripts. */
export function cloudAutoscaling(vault: SecretVault): Pick<ManagerOptions, 'credentialsFor' | 'renderStartupScript' | 'clearmlCredentialsFor' | 'webhookUrlFor'> {
  return {
    credentialsFor: (cfg) => providerCredentials(vault, cfg),
    clearmlCredentialsFor: (cfg) => clearmlCredentials(vault, cfg),
    webhookUrlFor: (cfg) => budgetWebhookUrl(vault, cfg),
    renderStartupScript: startupScriptForApp,
  };
}
