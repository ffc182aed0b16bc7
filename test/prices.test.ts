// Prices looked up, not typed: AWS on-demand from the Price List API (moto 5.2.1 answers GetProducts with HTTP 500,
// so a loopback fake serves a recorded answer's shape, test/fixtures/aws-pricing-getproducts.json), spot from
// DescribeSpotPriceHistory on moto; the cache (a day on-demand, minutes spot); a typed price wins; and an app whose
// price cannot be had does not start, on both stores, with a journal row that says how to fix it (support/not-started.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { startMoto, type Moto } from './helpers/moto.js';
import { awsPriceLookup } from '../src/autoscaler/providers/aws/prices.js';
import { NoPriceError, PriceBook, SPOT_TTL_MS, ON_DEMAND_TTL_MS } from '../src/autoscaler/prices.js';
import { AppConfigSchema } from '../src/domain/autoscaler/config.js';
import { validateProviderSettings } from '../src/autoscaler/providers/index.js';
import { DIALECTS } from './support/stores.js';
import { notStartedReason } from './support/not-started.js';

const FIXTURE = JSON.parse(readFileSync(new URL('./fixtures/aws-pricing-getproducts.json', import.meta.url), 'utf8'));

let moto: Moto;
let fake: Server;
let pricingUrl: string;
const calls: { target: string; body: { Filters: { Field: string; Value: string }[] } }[] = [];

before(async () => {
  moto = await startMoto();
  fake = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c)).on('end', () => {
      const parsed = JSON.parse(body);
      calls.push({ target: String(req.headers['x-amz-target']), body: parsed });
      const type = parsed.Filters.find((f: { Field: string }) => f.Field === 'instanceType')?.Value;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(type === 'g5.xlarge' ? FIXTURE : { FormatVersion: 'aws_v1', PriceList: [] }));
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => fake.once('listening', r));
  pricingUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});
after(async () => {
  fake.close();
  await moto.stop();
});

const settings = () => ({ region: 'us-east-1', endpoint: moto.url, pricingEndpoint: pricingUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, throttleRetries: 0, spotRequestGraceS: 120 });
const resource = (over: object = {}) =>
  AppConfigSchema.parse({ name: 'a', provider: { kind: 'aws', settings: {} }, queues: { q: ['gpu'] },
    resources: [{ name: 'gpu', instanceType: 'g5.xlarge', maxInstances: 2, ...over }] }).resources[0]!;

test('on-demand: the Price List answer is read (filters for Linux, shared, this region), cached a day', async () => {
  let t = Date.UTC(2026, 11, 2);
  const book = new PriceBook(awsPriceLookup(settings()), () => t);
  const q = await book.quote(resource(), { instanceType: 'g5.xlarge', market: 'on-demand' });
  assert.deepEqual({ price: q.pricePerHour, source: q.source }, { price: 1.006, source: 'aws price list' });
  assert.equal(calls.at(-1)!.target, 'AWSPriceListService.GetProducts');
  const filters = Object.fromEntries(calls.at(-1)!.body.Filters.map((f) => [f.Field, f.Value]));
  assert.deepEqual(filters, { instanceType: 'g5.xlarge', regionCode: 'us-east-1', operatingSystem: 'Linux', tenancy: 'Shared',
    preInstalledSw: 'NA', capacitystatus: 'Used', licenseModel: 'No License required' });
  const n = calls.length;
  t += ON_DEMAND_TTL_MS - 1;
  await book.quote(resource(), { instanceType: 'g5.xlarge', market: 'on-demand' });
  assert.equal(calls.length, n, 'answered from the cache');
  t += 2;
  await book.quote(resource(), { instanceType: 'g5.xlarge', market: 'on-demand' });
  assert.equal(calls.length, n + 1, 'looked up again after a day');
});

test('spot: the zone\'s price from DescribeSpotPriceHistory on moto; cached minutes; a typed price wins', async () => {
  const book = new PriceBook(awsPriceLookup(settings()));
  const q = await book.quote(resource({ spot: true }), { instanceType: 'm5.large', zone: 'us-east-1a', market: 'spot' });
  assert.equal(q.source, 'aws spot price history');
  assert.ok(q.pricePerHour > 0 && q.pricePerHour < 1, `moto's spot price, got ${q.pricePerHour}`);
  assert.equal(q.zone, 'us-east-1a');
  // The cache's own clock: a spot price is asked again once SPOT_TTL_MS has passed.
  let t = 0;
  let asked = 0;
  const counting = new PriceBook({ name: { onDemand: 'od', spot: 'sp' }, onDemand: async () => 1, spot: async () => (++asked, 0.3) }, () => t);
  const spot = { instanceType: 'm5.large', zone: 'us-east-1a', market: 'spot' as const };
  await counting.quote(resource({ spot: true }), spot);
  t += SPOT_TTL_MS - 1;
  await counting.quote(resource({ spot: true }), spot);
  assert.equal(asked, 1);
  t += 2;
  await counting.quote(resource({ spot: true }), spot);
  assert.equal(asked, 2);
  const typed = await book.quote(resource({ pricePerHour: 0.5 }), { instanceType: 'g5.xlarge', market: 'on-demand' });
  assert.deepEqual({ price: typed.pricePerHour, source: typed.source }, { price: 0.5, source: 'config' });
});

test('no price: a clear refusal, never 0; providers that cannot look prices up need pricePerHour at apply', async () => {
  const book = new PriceBook(awsPriceLookup(settings()));
  await assert.rejects(book.quote(resource({ instanceType: 'x9.nothing' }), { instanceType: 'x9.nothing', market: 'on-demand' }),
    (e: Error) => e instanceof NoPriceError && /resource gpu: no on-demand price for x9\.nothing from aws price list; set pricePerHour/.test(e.message));
  const local = AppConfigSchema.parse({ name: 'l', provider: { kind: 'local' }, queues: { q: ['w'] },
    resources: [{ name: 'w', instanceType: 'local-process', maxInstances: 1 }] });
  assert.deepEqual(validateProviderSettings(local).filter((i) => i.field.includes('price')), [{
    field: 'resources[0].pricePerHour', message: 'the local provider cannot look prices up: set pricePerHour (USD per hour) for w',
  }]);
});

describe('an app whose price cannot be had does not start', { concurrency: true }, () => {
  for (const dialect of DIALECTS) test(dialect, async () => {
    const cfg = AppConfigSchema.parse({ name: 'noprice', provider: { kind: 'aws', settings: settings() }, queues: { q: ['gpu'] },
      resources: [{ name: 'gpu', instanceType: 'x9.nothing', maxInstances: 2, launch: { ami: 'ami-785db401' } }] });
    assert.match(await notStartedReason(dialect, cfg),
      /^app noprice not started: resource gpu: no on-demand price for x9\.nothing from aws price list; set pricePerHour$/);
  });
});
