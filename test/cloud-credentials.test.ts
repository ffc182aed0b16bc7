// An app's credentialsSecret, sealed in a real store, reaches its provider decrypted (both stores);
// a missing or wrong secret names the field and the fix, and is picked up once fixed, with no restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Store } from '../src/store/index.js';
import { secretVault, type SecretVault } from '../src/server/secrets/vault.js';
import { createProvider } from '../src/autoscaler/providers/index.js';
import '../src/autoscaler/providers/aws/register.js';
import '../src/autoscaler/providers/gcp/register.js';
import { cloudAutoscaling, providerCredentials, timingsFromEnv } from '../src/server/cloud-autoscaling.js';
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
      const aws = (await createProvider(awsCfg, { dataDir: dir, credentials: await providerCredentials(vault, awsCfg) })) as AwsProvider;
      assert.deepEqual(aws.settings.credentials, { accessKeyId: 'AKIA1', secretAccessKey: 's3cret' });
      await aws.close();
      const gcpCfg = app('gcp', { project: 'p', credentialsSecret: 'gcp-prod' });
      const gcp = (await createProvider(gcpCfg, { dataDir: dir, credentials: await providerCredentials(vault, gcpCfg) })) as GcpProvider;
      assert.equal(gcp.settings.credentials, key);
      await gcp.close();
      assert.equal(await providerCredentials(vault, app('aws', { region: 'r' })), undefined, 'no secret: the SDK default chain');
    });

    test('a missing secret names the field and the fix; once created it is used without a restart', async () => {
      const cfg = app('aws', { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentialsSecret: 'later', throttleRetries: 0 });
      await assert.rejects(providerCredentials(vault, cfg),
        /app "aws-app" provider.settings.credentialsSecret names secret "later", which does not exist: create it with `flotilla secret set later --kind aws`/);
      const provider = await cloudAutoscaling(vault, dir, {}).providerFor!(cfg);
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

test('FLOTILLA_AUTOSCALER_TIMINGS sets the manager tick and reconciler timings, and names itself when wrong', () => {
  assert.deepEqual(timingsFromEnv({ FLOTILLA_AUTOSCALER_TIMINGS: '{"tickMs":200,"listEveryMs":100}' }),
    { tickMs: 200, reconciler: { listEveryMs: 100 } });
  assert.deepEqual(timingsFromEnv({}), {});
  assert.throws(() => timingsFromEnv({ FLOTILLA_AUTOSCALER_TIMINGS: '{"tick":1}' }), /^Error: FLOTILLA_AUTOSCALER_TIMINGS: /);
});
