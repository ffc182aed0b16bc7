// A cloud endpoint that accepts connections and never answers: the provider's call fails within its timeouts
// (and the SDK's retries) instead of holding the app's reconciler pass forever.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createAwsProvider } from './index.js';
import { ec2ClientFor } from './provider.js';

let server: Server;
const sockets: Socket[] = [];
let endpoint: string;
before(async () => {
  server = createServer((s) => void sockets.push(s)); // reads the request, answers nothing
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

test('a silent EC2 endpoint: listing fails with a timeout, after the SDK retried, and nothing hangs', async () => {
  const settings = { region: 'us-east-1', endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, throttleRetries: 0, spotRequestGraceS: 60 };
  const provider = createAwsProvider(settings, { client: ec2ClientFor(settings, { requestTimeout: 300 }) });
  const started = Date.now();
  await assert.rejects(provider.list('app1'), (e: Error) => e.name === 'TimeoutError' || /timed? ?out/i.test(e.message));
  assert.ok(sockets.length >= 2, `the SDK retried on a new connection (${sockets.length} seen)`);
  // Bounded by 3 attempts of 300 ms plus back-off; without a timeout this call never returned.
  assert.ok(Date.now() - started < 20_000);
});
