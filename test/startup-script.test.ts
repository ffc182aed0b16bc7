// Runs the rendered start-up script for real with bash, against a loopback fake of the control plane's
// bootstrap endpoints and of the cloud metadata servers (EC2 IMDSv2, GCE). The "agent" in the bundle
// records how it was started instead of working.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { renderStartupScript, type Cloud } from '../src/autoscaler/startup/index.js';

const BOOT = 'boot-tok-0123456789abcdef0123456789';
const AGENT = 'agent-secret-9f8e7d6c5b4a39281706';
let root: string;
let bundle: Buffer;
let server: Server;
let url: string;
const seen = { bundleAuth: [] as (string | undefined)[], exchanges: [] as { auth?: string; body: string }[] };

function makeBundle(dir: string): Buffer {
  const src = join(dir, 'bundle-src');
  mkdirSync(join(src, 'dist/src/cli'), { recursive: true });
  writeFileSync(join(src, 'package.json'), JSON.stringify({ name: 'flotilla', version: '0.1.0' }));
  writeFileSync(
    join(src, 'dist/src/cli/main.js'),
    `require('fs').writeFileSync(require('path').join(__dirname, '../../../ran.json'), JSON.stringify({
      argv: process.argv.slice(2), envToken: process.env.FLOTILLA_TOKEN ?? null, boot: process.env.BOOTSTRAP_TOKEN ?? null,
      token: require('fs').readFileSync(process.argv[process.argv.indexOf('--token-file') + 1], 'utf8') }));
    process.exit(Number(process.env.FAKE_AGENT_EXIT ?? 0));\n`,
  );
  const out = join(dir, 'bundle.tar.gz');
  const r = spawnSync('tar', ['-czf', out, '-C', src, '.']);
  assert.equal(r.status, 0, String(r.stderr));
  return readFileSync(out);
}

const body = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
  });

/** One loopback server: control plane bootstrap endpoints, EC2 IMDSv2 and the GCE metadata server. */
async function handle(req: IncomingMessage): Promise<[number, string | Buffer]> {
  const path = req.url ?? '';
  if (req.method === 'PUT' && path === '/latest/api/token')
    return req.headers['x-aws-ec2-metadata-token-ttl-seconds'] ? [200, 'imds-session'] : [400, ''];
  if (path === '/latest/meta-data/instance-id')
    return req.headers['x-aws-ec2-metadata-token'] === 'imds-session' ? [200, 'i-0abc123'] : [401, ''];
  if (path.startsWith('/computeMetadata/v1/instance/')) {
    if (req.headers['metadata-flavor'] !== 'Google') return [403, ''];
    return path.endsWith('/name') ? [200, 'fl-tok-1'] : [200, 'projects/123/zones/us-central1-a'];
  }
  if (path === '/api/v1/bootstrap/bundle') {
    seen.bundleAuth.push(req.headers.authorization);
    return req.headers.authorization === `Bearer ${BOOT}` ? [200, bundle] : [401, ''];
  }
  if (path === '/api/v1/bootstrap/exchange' && req.method === 'POST') {
    seen.exchanges.push({ auth: req.headers.authorization, body: await body(req) });
    const ok = req.headers.authorization === `Bearer ${BOOT}`;
    return ok ? [200, JSON.stringify({ token: AGENT })] : [401, '{"error":"bad token"}'];
  }
  return [404, ''];
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'flotilla-startup-'));
  bundle = makeBundle(root);
  server = createServer((req, res) => {
    void handle(req).then(([status, payload]) => {
      res.writeHead(status);
      res.end(payload);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

function run(script: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

function render(cloud: Cloud, dir: string, extraScript?: string, more: Partial<Parameters<typeof renderStartupScript>[0]> = {}): string {
  return renderStartupScript({
    ...more,
    cloud,
    serverUrl: url,
    bootstrapToken: BOOT,
    version: '0.1.0',
    appId: 'app1',
    resource: 'cpu',
    queues: ['q1', 'q2'],
    image: 'localhost/flotilla-test:latest',
    agentArgs: ['--idle-exit', '600'],
    extraScript,
    metadataUrl: url,
    installDir: join(dir, 'opt'),
    stateDir: join(dir, 'etc'),
    supervisor: 'exec',
  });
}

for (const [cloud, instanceId] of [
  ['aws', 'i-0abc123'],
  ['gcp', 'us-central1-a/fl-tok-1'],
] as const)
  test(`${cloud}: fetches the bundle, trades the token once, starts the agent as the instance`, async () => {
    seen.bundleAuth.length = 0;
    seen.exchanges.length = 0;
    const dir = mkdtempSync(join(root, `${cloud}-`));
    const marker = join(dir, 'extra-ran');
    const script = render(cloud, dir, `echo "app script ran" > '${marker}'\n`);
    const first = await run(script);
    assert.equal(first.code, 0, first.output);

    assert.deepEqual(seen.bundleAuth, [`Bearer ${BOOT}`]);
    assert.deepEqual(seen.exchanges, [{ auth: `Bearer ${BOOT}`, body: JSON.stringify({ instanceId }) }]);
    assert.equal(readFileSync(marker, 'utf8'), 'app script ran\n');
    const ran = JSON.parse(readFileSync(join(dir, 'opt/agent-0.1.0/ran.json'), 'utf8'));
    assert.deepEqual(ran.argv, [
      'agent', '--server', url, '--queue', 'q1,q2', '--worker-id', instanceId, '--instance-id', instanceId,
      '--app', 'app1', '--resource', 'cpu', '--interruptions', cloud, '--metadata-url', url, '--docker', 'localhost/flotilla-test:latest', '--idle-exit', '600',
      '--token-file', join(dir, 'etc/agent-token'),
    ]);
    assert.equal(ran.token, AGENT, 'the agent token arrives by its 0600 file');
    assert.equal(ran.envToken, null, 'and not in the environment (a process-mode task could read /proc/PPID/environ)');
    assert.equal(ran.boot, null, 'the bootstrap token is not passed on');

    const tokenFile = join(dir, 'etc/agent-token');
    assert.equal(readFileSync(tokenFile, 'utf8'), AGENT);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'etc')).mode & 0o777, 0o700);
    assert.ok(!existsSync(join(dir, 'etc/bootstrap.header')), 'the header file is removed');
    assert.ok(!existsSync(join(dir, 'etc/exchange.json')), 'the exchange answer is removed');
    assert.ok(!first.output.includes(BOOT) && !first.output.includes(AGENT), 'no token in the boot log');

    // A second boot (GCE runs the script on every boot): no new trade, the agent starts again.
    rmSync(join(dir, 'opt/agent-0.1.0/ran.json'));
    const second = await run(script);
    assert.equal(second.code, 0, second.output);
    assert.equal(seen.exchanges.length, 1);
    assert.equal(JSON.parse(readFileSync(join(dir, 'opt/agent-0.1.0/ran.json'), 'utf8')).token, AGENT);
  });

test('a refused bootstrap token stops the boot with a clear message and no agent', async () => {
  const dir = mkdtempSync(join(root, 'refused-'));
  const script = render('aws', dir).replace(`BOOTSTRAP_TOKEN='${BOOT}'`, `BOOTSTRAP_TOKEN='${BOOT}x'`);
  // retry() would try 30 times; the bundle is refused on the first answer, so cap the wait with a short loop.
  const quick = script.replace('[ "$n" -ge 30 ]', '[ "$n" -ge 1 ]');
  const r = await run(quick);
  assert.notEqual(r.code, 0);
  assert.match(r.output, /FAILED: cannot fetch the agent bundle/);
  assert.ok(!existsSync(join(dir, 'etc/agent-token')));
});

test('an agent that gave up on its unreachable control plane (exit 69) powers the machine off; any other end does not', async () => {
  const dir = mkdtempSync(join(root, 'unreachable-'));
  const marker = join(dir, 'powered-off');
  const script = render('aws', dir, undefined, { exitIfUnreachableS: 1800, powerOff: `echo off > '${marker}'` });
  const gaveUp = await run(script, { FAKE_AGENT_EXIT: '69' });
  assert.equal(gaveUp.code, 69, gaveUp.output);
  assert.match(gaveUp.output, /the agent gave up on its unreachable control plane; powering this machine off/);
  assert.equal(readFileSync(marker, 'utf8'), 'off\n');
  const argv: string[] = JSON.parse(readFileSync(join(dir, 'opt/agent-0.1.0/ran.json'), 'utf8')).argv;
  assert.deepEqual(argv.slice(argv.indexOf('--exit-if-unreachable'), argv.indexOf('--exit-if-unreachable') + 2), ['--exit-if-unreachable', '1800']);

  rmSync(marker);
  for (const code of ['0', '1']) {
    const other = await run(script, { FAKE_AGENT_EXIT: code });
    assert.equal(other.code, Number(code), other.output);
    assert.ok(!existsSync(marker), `exit ${code} leaves the machine on (systemd restarts a failed agent)`);
  }
  const real = renderStartupScript({ cloud: 'aws', serverUrl: url, bootstrapToken: BOOT, version: '0.1.0', appId: 'a', resource: 'r', queues: ['q'] });
  assert.match(real, /RestartPreventExitStatus=69/, 'under systemd: no restart after giving up');
  assert.match(real, /systemctl poweroff/, 'and a real power-off by default');
});
