// Runs one reconciler per autoscaler app in the leader: wakes them on enqueues and worker changes
// (reaction in well under a second), on app changes, and on a slow tick as a safety net.
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/index.js';
import type { QueueService } from '../services/queue.js';
import type { Controller } from '../domain/controller.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import { Reconciler, type ReconcilerOptions } from './reconciler.js';
import { PROVIDERS, type ProviderRecord, type ProviderRegistry } from './providers/index.js';
import type { ComputeProvider } from './providers/types.js';
import { DeferredProvider } from './providers/deferred.js';
import type { StartupScriptInput } from './launch.js';
import { resolveTimings, type Timings } from '../domain/timings.js';
import type { ClearmlSourceConfig } from '../domain/autoscaler/source.js';
import { CLEARML_POLL_MS, ClearmlSource } from '../clearml/source.js';
import { NoPriceError, PriceBook, type PriceQuote } from './prices.js';
import { offeringsFor } from '../domain/autoscaler/offerings.js';

/** The price books of the apps this process runs (for `autoscaler status`: what each price is and where it came from). */
export const priceBooks = new Map<string, PriceBook>();

export interface ManagerOptions {
  store: Store;
  /** Recovers a lost worker's tasks and stops workers (services/queue.ts). */
  queue: QueueService;
  serverUrl: string;
  dataDir: string;
  /** The autoscaler's timings (tick, list interval, graces, min gap); unset ones are DEFAULT_TIMINGS'. */
  timings?: Partial<Timings>;
  log: (msg: string) => void;
  /** The providers apps may name (default PROVIDERS); tests pass `PROVIDERS.with(theirRecord)`. */
  providers?: ProviderRegistry;
  /** The decrypted credentials of an app's provider.settings.credentialsSecret (the control plane: the secrets vault). */
  credentialsFor?: (cfg: AppConfig) => Promise<Record<string, unknown> | undefined>;
  renderStartupScript?: (i: StartupScriptInput) => string;
  /** The key pair of an app's source.credentialsSecret (source: clearml; the control plane: the secrets vault). */
  clearmlCredentialsFor?: (cfg: AppConfig) => Promise<{ accessKey: string; secretKey: string }>;
  /** How often apps serving a ClearML server look at it (default CLEARML_POLL_MS). */
  clearmlPollMs?: number;
  /** The URL in an app's budget.webhookSecret (the control plane: the secrets vault). */
  webhookUrlFor?: (cfg: AppConfig) => Promise<string | undefined>;
  reconciler?: Partial<ReconcilerOptions>;
}

/**
 * The provider of an app, from its record. One with a credentials secret is built on first use (and again after a
 * failure), so a missing secret fails that app's passes, says why, and needs no restart once created.
 */
export async function providerForApp(record: ProviderRecord, cfg: AppConfig,
  o: Pick<ManagerOptions, 'dataDir' | 'credentialsFor'>): Promise<ComputeProvider> {
  const build = async () => record.create(cfg, {
    dataDir: o.dataDir, credentials: record.capabilities.credentialsSecret ? await o.credentialsFor?.(cfg) : undefined,
  });
  return record.capabilities.credentialsSecret ? new DeferredProvider(build, record.name) : build();
}

export class AutoscalerManager implements Controller {
  readonly name = 'autoscalers';
  readonly reconcilers = new Map<string, Reconciler>();
  private readonly controlPlaneId = randomUUID();
  private off?: () => void;
  private timer?: NodeJS.Timeout;
  private clearmlTimer?: NodeJS.Timeout;
  private loading: Promise<void> = Promise.resolve();
  private readonly timings: Timings;

  constructor(private readonly o: ManagerOptions) {
    this.timings = resolveTimings(o.timings);
  }

  async start(): Promise<void> {
    this.off = this.o.store.events.on((e) => {
      if (e.kind === 'apps') this.reload();
      else if (e.kind === 'enqueue') this.wakeQueue(e.queue);
      else if (e.kind === 'worker') this.wakeAll();
      else if (e.kind === 'instances' && e.requested) void this.reconcilers.get(e.app)?.wake();
    });
    this.timer = setInterval(() => this.wakeAll(), this.timings.tickMs);
    // Nothing on a ClearML server wakes its apps: they look at it more often than the safety-net tick.
    this.clearmlTimer = setInterval(() => {
      for (const r of this.reconcilers.values()) if (r.cfg.source?.kind === 'clearml') void r.wake();
    }, this.o.clearmlPollMs ?? CLEARML_POLL_MS);
    this.reload();
    await this.loading;
  }

  stop(): void {
    this.off?.();
    clearInterval(this.timer);
    clearInterval(this.clearmlTimer);
    this.reconcilers.clear();
  }

  /** `flotilla up` closing: stop its local workers (they hand their tasks back) before the server goes. */
  async stopLocalWorkers(timeoutMs = this.timings.localStopTimeoutMs): Promise<void> {
    await this.loading;
    const local = [...this.reconcilers.values()].filter((r) => r.cfg.provider.kind === 'local');
    await Promise.all(local.map((r) => r.terminateAll('the control plane is shutting down', timeoutMs)));
  }

  reload(): void {
    this.loading = this.loading.then(() => this.load()).catch((e) => this.o.log(`autoscalers: reload failed: ${e.message}`));
  }

  private async load(): Promise<void> {
    const apps = await this.o.store.apps.list();
    const names = new Set(apps.map((a) => a.name));
    for (const [name, r] of this.reconcilers) {
      if (names.has(name)) continue;
      this.reconcilers.delete(name);
      await r.terminateAll('its autoscaler app was deleted');
    }
    for (const raw of apps) {
      this.raw.set(raw.name, raw);
      const cur = this.reconcilers.get(raw.name);
      const sameProvider = cur && JSON.stringify([cur.cfg.provider, cur.cfg.source]) === JSON.stringify([raw.provider, raw.source]);
      const cfg = await this.priced(raw, sameProvider ? undefined : await this.bookFor(raw));
      if (!cfg) continue;
      if (cur && sameProvider) cur.cfg = cfg;
      else this.reconcilers.set(cfg.name, await this.make(cfg));
      void this.reconcilers.get(cfg.name)!.wake();
    }
  }

  /** A new book when the provider changed (its account or region may have); the app's own one otherwise. */
  private async bookFor(cfg: AppConfig): Promise<PriceBook> {
    const record = (this.o.providers ?? PROVIDERS).get(cfg.provider.kind);
    let lookup;
    if (record.prices && cfg.resources.some((r) => r.pricePerHour === undefined)) {
      const credentials = record.capabilities.credentialsSecret ? await this.o.credentialsFor?.(cfg).catch(() => undefined) : undefined;
      lookup = await record.prices(cfg, { dataDir: this.o.dataDir, credentials });
    }
    const book = new PriceBook(lookup);
    priceBooks.set(cfg.name, book);
    return book;
  }

  /**
   * The app with every price known, or undefined when one cannot be had: the app does not start (or keeps running
   * on the prices it had), and the journal says which price and how to fix it. Never a price of 0.
   */
  private async priced(cfg: AppConfig, fresh?: PriceBook): Promise<AppConfig | undefined> {
    const book = fresh ?? priceBooks.get(cfg.name) ?? await this.bookFor(cfg);
    try {
      return (await book.resolve(cfg, (r) => offeringsFor(r)[0]!)).cfg;
    } catch (e) {
      if (!(e instanceof NoPriceError)) throw e;
      const reason = `app ${cfg.name} not started: ${e.message}`;
      this.o.log(`autoscalers: ${reason}`);
      await this.o.store.decisions.add({ at: Date.now(), app: cfg.name, queue: null, kind: 'app-not-started', reason, detail: {} });
      return undefined;
    }
  }

  /** The app files as written (a price left out is looked up per launch, for its market and zone). */
  private readonly raw = new Map<string, AppConfig>();

  /** The price of one launch on its offering, from the app's book. */
  private quoter(name: string): ReconcilerOptions['quote'] {
    return (r, offering): Promise<PriceQuote> => {
      const book = priceBooks.get(name) ?? new PriceBook(undefined);
      const written = this.raw.get(name)?.resources.find((x) => x.name === r.name);
      return book.quote(written ?? r, offering);
    };
  }

  private async make(cfg: AppConfig): Promise<Reconciler> {
    const record = (this.o.providers ?? PROVIDERS).get(cfg.provider.kind);
    this.preload(record);
    const provider = await providerForApp(record, cfg, this.o);
    const t = this.timings;
    return new Reconciler(cfg, {
      store: this.o.store, queue: this.o.queue, provider, serverUrl: this.o.serverUrl, controlPlaneId: this.controlPlaneId,
      renderStartupScript: record.capabilities.startupScript ? this.o.renderStartupScript : undefined, log: this.o.log,
      clearml: cfg.source?.kind === 'clearml' ? this.clearmlSource(cfg, cfg.source) : undefined,
      listEveryMs: t.listEveryMs, orphanGraceMs: t.orphanGraceMs, requestedGraceMs: t.requestedGraceMs, minGapMs: t.minGapMs,
      quote: this.quoter(cfg.name), budget: { webhookUrl: this.o.webhookUrlFor },
      ...this.o.reconciler,
    });
  }

  private clearmlSource(cfg: AppConfig, source: ClearmlSourceConfig): ClearmlSource {
    return new ClearmlSource(cfg.name, source, async () => {
      if (!this.o.clearmlCredentialsFor) throw new Error(`app "${cfg.name}": this control plane reads no ClearML credentials`);
      return this.o.clearmlCredentialsFor(cfg);
    });
  }

  /**
   * Starts loading the provider's SDK now (apply, or start with the app stored), once per kind, so the first
   * task's launch does not wait 2–4 s for it; not awaited: the app's passes go on, a launch awaits the same import.
   */
  private readonly preloaded = new Set<string>();
  private preload(record: ProviderRecord): void {
    if (!record.preload || this.preloaded.has(record.name)) return;
    this.preloaded.add(record.name);
    record.preload().catch((e) => {
      this.preloaded.delete(record.name);
      this.o.log(`autoscalers: loading the ${record.name} provider failed: ${(e as Error).message}`);
    });
  }

  private wakeQueue(queue: string) {
    for (const r of this.reconcilers.values()) if (queue in r.cfg.queues) void r.wake();
  }

  private wakeAll() {
    for (const r of this.reconcilers.values()) void r.wake();
  }
}
