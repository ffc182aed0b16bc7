// GCP prices from the Cloud Billing Catalog API: `GET /v1/services/6F81-5844-456A/skus` (Compute Engine), every page
// (nextPageToken). A machine type's hourly price = its family's Core SKU × vCPUs + Ram SKU × GiB in its region, the
// SKUs with usageType OnDemand (on-demand) or Preemptible (spot, described "Spot Preemptible …"), each read from
// pricingInfo[0].pricingExpression.tieredRates[last].unitPrice (units + nanos/1e9). The vCPUs and GiB come from the
// table in ./machines.ts. The catalogue is one listing for all types: it is kept SPOT_TTL_MS, so the launches of a
// few minutes share one listing while the price book caches each quote (a day on-demand, minutes spot).
import { GoogleAuth } from 'google-auth-library';
import { SPOT_TTL_MS, type PriceLookup } from '../../prices.js';
import { FAMILIES, machineShape } from './machines.js';
import { serviceAccountKey, type GcpSettings } from './settings.js';

export const COMPUTE_SERVICE = '6F81-5844-456A';
export const BILLING_ENDPOINT = 'https://cloudbilling.googleapis.com';

/** The parts of a skus.list answer read here (cloud.google.com/billing/docs/reference/rest/v1/services.skus/list). */
export interface CatalogSku {
  description?: string;
  category?: { resourceFamily?: string; resourceGroup?: string; usageType?: string };
  serviceRegions?: string[];
  pricingInfo?: { pricingExpression?: { usageUnit?: string; tieredRates?: { unitPrice?: { units?: string; nanos?: number } }[] } }[];
}
export interface SkuPage { skus?: CatalogSku[]; nextPageToken?: string }

type Usage = 'OnDemand' | 'Preemptible';

/** $ per unit of the SKU's last tier (the first tiers of a few SKUs are free allowances). */
function unitPrice(sku: CatalogSku): number | undefined {
  const rates = sku.pricingInfo?.[0]?.pricingExpression?.tieredRates ?? [];
  const p = rates.at(-1)?.unitPrice;
  if (!p) return undefined;
  return Number(p.units ?? 0) + (p.nanos ?? 0) / 1e9;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The $/h of a family's vCPU or $/GiB-h of its memory in a region, from the catalogue's SKUs. */
export function rateOf(skus: readonly CatalogSku[], family: string, region: string, usage: Usage, part: 'Core' | 'Ram'): number | undefined {
  const f = FAMILIES[family];
  if (!f) return undefined;
  // Anchored so that Custom, Sole Tenancy, Extended memory and commitment SKUs of the family do not match.
  const re = new RegExp(`^${usage === 'Preemptible' ? 'Spot Preemptible ' : ''}${escape(f.sku)} ${part} running in `);
  const unit = part === 'Core' ? 'h' : 'GiBy.h';
  const sku = skus.find((s) => s.category?.resourceFamily === 'Compute' && s.category.usageType === usage
    && re.test(s.description ?? '') && (s.serviceRegions ?? []).includes(region)
    && s.pricingInfo?.[0]?.pricingExpression?.usageUnit === unit);
  return sku ? unitPrice(sku) : undefined;
}

/** A machine type's $/h in a region from the catalogue; undefined when its shape or a SKU is unknown. */
export function machinePrice(skus: readonly CatalogSku[], machineType: string, region: string, usage: Usage): number | undefined {
  const shape = machineShape(machineType);
  if (!shape) return undefined;
  const core = rateOf(skus, shape.family, region, usage, 'Core');
  const ram = rateOf(skus, shape.family, region, usage, 'Ram');
  if (core === undefined || ram === undefined) return undefined;
  return core * shape.vcpus + ram * shape.gib;
}

export const regionOf = (zone: string) => zone.replace(/-[a-z]$/, '');

export interface GcpPriceOptions {
  /** Machine types that carry GPUs in this app: their accelerators are billed apart, so no looked-up price. */
  withAccelerators?: ReadonlySet<string>;
  now?: () => number;
}

export function gcpPriceLookup(settings: GcpSettings, o: GcpPriceOptions = {}): PriceLookup {
  const endpoint = (settings.billingEndpoint ?? BILLING_ENDPOINT).replace(/\/$/, '');
  const now = o.now ?? Date.now;
  // Plain http is only ever a loopback fake: never send real credentials there (as the provider's protocol: http).
  const key = serviceAccountKey(settings);
  const auth = endpoint.startsWith('http://') ? undefined : new GoogleAuth({
    projectId: settings.project,
    scopes: ['https://www.googleapis.com/auth/cloud-platform'],
    ...(key ? { credentials: { client_email: key.client_email, private_key: key.private_key } } : {}),
  });
  let listing: { skus: Promise<CatalogSku[]>; until: number } | undefined;

  async function list(): Promise<CatalogSku[]> {
    const skus: CatalogSku[] = [];
    let token = '';
    do {
      const url = `${endpoint}/v1/services/${COMPUTE_SERVICE}/skus?currencyCode=USD&pageSize=5000${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`;
      const res = await fetch(url, auth ? { headers: await auth.getRequestHeaders(url) } : {});
      if (!res.ok) throw new Error(`Cloud Billing Catalog answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const page = (await res.json()) as SkuPage;
      // Only the Compute SKUs are kept: the listing also holds disks, images, network and licences.
      for (const s of page.skus ?? []) if (s.category?.resourceFamily === 'Compute') skus.push(s);
      token = page.nextPageToken ?? '';
    } while (token);
    return skus;
  }

  const catalogue = () => {
    if (!listing || listing.until <= now()) {
      const skus = list();
      const entry = { skus, until: now() + SPOT_TTL_MS };
      skus.catch(() => { if (listing === entry) listing = undefined; }); // a failed listing is asked again next time
      listing = entry;
    }
    return listing.skus;
  };

  const price = async (machineType: string, zone: string | undefined, usage: Usage) => {
    if (o.withAccelerators?.has(machineType)) return undefined;
    const z = zone ?? settings.zone;
    if (!z || !machineShape(machineType)) return undefined;
    return machinePrice(await catalogue(), machineType, regionOf(z), usage);
  };

  return {
    name: { onDemand: 'gcp billing catalog', spot: 'gcp billing catalog (spot)' },
    onDemand: (machineType, zone) => price(machineType, zone, 'OnDemand'),
    spot: (machineType, zone) => price(machineType, zone, 'Preemptible'),
  };
}
