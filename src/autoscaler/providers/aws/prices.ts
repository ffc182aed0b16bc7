// AWS prices: on-demand from the Price List API (GetProducts on AmazonEC2, Linux, shared tenancy, no pre-installed
// software; its PriceList entries are JSON strings, the hourly USD under terms.OnDemand.*.priceDimensions.*), spot
// from EC2 DescribeSpotPriceHistory (the newest price of the zone). The Price List API lives in us-east-1 (and
// ap-south-1) whatever the app's region; AWS_ENDPOINT_URL_PRICING or settings.pricingEndpoint point it elsewhere.
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { DescribeSpotPriceHistoryCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { PriceLookup } from '../../prices.js';
import type { AwsSettings } from './settings.js';
import { AWS_HTTP_TIMEOUTS, ec2ClientFor } from './provider.js';

interface PriceListProduct {
  product?: { attributes?: Record<string, string> };
  terms?: { OnDemand?: Record<string, { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: { USD?: string } }> }> };
}

/** The hourly USD of the first product of a GetProducts answer that has one (PriceList items are JSON strings). */
export function onDemandFromPriceList(priceList: readonly (string | object)[]): number | undefined {
  for (const item of priceList) {
    // The SDK hands each entry over as a JSON string (a LazyJsonString object in some versions).
    const p = (typeof item === 'object' && item !== null && 'terms' in item ? item : JSON.parse(String(item))) as PriceListProduct;
    for (const term of Object.values(p.terms?.OnDemand ?? {}))
      for (const d of Object.values(term.priceDimensions ?? {})) {
        const usd = Number(d.pricePerUnit?.USD);
        if (d.unit === 'Hrs' && usd > 0) return usd;
      }
  }
  return undefined;
}

export function awsPriceLookup(settings: AwsSettings & { pricingEndpoint?: string }, ec2?: EC2Client): PriceLookup {
  // Copies: the SDK marks a credentials object it is handed ($source), and the app's settings must stay as written.
  const creds = () => (settings.credentials ? { credentials: { ...settings.credentials } } : {});
  const ec2Client = ec2 ?? ec2ClientFor({ ...settings, ...creds() });
  const pricing = new PricingClient({
    region: 'us-east-1',
    requestHandler: AWS_HTTP_TIMEOUTS,
    ...(settings.pricingEndpoint ? { endpoint: settings.pricingEndpoint } : {}),
    ...creds(),
  });
  const term = (Field: string, Value: string) => ({ Type: 'TERM_MATCH' as const, Field, Value });
  return {
    name: { onDemand: 'aws price list', spot: 'aws spot price history' },
    async onDemand(instanceType) {
      const r = await pricing.send(new GetProductsCommand({
        ServiceCode: 'AmazonEC2', MaxResults: 10,
        Filters: [term('instanceType', instanceType), term('regionCode', settings.region), term('operatingSystem', 'Linux'),
          term('tenancy', 'Shared'), term('preInstalledSw', 'NA'), term('capacitystatus', 'Used'), term('licenseModel', 'No License required')],
      }));
      return onDemandFromPriceList(r.PriceList ?? []);
    },
    async spot(instanceType, zone) {
      const r = await ec2Client.send(new DescribeSpotPriceHistoryCommand({
        InstanceTypes: [instanceType as never], ProductDescriptions: ['Linux/UNIX', 'Linux/UNIX (Amazon VPC)'], StartTime: new Date(),
        // A zone given as a subnet id says no AZ: then the highest price of the region's zones (never under-billed).
        ...(zone && !zone.startsWith('subnet-') ? { AvailabilityZone: zone } : {}),
      }));
      const rows = (r.SpotPriceHistory ?? []).filter((h) => !zone || zone.startsWith('subnet-') || h.AvailabilityZone === zone);
      const prices = rows.map((h) => Number(h.SpotPrice)).filter((x) => x > 0);
      return prices.length ? Math.max(...prices) : undefined;
    },
  };
}
