// GCP prices looked up, not typed: the Cloud Billing Catalog API (skus.list of Compute Engine) has no emulator, so a
// loopback fake serves a recorded answer's shape page by page (test/fixtures/gcp-billing-skus.json). A machine type's
// price is its family's Core SKU × vCPUs + Ram SKU × GiB in its region (OnDemand, or Preemptible for spot); the
// price book caches it; SKUs of other regions, custom, sole-tenant and committed use are not picked; and a gcp app
// whose price cannot be had does not start, on both stores, with a journal row that says how to fix it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { gcpPriceLookup, type SkuPage } from '../src/autoscaler/providers/gcp/prices.js';
import { machineShape } from '../src/autoscaler/providers/gcp/machines.js';
import { GcpSettingsSchema } from '../src/autoscaler/providers/gcp/settings.js';
import { NoPriceError, ON_DEMAND_TTL_MS, PriceBook } from '../src/autoscaler/prices.js';
import { AppConfigSchema } from '../src/domain/autoscaler/config.js';
import { validateProviderSettings } from '../src/autoscaler/providers/index.js';
import { DIALECTS } from './support/stores.js';
import { notStartedReason } from './support/not-started.js';

const PAGES = (JSON.parse(readFileSync(new URL('./fixtures/gcp-billing-skus.json', import.meta.url), 'utf8')) as { pages: SkuPage[] }).pages;

let fake: Server;
let billingUrl: string;
let failWith: number | undefined;
const calls: { url: URL; authorization: string | undefined }[] = [];

before(async () => {
  fake = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    calls.push({ url, authorization: req.headers.authorization });
    if (failWith) {
      res.writeHead(failWith, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { code: failWith, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' } }));
    }
    if (url.pathname !== '/v1/services/6F81-5844-456A/skus') return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(url.searchParams.get('pageToken') === PAGES[0]!.nextPageToken ? PAGES[1] : PAGES[0]));
  }).listen(0, '127.0.0.1');
  await new Promise((r) => fake.once('listening', r));
  billingUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});
after(() => fake.close());

const settings = (over: object = {}) => ({ project: 'proj', zone: 'us-central1-a', billingEndpoint: billingUrl, ...over });
const lookup = (over: object = {}, o = {}) => gcpPriceLookup(GcpSettingsSchema.parse(settings(over)), o);
const resource = (over: object = {}) =>
  AppConfigSchema.parse({ name: 'a', provider: { kind: 'gcp', settings: settings() }, queues: { q: ['cpu'] },
    resources: [{ name: 'cpu', instanceType: 'n2-standard-4', maxInstances: 2, zones: ['us-central1-a'], ...over }] }).resources[0]!;
const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

test('machine shapes: vCPUs and GiB of the documented families, none for custom or GPU types', () => {
  assert.deepEqual(machineShape('n2-standard-4'), { family: 'n2', vcpus: 4, gib: 16 });
  assert.deepEqual(machineShape('n1-highcpu-8'), { family: 'n1', vcpus: 8, gib: 7.2 });
  assert.deepEqual(machineShape('e2-micro'), { family: 'e2', vcpus: 0.25, gib: 1 });
  assert.deepEqual(machineShape('c2-standard-8'), { family: 'c2', vcpus: 8, gib: 32 });
  for (const t of ['n2-custom-4-16384', 'g2-standard-4', 'a2-highgpu-1g', 'c2-highmem-4']) assert.equal(machineShape(t), undefined, t);
});

test('on-demand: Core × vCPUs + Ram × GiB of the family and region, every page read, cached a day', async () => {
  let t = Date.UTC(2026, 11, 2);
  const book = new PriceBook(lookup({}, { now: () => t }), () => t);
  const n = calls.length;
  const q = await book.quote(resource(), { instanceType: 'n2-standard-4', zone: 'us-central1-a', market: 'on-demand' });
  near(q.pricePerHour, 4 * 0.031611 + 16 * 0.004237); // $0.194236/h, n2-standard-4's list price in us-central1
  assert.deepEqual({ source: q.source, zone: q.zone }, { source: 'gcp billing catalog', zone: 'us-central1-a' });
  assert.deepEqual(calls.slice(n).map((c) => c.url.searchParams.get('pageToken')), [null, 'page-2-token'], 'both pages asked, in order');
  assert.equal(calls.at(-1)!.authorization, undefined, 'no credentials sent to a plain-http endpoint');
  // Another region's SKUs; the N1 Core's last tier (its first is free).
  near((await book.quote(resource(), { instanceType: 'n2-standard-2', zone: 'europe-west1-b', market: 'on-demand' })).pricePerHour,
    2 * 0.034806 + 8 * 0.004666);
  near((await book.quote(resource(), { instanceType: 'n1-standard-2', zone: 'us-central1-a', market: 'on-demand' })).pricePerHour,
    2 * 0.031611 + 7.5 * 0.004237);
  assert.equal(calls.length, n + 2, 'one listing serves the look-ups of a few minutes');
  t += ON_DEMAND_TTL_MS - 1;
  await book.quote(resource(), { instanceType: 'n2-standard-4', zone: 'us-central1-a', market: 'on-demand' });
  assert.equal(calls.length, n + 2, 'answered from the price book');
  t += 2;
  await book.quote(resource(), { instanceType: 'n2-standard-4', zone: 'us-central1-a', market: 'on-demand' });
  assert.equal(calls.length, n + 4, 'listed again after a day');
});

test('spot: the Preemptible SKUs; a typed price wins', async () => {
  const book = new PriceBook(lookup());
  const q = await book.quote(resource({ spot: true }), { instanceType: 'n2-standard-4', zone: 'us-central1-f', market: 'spot' });
  near(q.pricePerHour, 4 * 0.007653 + 16 * 0.001025);
  assert.equal(q.source, 'gcp billing catalog (spot)');
  const typed = await book.quote(resource({ pricePerHour: 0.5 }), { instanceType: 'n2-standard-4', zone: 'us-central1-a', market: 'on-demand' });
  assert.deepEqual({ price: typed.pricePerHour, source: typed.source }, { price: 0.5, source: 'config' });
});

test('no price: custom, GPU-carrying and unpriced types, or a refused listing, are refused clearly, never 0', async () => {
  const book = new PriceBook(lookup({}, { withAccelerators: new Set(['n1-standard-8']) }));
  const refused = (type: string, zone: string, re: RegExp) =>
    assert.rejects(book.quote(resource({ instanceType: type }), { instanceType: type, zone, market: 'on-demand' }),
      (e: Error) => e instanceof NoPriceError && re.test(e.message));
  await refused('n2-custom-4-16384', 'us-central1-a', /^resource cpu: no on-demand price for n2-custom-4-16384 in us-central1-a from gcp billing catalog; set pricePerHour$/);
  await refused('n1-standard-8', 'us-central1-a', /no on-demand price for n1-standard-8 .*set pricePerHour/); // its GPUs are billed apart
  await refused('e2-standard-4', 'us-central1-a', /no on-demand price for e2-standard-4/); // no E2 SKU in the answer
  await refused('n2-standard-4', 'asia-east1-a', /no on-demand price for n2-standard-4 in asia-east1-a/);
  // A fresh look-up (the one above keeps its listing a few minutes) whose listing is refused.
  const fresh = new PriceBook(lookup());
  failWith = 403;
  try {
    await assert.rejects(fresh.quote(resource(), { instanceType: 'n2-standard-8', zone: 'us-central1-a', market: 'on-demand' }), (e: Error) => e instanceof NoPriceError &&
      /looking up the on-demand price of n2-standard-8 failed \(Cloud Billing Catalog answered HTTP 403: .*PERMISSION_DENIED.*\); set pricePerHour or fix the access/.test(e.message));
  } finally {
    failWith = undefined;
  }
  // The failed listing is not kept: the next look-up lists again and succeeds.
  assert.ok((await fresh.quote(resource(), { instanceType: 'n2-standard-8', zone: 'us-central1-a', market: 'on-demand' })).pricePerHour > 0);
});

test('apply: a gcp resource may leave out pricePerHour', () => {
  const cfg = AppConfigSchema.parse({ name: 'g', provider: { kind: 'gcp', settings: settings() }, queues: { q: ['cpu'] },
    resources: [{ name: 'cpu', instanceType: 'n2-standard-4', maxInstances: 1, zones: ['us-central1-a'] }] });
  assert.deepEqual(validateProviderSettings(cfg), []);
  const bad = AppConfigSchema.parse({ ...cfg, provider: { kind: 'gcp', settings: settings({ billingEndpoint: 'not a url' }) } });
  assert.deepEqual(validateProviderSettings(bad).map((i) => i.field), ['provider.settings.billingEndpoint']);
});

describe('a gcp app whose price cannot be had does not start', { concurrency: true }, () => {
  for (const dialect of DIALECTS) test(dialect, async () => {
    const cfg = AppConfigSchema.parse({ name: 'gnoprice', provider: { kind: 'gcp', settings: settings() }, queues: { q: ['cpu'] },
      resources: [{ name: 'cpu', instanceType: 'n2-custom-4-16384', maxInstances: 2, zones: ['us-central1-a'] }] });
    assert.match(await notStartedReason(dialect, cfg),
      /^app gnoprice not started: resource cpu: no on-demand price for n2-custom-4-16384 in us-central1-a from gcp billing catalog; set pricePerHour$/);
  });
});
