// `flotilla autoscaler apply -f` and `flotilla autoscaler render-startup`, run as a user runs them (the
// built CLI as a child process) against a real control plane.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../src/server/main.js';
import { PLACEHOLDER_TOKEN } from '../src/cli/commands/render-startup.js';
import { VERSION } from '../src/version.js';
import { PROVIDERS } from '../src/autoscaler/providers/index.js';

const CLI = resolve(import.meta.dirname, '../dist/src/cli/main.js');
let dir: string;
let cp: ControlPlane;

/** Async on purpose: the control plane it calls lives in this process. */
function flotilla(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, FLOTILLA_SERVER: cp.url, FLOTILLA_TOKEN: cp.adminToken, FLOTILLA_CONFIG: join(dir, 'none.json') },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

before(async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: build first with npx tsc -p tsconfig.json`);
  dir = mkdtempSync(join(tmpdir(), 'flotilla-render-'));
  // No cloud is called: the apps are only stored and rendered, their reconcilers see an empty cloud.
  const noCloud = async () => ({ kind: 'none', list: async () => [], terminate: async () => {},
    launch: async () => { throw new Error('this test launches nothing'); } });
  cp = await startControlPlane({ dataDir: join(dir, 'server'), port: 0, logLevel: 'silent', autoscaler: { providers: PROVIDERS.with(...PROVIDERS.records().map((r) => ({ ...r, create: noCloud }))) } });
});
after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the documented example applies with -f and its start-up script renders for review', async () => {
  const applied = await flotilla('autoscaler', 'apply', '-f', resolve('deploy/examples/aws-moto.yaml'));
  assert.equal(applied.code, 0, applied.stderr);
  const r = await flotilla('autoscaler', 'render-startup', 'aws-moto', '--resource', 'cpu-small');
  assert.equal(r.code, 0, r.stderr);
  const script = r.stdout;
  assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0, 'valid bash');
  assert.match(script, new RegExp(`^BOOTSTRAP_TOKEN='${PLACEHOLDER_TOKEN}'$`, 'm'));
  assert.match(script, new RegExp(`^FLOTILLA_SERVER='${cp.url}'$`, 'm'));
  assert.match(script, new RegExp(`^FLOTILLA_VERSION='${VERSION.replace(/\./g, '\\.')}'$`, 'm'));
  assert.match(script, /--queue 'aws-cpu'/);
  assert.match(script, /latest\/api\/token/, 'AWS identity through IMDSv2');
  assert.ok(!script.includes('flt_'), 'no real token in a review copy');

  const other = await flotilla('autoscaler', 'render-startup', 'aws-moto', '--resource', 'cpu-small', '--server-url', 'https://cp.example.com');
  assert.match(other.stdout, /^FLOTILLA_SERVER='https:\/\/cp.example.com'$/m);
});

test('an unknown resource or a local app is refused with the fix', async () => {
  const r = await flotilla('autoscaler', 'render-startup', 'aws-moto', '--resource', 'gpu');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--resource: app "aws-moto" has no resource "gpu"; it has: cpu-small/);
  await cp.store.apps.put({
    name: 'here', provider: { kind: 'local', settings: {} }, queues: { q: ['w'] }, budget: {},
    resources: [{ name: 'w', instanceType: 'process', spot: false, onDemandFallback: true, pricePerHour: 0, maxInstances: 1, launch: {} }],
    timings: { idleTimeoutS: 60, bootTimeoutS: 60, capacityCooldownS: 60, unreachableShutdownS: 0 }, execution: { agentArgs: [] },
  });
  const local = await flotilla('autoscaler', 'render-startup', 'here', '--resource', 'w');
  assert.equal(local.code, 1);
  assert.match(local.stderr, /uses provider local, which starts agents directly/);
});
