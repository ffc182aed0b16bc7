// An app's credentialsSecret, sealed in a real store, reaches its provider decrypted (both stores);
// a missing or wrong secret names the field and the fix, and is picked up once fixed, with no restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Store } from '../src/store/index.js';
import { secretVault, type SecretVault } from '../src/server/secrets/vault.js';
import { PROVIDERS, awsProvider } from '../src/autoscaler/providers/index.js';
import { providerForApp } from '../src/autoscaler/manager.js';
import { cloudAutoscaling, providerCredentials } from '../src/server/cloud-autoscaling.js';
import { timingsOf } from '../src/server/main.js';
import { AppConfigSchema, type AppConfig } from '../src/domain/autoscaler/config.js';
import type { AwsProvider } from '../src/autoscaler/providers/aws/index.js';
import type { GcpProvider } from '../src/autoscaler/providers/gcp/index.js';
import { createTestDb, DIALECTS, type TestDb } from './support/stores.js';

const app = (kind: 'aws' | 'gcp', settings: Record<string, unknown>): AppConfig => AppConfigSchema.parse({
  name: `${kind}-app`, provider: { kind, settings }, queues: { q: ['r'] },
  resources: [{ name: 'r', instanceType: 't3.micro', pricePerHour: 0.01, maxInstances: 1, zones: ['z-a'], launch: { ami: 'ami-1' } }],
});
const key = JSON.stringify({ client_email: 'w@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nx\n' });

for (const dialect of DIALECTS) {
  describe(`provider credentials from the secrets vault (${dialect})`, () => {
    let db: TestDb;
    let store: Store;
    let vault: SecretVault;
    let dir: string;
    before(async () => {
      db = await createTestDb(dialect);
      store = await Store.open(db.url);
      dir = mkdtempSync(join(tmpdir(), 'flotilla-creds-'));
      vault = secretVault(store, dir, {});
    });
    after(async () => {
      await store?.close();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('aws and gcp secrets become the credentials each provider expects', async () => {
      await vault.put('aws-prod', 'aws', { accessKeyId: 'AKIA1', secretAccessKey: 's3cret', region: 'eu-west-1' });
      await vault.put('gcp-prod', 'gcp', { serviceAccountJson: key, projectId: 'p' });
      const awsCfg = app('aws', { region: 'us-east-1', credentialsSecret: 'aws-prod' });
      const aws = (await PROVIDERS.create(awsCfg, { dataDir: dir, credentials: await providerCredentials(vault, awsCfg) })) as AwsProvider;
      assert.deepEqual(aws.settings.credentials, { accessKeyId: 'AKIA1', secretAccessKey: 's3cret' });
      await aws.close();
      const gcpCfg = app('gcp', { project: 'p', credentialsSecret: 'gcp-prod' });
      const gcp = (await PROVIDERS.create(gcpCfg, { dataDir: dir, credentials: await providerCredentials(vault, gcpCfg) })) as GcpProvider;
      assert.equal(gcp.settings.credentials, key);
      await gcp.close();
      assert.equal(await providerCredentials(vault, app('aws', { region: 'r' })), undefined, 'no secret: the SDK default chain');
    });

    test('a missing secret names the field and the fix; once created it is used without a restart', async () => {
      const cfg = app('aws', { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentialsSecret: 'later', throttleRetries: 0 });
      await assert.rejects(providerCredentials(vault, cfg),
        /app "aws-app" provider.settings.credentialsSecret names secret "later", which does not exist: create it with `flotilla secret set later --kind aws`/);
      const provider = await providerForApp(awsProvider, cfg, { dataDir: dir, ...cloudAutoscaling(vault) });
      await assert.rejects(provider.list('aws-app'), /names secret "later", which does not exist/);
      await vault.put('later', 'aws', { accessKeyId: 'AKIA2', secretAccessKey: 'x' });
      // Now the provider is built: the call goes to the (closed) loopback endpoint, not to the vault error.
      await assert.rejects(provider.list('aws-app'), (e: Error) => !/does not exist/.test(e.message));
      await provider.close?.();
      await vault.put('git-one', 'git', { username: 'u', password: 'p' });
      await assert.rejects(providerCredentials(vault, app('aws', { region: 'r', credentialsSecret: 'git-one' })),
        /names secret "git-one" of kind git; it must be of kind aws/);
    });
  });
}

test('FLOTILLA_TIMINGS sets the control plane\'s timings, loses to options and --lease-ttl, and names the bad key', () => {
  const t = timingsOf({ env: { FLOTILLA_TIMINGS: '{"tickMs":200,"listEveryMs":100,"leaseTtlMs":8000}' } });
  assert.equal(t.tickMs, 200);
  assert.equal(t.listEveryMs, 100);
  assert.equal(t.heartbeatMs, 2000, 'the heartbeat follows the lease');
  assert.equal(timingsOf({ env: { FLOTILLA_TIMINGS: '{"tickMs":200}' }, timings: { tickMs: 50 } }).tickMs, 50);
  assert.equal(timingsOf({ env: { FLOTILLA_TIMINGS: '{"leaseTtlMs":8000}' }, leaseTtlS: 2 }).leaseTtlMs, 2000);
  assert.equal(timingsOf({ env: {} }).tickMs, 10_000);
  assert.throws(() => timingsOf({ env: { FLOTILLA_TIMINGS: '{"tick":1}' } }), /^Error: FLOTILLA_TIMINGS: unknown key "tick"; did you mean "tickMs"\?/);
  assert.throws(() => timingsOf({ env: { FLOTILLA_AUTOSCALER_TIMINGS: '{"tickMs":1}' } }), /FLOTILLA_AUTOSCALER_TIMINGS is now FLOTILLA_TIMINGS/);
});
