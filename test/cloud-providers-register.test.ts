// The provider records: one registry (PROVIDERS) with every provider, each record's factory and apply-time
// validator, and the start-up script adapter renders from an app config.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { AppConfigSchema } from '../src/domain/autoscaler/config.js';
import type { AwsProvider } from '../src/autoscaler/providers/aws/index.js';
import type { GcpProvider } from '../src/autoscaler/providers/gcp/index.js';
import { PROVIDERS, ProviderRegistry, localProvider, validateProviderSettings } from '../src/autoscaler/providers/index.js';
import { startupScriptForApp } from '../src/autoscaler/startup/index.js';

const example = (file: string) => AppConfigSchema.parse(parse(readFileSync(`deploy/examples/${file}`, 'utf8')));

test('one registry holds every provider kind an app file may name, each once', () => {
  assert.deepEqual(PROVIDERS.names().sort(), [...AppConfigSchema.shape.provider.shape.kind.options].sort());
  assert.throws(() => PROVIDERS.get('azure'), /provider "azure" is not available in this build \(known: local, simulated, aws, gcp\)/);
  assert.throws(() => new ProviderRegistry([localProvider, localProvider]), /provider "local" is registered twice/);
  assert.equal(PROVIDERS.with({ ...localProvider, capabilities: { ...localProvider.capabilities, spot: true } }).get('local').capabilities.spot, true);
  assert.equal(PROVIDERS.get('local').capabilities.spot, false, 'with() copies');
});

test('the example apps have no provider issues', () => {
  assert.deepEqual(validateProviderSettings(example('aws-moto.yaml')), []);
  assert.deepEqual(validateProviderSettings(example('gcp.yaml')), []);
});

test('bad settings are reported with the field path a user writes', () => {
  const aws = example('aws-moto.yaml');
  aws.provider.settings = { regoin: 'x' };
  aws.resources[0].launch = { ami: 'centos', rootVolume: { type: 'gp9' } };
  const fields = validateProviderSettings(aws).map((i) => i.field);
  assert.ok(fields.includes('provider.settings.region'), fields.join());
  assert.ok(fields.includes('resources[0].launch.ami'), fields.join());
  assert.ok(fields.includes('resources[0].launch.rootVolume.type'), fields.join());
  const gcp = example('gcp.yaml');
  gcp.resources[1].zones = undefined;
  assert.deepEqual(validateProviderSettings(gcp).map((i) => i.field), ['resources[1].zones']);
});

test('the factory hands decrypted credentials to the provider', async () => {
  const creds = { accessKeyId: 'AKIA1', secretAccessKey: 's3cret' };
  const aws = (await PROVIDERS.create(example('aws-moto.yaml'), { dataDir: '/nonexistent', credentials: creds })) as AwsProvider;
  assert.equal(aws.kind, 'aws');
  assert.deepEqual(aws.settings.credentials, creds);
  await aws.close();
  const key = { client_email: 'w@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\n' };
  const gcp = (await PROVIDERS.create(example('gcp.yaml'), { dataDir: '/x', credentials: { json: JSON.stringify(key) } })) as GcpProvider;
  assert.equal(gcp.kind, 'gcp');
  assert.equal(gcp.settings.credentials, JSON.stringify(key));
  await gcp.close();
});

test('startupScriptForApp renders valid bash for the app, resource and queues', () => {
  const cfg = example('gcp.yaml');
  const script = startupScriptForApp({
    cfg,
    resource: cfg.resources[1],
    instanceId: 'inst-1',
    queues: ['cpu'],
    serverUrl: 'https://cp.example.com',
    bootstrapToken: 'flt_0123456789abcdefABCDEF-_',
  }, '1.2.3');
  assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0);
  assert.match(script, /Metadata-Flavor: Google/);
  assert.match(script, /FLOTILLA_VERSION='1.2.3'/);
  assert.match(script, /--queue 'cpu' .* --resource 'cpu' --interruptions gcp --metadata-url "\$METADATA_URL" --docker 'docker.io\/pytorch\/pytorch:2.4.0-cuda12.4-cudnn9-runtime'/);
});
