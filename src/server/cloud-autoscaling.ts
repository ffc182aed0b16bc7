// Wires the cloud providers into the control plane's autoscaler manager: the provider of each app is
// built with its credentials secret decrypted (in memory only, never logged), and cloud launches get
// the start-up script. The aws/gcp register modules load their SDKs only when an app first uses them.
import { z } from 'zod';
import '../autoscaler/providers/aws/register.js';
import '../autoscaler/providers/gcp/register.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import type { ManagerOptions } from '../autoscaler/manager.js';
import { createProvider } from '../autoscaler/providers/index.js';
import type { ComputeProvider, LaunchRequest } from '../autoscaler/providers/types.js';
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

/**
 * A provider built on first use and again after a failure, so a missing secret neither stops the
 * other apps from loading nor needs a restart once it is fixed: until then each pass fails, and says why.
 */
export class DeferredProvider implements ComputeProvider {
  readonly kind: string;
  private made?: Promise<ComputeProvider>;

  constructor(private readonly make: () => Promise<ComputeProvider>, kind: string) {
    this.kind = kind;
  }

  private get(): Promise<ComputeProvider> {
    this.made ??= this.make().catch((e) => {
      this.made = undefined;
      throw e;
    });
    return this.made;
  }

  launch = async (req: LaunchRequest) => (await this.get()).launch(req);
  terminate = async (ids: string[]) => (await this.get()).terminate(ids);
  list = async (appId: string) => (await this.get()).list(appId);
  close = async () => {
    if (this.made) await (await this.made.catch(() => undefined))?.close?.();
  };
}

/** Hidden knob for tests and drills: FLOTILLA_AUTOSCALER_TIMINGS='{"tickMs":200,"listEveryMs":200,...}'. */
const TimingsSchema = z.strictObject({
  tickMs: z.number().int().positive().optional(),
  listEveryMs: z.number().int().nonnegative().optional(),
  orphanGraceMs: z.number().int().nonnegative().optional(),
  requestedGraceMs: z.number().int().nonnegative().optional(),
  minGapMs: z.number().int().nonnegative().optional(),
});

export function timingsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ManagerOptions> {
  const text = env.FLOTILLA_AUTOSCALER_TIMINGS;
  if (!text) return {};
  let parsed: z.infer<typeof TimingsSchema>;
  try {
    parsed = TimingsSchema.parse(JSON.parse(text));
  } catch (e) {
    throw new Error(`FLOTILLA_AUTOSCALER_TIMINGS: ${(e as Error).message}; expected JSON such as {"tickMs":500,"listEveryMs":500}`);
  }
  const { tickMs, ...reconciler } = parsed;
  return { ...(tickMs ? { tickMs } : {}), reconciler };
}

/** Manager options of a control plane: providers with their credentials, start-up scripts, timings. */
export function cloudAutoscaling(vault: SecretVault, dataDir: string, env: NodeJS.ProcessEnv = process.env): Partial<ManagerOptions> {
  return {
    providerFor: async (cfg) =>
      cfg.provider.kind === 'aws' || cfg.provider.kind === 'gcp'
        ? new DeferredProvider(async () => createProvider(cfg, { dataDir, credentials: await providerCredentials(vault, cfg) }), cfg.provider.kind)
        : createProvider(cfg, { dataDir }),
    renderStartupScript: startupScriptForApp,
    ...timingsFromEnv(env),
  };
}
