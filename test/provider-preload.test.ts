// A cloud SDK takes 2–4 s to load: it is loaded when an app of its kind is applied (or found at start), not on the
// first launch, so the first task does not wait for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startControlPlane } from '../src/server/main.js';
import { FlotillaClient } from '../src/client/index.js';
import { PROVIDERS, awsProvider, gcpProvider, type ProviderRecord } from '../src/autoscaler/providers/index.js';
import { waitFor } from './support/wait.js';

test('the aws and gcp records preload their SDK module', async () => {
  for (const record of [awsProvider, gcpProvider]) {
    assert.ok(record.preload, `${record.name} has preload`);
    const mod = (await record.preload()) as Record<string, unknown>;
    assert.equal(typeof mod[record.name === 'aws' ? 'createAwsProvider' : 'createGcpProvider'], 'function');
  }
});

test('applying an app preloads its provider once, before any task, and at the next start again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-preload-'));
  const calls = { preload: 0, create: 0 };
  const record: ProviderRecord = {
    ...awsProvider,
    preload: async () => void calls.preload++,
    create: async () => {
      calls.create++;
      throw new Error('not in this test');
    },
  };
  const start = () => startControlPlane({
    dataDir: dir, port: 0, logLevel: 'silent', autoscaler: { providers: PROVIDERS.with(record), log: () => {} },
  });
  let cp: Awaited<ReturnType<typeof start>> | undefined;
  try {
    cp = await start();
    const client = new FlotillaClient(cp.url, cp.adminToken!);
    const app = parse(readFileSync('deploy/examples/aws-moto.yaml', 'utf8'));
    await client.request('PUT', '/api/v1/autoscalers/aws-moto', app);
    await waitFor('preload on apply', () => calls.preload === 1, 5000);
    await client.request('PUT', '/api/v1/autoscalers/aws-moto-2', { ...app, name: 'aws-moto-2' });
    await waitFor('the second app loaded', async () => (await client.request<{ apps: unknown[] }>('GET', '/api/v1/autoscalers')).apps.length === 2);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(calls.preload, 1, 'once per provider kind');
    await cp.close();
    cp = undefined;
    cp = await start();
    await waitFor('preload at start', () => calls.preload === 2);
  } finally {
    await cp?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
