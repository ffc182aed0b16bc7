// What the server writes to its log per request: nothing at the default level (agents poll and report all
// the time), every request at debug.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFlotilla } from './support/flotilla-process.js';
import { waitFor } from './support/wait.js';
import { FlotillaClient } from '../src/client/index.js';

async function serverLog(level: string): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-log-'));
  const server = startFlotilla(['server', '--data-dir', dataDir, '--port', '0', '--log-level', level]);
  try {
    const url = await waitFor('the control plane to listen', () => /listening on (http:\/\/\S+)/.exec(server.output())?.[1], 60_000);
    const admin = new FlotillaClient(url, readFileSync(join(dataDir, 'admin-token'), 'utf8').trim());
    await admin.createQueue('logged');
    for (let i = 0; i < 5; i++) await admin.listQueues();
    // The queue creation and the five listings, at least.
    if (level === 'debug') await waitFor('the requests logged', () => (server.output().match(/request completed/g) ?? []).length >= 6, 10_000);
    return server.output();
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('at the default level a request leaves no log line; at debug each one does', async () => {
  const info = await serverLog('info');
  assert.match(info, /listening on/);
  assert.doesNotMatch(info, /incoming request|request completed/);
  assert.doesNotMatch(info, /Deprecation/, 'no warning at start');
  assert.match(await serverLog('debug'), /"url":"\/api\/v1\/queues"/);
});
