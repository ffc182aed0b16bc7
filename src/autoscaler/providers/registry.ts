// One record per provider: its name, its factory, the schemas that validate an app's settings for it at apply time,
// and what it can do. The registry is a plain value built in ./index.ts (PROVIDERS), not filled by import side
// effects; tests make their own with `PROVIDERS.with(record)` and hand it to the control plane explicitly.
import { z } from 'zod';
import type { AppConfig } from '../../domain/autoscaler/config.js';
import type { ComputeProvider } from './types.js';
import { settingsIssues } from './validate.js';
import type { PriceLookup } from '../prices.js';

export type Issue = { field: string; message: string };

export interface ProviderCapabilities {
  /** Launches spot / preemptible machines (offerings with market: spot). */
  spot: boolean;
  /** Offerings name a zone (AWS subnet or AZ, GCE zone); otherwise `zones` of a resource mean nothing. */
  zones: boolean;
  /** Looks up prices itself (`prices` below): a resource may leave out pricePerHour. */
  priceLookup: boolean;
  /** list() of a new provider object finds what an earlier one launched, with its client token (restart adoption). */
  adoption: boolean;
  /** launch() may throw CapacityError (the policy then falls back to the next offering). */
  capacityErrors: boolean;
  /** Takes credentials from provider.settings.credentialsSecret; the provider is built on first use. */
  credentialsSecret: boolean;
  /** Machines boot from a start-up script (cloud) rather than being handed agent arguments (local processes). */
  startupScript: boolean;
}

export interface ProviderContext {
  /** The control plane's data folder (local workers' logs). */
  dataDir: string;
  /** Decrypted credentials of the app's provider secret, when it names one. */
  credentials?: Record<string, unknown>;
}

export interface ProviderRecord {
  /** The app file's provider.kind. */
  name: string;
  /** Validates provider.settings (referenced, not defined, here: each provider's settings.ts owns it). */
  settings: z.ZodType;
  /** Validates each resource's `launch` block, when the provider has one. */
  launch?: z.ZodType;
  /** Checks across fields that the schemas cannot make (GCE: every resource needs a zone). */
  check?: (cfg: AppConfig) => Issue[];
  capabilities: ProviderCapabilities;
  /** Builds the provider of an app; cloud SDKs are imported here, not when the control plane starts. */
  create(cfg: AppConfig, ctx: ProviderContext): Promise<ComputeProvider>;
  /**
   * Loads what `create` will need (a cloud SDK takes 2–4 s to import). The manager calls it, in the background, as
   * soon as an app of this kind is applied or found at start, so the first task's launch does not wait for it.
   */
  preload?: () => Promise<unknown>;
  /** The price look-ups of an app's account and region (autoscaler/prices.ts), for providers with priceLookup. */
  prices?: (cfg: AppConfig, ctx: ProviderContext) => Promise<PriceLookup>;
}

export class ProviderRegistry {
  private readonly byName: ReadonlyMap<string, ProviderRecord>;

  constructor(records: readonly ProviderRecord[]) {
    const m = new Map<string, ProviderRecord>();
    for (const r of records) {
      if (m.has(r.name)) throw new Error(`provider "${r.name}" is registered twice`);
      m.set(r.name, r);
    }
    this.byName = m;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  records(): ProviderRecord[] {
    return [...this.byName.values()];
  }

  find(name: string): ProviderRecord | undefined {
    return this.byName.get(name);
  }

  get(name: string): ProviderRecord {
    const r = this.byName.get(name);
    if (!r) throw new Error(`provider "${name}" is not available in this build (known: ${this.names().join(', ')})`);
    return r;
  }

  /** A copy where these records replace the ones of the same name, or are added (tests: a fake or faulty provider). */
  with(...records: ProviderRecord[]): ProviderRegistry {
    const names = new Set(records.map((r) => r.name));
    return new ProviderRegistry([...this.records().filter((r) => !names.has(r.name)), ...records]);
  }

  create(cfg: AppConfig, ctx: ProviderContext): Promise<ComputeProvider> {
    return this.get(cfg.provider.kind).create(cfg, ctx);
  }

  /**
   * Each provider's settings and launch block as JSON Schema, made from the same zod schemas `validate` uses, so
   * the console can show real fields for provider.settings and a resource's launch (free-form in the app schema).
   */
  jsonSchemas(): Record<string, { settings: unknown; launch?: unknown }> {
    const json = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
    return Object.fromEntries(this.records().map((r) => [r.name, { settings: json(r.settings), ...(r.launch ? { launch: json(r.launch) } : {}) }]));
  }

  /** The apply-time issues of an app's provider settings and launch blocks, each with the field a user writes. */
  validate(cfg: AppConfig): Issue[] {
    const r = this.find(cfg.provider.kind);
    if (!r) return [{ field: 'provider.kind', message: `unknown provider "${cfg.provider.kind}"; known: ${this.names().join(', ')}` }];
    const launch = r.launch;
    return [
      ...settingsIssues(r.settings, cfg.provider.settings, 'provider.settings'),
      ...(launch ? cfg.resources.flatMap((res, i) => settingsIssues(launch, res.launch, `resources[${i}].launch`)) : []),
      ...(r.check?.(cfg) ?? []),
      ...(r.capabilities.priceLookup ? [] : cfg.resources.flatMap((res, i) => res.pricePerHour === undefined
        ? [{ field: `resources[${i}].pricePerHour`, message: `the ${r.name} provider cannot look prices up: set pricePerHour (USD per hour) for ${res.name}` }]
        : [])),
    ];
  }
}
