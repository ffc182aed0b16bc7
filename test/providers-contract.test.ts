// The provider contract: the same cases against every provider of PROVIDERS, each on the most real thing this
// machine has: simulated (its SimCloud), local (real child processes), aws (the real @aws-sdk/client-ec2 against a
// moto_server), gcp (the real @google-cloud/compute client against the in-repo Compute fake). Capacity errors are
// injected as each allows: SDK middleware (aws), a fault of the fake (gcp), a `noCapacity` fault (simulated); the
// local provider has none to inject (capabilities.capacityErrors is false) and the case says so.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { AppConfigSchema, type AppConfig } from '../src/domain/autoscaler/config.js';
import { PROVIDERS, type ProviderRecord } from '../src/autoscaler/providers/index.js';
import { CapacityError, TAG, type ComputeProvider, type LaunchRequest, type Offering, type ProviderInstance } from '../src/autoscaler/providers/types.js';
import { SimCloud, SimulatedProvider, VirtualClock } from '../src/autoscaler/providers/simulated/index.js';
import { LocalProvider } from '../src/autoscaler/providers/local/index.js';
import { startMoto, type Moto } from './helpers/moto.js';
import { startFakeGce, type FakeGce } from './fakes/gce/server.js';
import { waitFor } from './support/wait.js';

/** What the cases need of one provider's world. */
interface World {
  record: ProviderRecord;
  /** provider.settings and one resource's launch block for an app on this world. */
  settings: Record<string, unknown>;
  launch: Record<string, unknown>;
  offering: Offering;
  /** A new provider object on the same world (a restarted control plane's). */
  make(): Promise<ComputeProvider>;
  /** A provider whose next launch on the returned offering fails for lack of capacity, as the cloud would say it. */
  capacity?(): Promise<{ provider: ComputeProvider; offering: Offering }>;
  close(): Promise<void>;
}

interface Contract {
  name: string;
  open(): Promise<World>;
}

const ONE_HOUR = 3_600_000;
const noWait = { sleep: async () => {} };

const contracts: Contract[] = [
  {
    name: 'simulated',
    async open() {
      const clock = new VirtualClock(ONE_HOUR);
      const cloud = new SimCloud(7);
      const noCapacity: Offering = { instanceType: 'sold-out', zone: 'z-a', market: 'spot' };
      return {
        record: PROVIDERS.get('simulated'), settings: { seed: 7 }, launch: {},
        offering: { instanceType: 'small', zone: 'z-a', market: 'on-demand' },
        make: async () => new SimulatedProvider({ clock, cloud }),
        capacity: async () => ({
          provider: new SimulatedProvider({ clock, faults: { capacityErrorRate: 0, spotInterruptionsPerHour: 0, noCapacity: [noCapacity] } }),
          offering: noCapacity,
        }),
        close: async () => {},
      };
    },
  },
  {
    name: 'local',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'flotilla-contract-local-'));
      const cliEntry = resolve(import.meta.dirname, 'support/idle-process.mjs');
      return {
        record: PROVIDERS.get('local'), settings: {}, launch: {},
        offering: { instanceType: 'local-process', market: 'on-demand' },
        make: async () => new LocalProvider({ logDir: join(dir, 'workers'), cliEntry }),
        close: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'aws',
    async open() {
      const moto: Moto = await startMoto();
      const settings = { region: 'us-east-1', endpoint: moto.url, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
      const aws = await import('../src/autoscaler/providers/aws/index.js');
      return {
        record: PROVIDERS.get('aws'), settings, launch: { ami: 'ami-785db401' },
        offering: { instanceType: 't3.micro', market: 'on-demand' },
        make: async () => aws.createAwsProvider(settings, { backoff: noWait }),
        capacity: async () => {
          // moto has no fault injection: the real client gets the error EC2 answers, from SDK middleware.
          const client = aws.ec2ClientFor(aws.AwsSettingsSchema.parse(settings));
          client.middlewareStack.add((next, ctx) => async (args) => {
            if (ctx.commandName === 'RunInstancesCommand' && (args.input as { InstanceMarketOptions?: unknown }).InstanceMarketOptions)
              throw new EC2ServiceException({ name: 'InsufficientInstanceCapacity', $fault: 'server',
                message: 'We currently do not have sufficient t3.micro capacity', $metadata: { httpStatusCode: 500 } });
            return next(args);
          }, { step: 'initialize', name: 'faultInjector' });
          return { provider: aws.createAwsProvider(settings, { client, backoff: noWait }), offering: { instanceType: 't3.micro', market: 'spot' } };
        },
        close: () => moto.stop(),
      };
    },
  },
  {
    name: 'gcp',
    async open() {
      const fake: FakeGce = await startFakeGce();
      const settings = { project: 'proj', zone: 'us-central1-a', apiEndpoint: '127.0.0.1', port: fake.port, protocol: 'http' };
      const gcp = await import('../src/autoscaler/providers/gcp/index.js');
      const offering: Offering = { instanceType: 'n1-standard-1', zone: 'us-central1-a', market: 'on-demand' };
      return {
        record: PROVIDERS.get('gcp'), settings, launch: { diskSizeGb: 10 }, offering,
        make: async () => gcp.createGcpProvider(settings, { backoff: noWait }),
        capacity: async () => {
          // The fake answers the insert with a DONE operation carrying GCE's error, as GCE does.
          const exhausted: Offering = { ...offering, zone: 'us-central1-f', market: 'spot' };
          fake.state.inject({ method: 'insert', zone: 'us-central1-f', operationError: { code: 'ZONE_RESOURCE_POOL_EXHAUSTED' } });
          return { provider: gcp.createGcpProvider(settings, { backoff: noWait }), offering: exhausted };
        },
        close: () => fake.close(),
      };
    },
  },
];

/** Lower-case letters and digits: a token every provider can carry as it is (GCE names, labels). */
const token = () => `c${randomBytes(6).toString('hex')}`;

function request(w: World, appId: string, clientToken = token(), offering = w.offering): LaunchRequest {
  return {
    appId, resource: 'r', clientToken, offering, launch: w.launch,
    startupScript: '#!/bin/sh\ntrue\n',
    agent: { server: 'http://127.0.0.1:9', token: 'unused', queues: ['q'], args: [] },
    tags: { [TAG.app]: appId, [TAG.resource]: 'r', [TAG.instance]: clientToken, [TAG.controlPlane]: 'cp-contract' },
  };
}

const alive = (xs: ProviderInstance[]) => xs.filter((x) => x.state !== 'terminated' && x.state !== 'stopping');

for (const c of contracts) {
  if (!PROVIDERS.find(c.name)) throw new Error(`no record for ${c.name}`);
  describe(`provider contract: ${c.name}`, () => {
    let w: World;
    const made: ComputeProvider[] = [];
    const apps = new Set<string>();
    const provider = async () => {
      const p = await w.make();
      made.push(p);
      return p;
    };
    const app = (what: string) => {
      const a = `${c.name}-${what}-${randomBytes(3).toString('hex')}`;
      apps.add(a);
      return a;
    };

    before(async () => {
      w = await c.open();
    });
    after(async () => {
      // Nothing outlives the test: local workers are real processes.
      const p = await provider();
      for (const a of apps) await p.terminate(alive(await p.list(a)).map((x) => x.providerId)).catch(() => undefined);
      for (const x of made) await x.close?.().catch(() => undefined);
      await w?.close();
    });

    test('the record validates its settings and creates a provider of its kind', async () => {
      const cfg: AppConfig = AppConfigSchema.parse({
        name: app('record'), provider: { kind: c.name, settings: w.settings }, queues: { q: ['r'] },
        resources: [{ name: 'r', instanceType: w.offering.instanceType, pricePerHour: 0.1, maxInstances: 1,
          ...(w.offering.zone ? { zones: [w.offering.zone] } : {}), launch: w.launch }],
      });
      assert.deepEqual(PROVIDERS.validate(cfg), []);
      const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-contract-'));
      try {
        const p = await w.record.create(cfg, { dataDir });
        assert.equal(p.kind, c.name);
        await p.close?.();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    test('launch, then list by tags: this app\'s instances only, with token, resource and tags', async () => {
      const p = await provider();
      const mine = app('list');
      const other = app('other');
      const req = request(w, mine);
      const launched = await p.launch(req);
      assert.ok(launched.providerId);
      assert.deepEqual(launched.offering, req.offering);
      await p.launch(request(w, other));
      const listed = await p.list(mine);
      assert.equal(listed.length, 1, JSON.stringify(listed));
      const [one] = listed;
      assert.equal(one.providerId, launched.providerId);
      assert.equal(one.clientToken, req.clientToken);
      assert.equal(one.resource, 'r');
      assert.equal(one.tags[TAG.app], mine);
      assert.equal(one.tags[TAG.controlPlane], 'cp-contract');
      assert.ok(['pending', 'running'].includes(one.state), one.state);
      assert.equal(alive(await p.list(other)).length, 1);
    });

    test('terminate: the instance leaves the live list', async () => {
      const p = await provider();
      const a = app('term');
      const { providerId } = await p.launch(request(w, a));
      const keep = await p.launch(request(w, a));
      await p.terminate([providerId]);
      await waitFor('the instance to be gone', async () => !alive(await p.list(a)).some((x) => x.providerId === providerId), 10_000, 50);
      assert.deepEqual(alive(await p.list(a)).map((x) => x.providerId), [keep.providerId]);
      await p.terminate([providerId]); // again: already gone is not an error
    });

    test('capacity error: a typed CapacityError carrying the offering', async (t) => {
      if (!w.record.capabilities.capacityErrors || !w.capacity)
        return t.skip(`${c.name} has no capacity errors (a process on this machine always starts): capabilities.capacityErrors is false`);
      const { provider: p, offering } = await w.capacity();
      made.push(p);
      const a = app('cap');
      const err = await p.launch(request(w, a, token(), offering)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CapacityError, `expected a CapacityError, got ${String(err)}`);
      assert.deepEqual(err.offering, offering);
      assert.ok(err.code);
      assert.deepEqual(alive(await p.list(a)), [], 'nothing launched');
    });

    test('idempotent launch: two launches with one client token make one instance', async () => {
      const p = await provider();
      const a = app('idem');
      const req = request(w, a);
      const first = await p.launch(req);
      const second = await p.launch(req);
      assert.equal(second.providerId, first.providerId);
      const listed = alive(await p.list(a));
      assert.deepEqual(listed.map((x) => [x.providerId, x.clientToken]), [[first.providerId, req.clientToken]]);
    });

    test('adoption after restart: a new provider object lists what the old one launched, with their tokens', async (t) => {
      if (!w.record.capabilities.adoption) return t.skip(`${c.name} cannot adopt: capabilities.adoption is false`);
      const old = await provider();
      const a = app('adopt');
      const reqs = [request(w, a), request(w, a)];
      const ids = new Map<string, string>();
      for (const r of reqs) ids.set(r.clientToken, (await old.launch(r)).providerId);
      await old.close?.();
      const fresh = await provider();
      const listed = alive(await fresh.list(a));
      assert.deepEqual(new Map(listed.map((x) => [x.clientToken!, x.providerId])), ids);
      // And the new one does not launch a token again.
      assert.equal((await fresh.launch(reqs[0])).providerId, ids.get(reqs[0].clientToken));
    });
  });
}
