// Prices: a typed pricePerHour wins; otherwise the provider looks it up (AWS Price List and spot price history, GCP
// Cloud Billing Catalog), cached a day for on-demand and minutes for spot. An app whose price cannot be had does not
// start (the manager says why); nothing ever runs at a price of 0 because a look-up failed.
import type { AppConfig, ResourceConfig } from '../domain/autoscaler/config.js';
import type { Offering } from '../domain/autoscaler/offering.js';

/** A provider's price look-ups ($/h), undefined when the catalogue has no such product. */
export interface PriceLookup {
  /** Shown as the source of its prices, e.g. "aws price list". */
  readonly name: { onDemand: string; spot: string };
  onDemand(instanceType: string, zone?: string): Promise<number | undefined>;
  spot(instanceType: string, zone?: string): Promise<number | undefined>;
}

export interface PriceQuote {
  instanceType: string;
  market: Offering['market'];
  zone: string | null;
  pricePerHour: number;
  /** "config" for a typed price, else the look-up that gave it. */
  source: string;
  /** When it was looked up (or, typed, when it was read). */
  at: number;
}

export const ON_DEMAND_TTL_MS = 24 * 3_600_000; // list prices change a few times a year
export const SPOT_TTL_MS = 5 * 60_000; // spot prices move by the hour; a launch should see this hour's

export class NoPriceError extends Error {}

/** One cache per provider account and region: prices do not depend on the app. */
export class PriceBook {
  private readonly cache = new Map<string, { quote: PriceQuote; until: number }>();

  constructor(private readonly lookup: PriceLookup | undefined, private readonly now: () => number = Date.now) {}

  /** The price of running `r` on `offering`: the typed one, or a cached or fresh look-up of that market and zone. */
  async quote(r: ResourceConfig, offering: Offering): Promise<PriceQuote> {
    const zone = offering.zone ?? null;
    const base = { instanceType: offering.instanceType, market: offering.market, zone };
    if (r.pricePerHour !== undefined) return { ...base, pricePerHour: r.pricePerHour, source: 'config', at: this.now() };
    const key = `${offering.market}|${offering.instanceType}|${zone ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.quote;
    if (!this.lookup) throw new NoPriceError(`resource ${r.name} has no pricePerHour and its provider cannot look prices up: set pricePerHour`);
    const spot = offering.market === 'spot';
    let price: number | undefined;
    try {
      price = spot ? await this.lookup.spot(offering.instanceType, offering.zone) : await this.lookup.onDemand(offering.instanceType, offering.zone);
    } catch (e) {
      if (hit) return hit.quote; // a stale price beats none while the price API is down
      throw new NoPriceError(`resource ${r.name}: looking up the ${offering.market} price of ${offering.instanceType} failed (${(e as Error).message}); set pricePerHour or fix the access`);
    }
    if (price === undefined || !(price > 0)) {
      if (hit) return hit.quote;
      throw new NoPriceError(`resource ${r.name}: no ${offering.market} price for ${offering.instanceType}${zone ? ` in ${zone}` : ''} from ${spot ? this.lookup.name.spot : this.lookup.name.onDemand}; set pricePerHour`);
    }
    const quote = { ...base, pricePerHour: price, source: spot ? this.lookup.name.spot : this.lookup.name.onDemand, at: this.now() };
    this.cache.set(key, { quote, until: this.now() + (spot ? SPOT_TTL_MS : ON_DEMAND_TTL_MS) });
    return quote;
  }

  /**
   * The app with every resource's pricePerHour filled in from its first offering (what the $/h cap and the budgets
   * weigh before a launch); throws NoPriceError naming the resource when one cannot be had.
   */
  async resolve(cfg: AppConfig, first: (r: ResourceConfig) => Offering): Promise<{ cfg: AppConfig; quotes: PriceQuote[] }> {
    const quotes: PriceQuote[] = [];
    const resources: ResourceConfig[] = [];
    for (const r of cfg.resources) {
      const q = await this.quote(r, first(r));
      quotes.push(q);
      resources.push({ ...r, pricePerHour: q.pricePerHour });
    }
    return { cfg: { ...cfg, resources }, quotes };
  }

  /** Every price in the cache (for `autoscaler status`). */
  cached(): PriceQuote[] {
    return [...this.cache.values()].map((c) => c.quote);
  }
}
