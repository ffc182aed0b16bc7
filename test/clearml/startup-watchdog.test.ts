// The dead-man switch of a clearml-agent machine, run for real: the rendered start-up script runs with bash in a
// temporary folder, `clearml-agent` on PATH is a fake daemon (idle: no child; busy: a child `sleep` plays the task
// it runs, as the real one's `python -m clearml_agent execute`, see agent-idle.test.ts), the control plane is a
// loopback HTTP server answering /healthz, and the power-off writes a marker file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { clearmlStartupScript, type ClearmlStartupOptions } from '../../src/clearml/startup.js';
import { waitFor } from '../support/wait.js';

let root: string;
const started: number[] = []; // process groups to end: watchdogs (setsid) and fake daemons

before(() => { root = mkdtempSync(join(tmpdir(), 'flotilla-cm-watchdog-')); });
after(() => {
  for (const pid of started) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  rmSync(root, { recursive: true, force: true });
});

/** A control plane that answers /healthz 200 (or 503 once it fails) and counts the checks. */
async function controlPlane() {
  let n = 0;
  let status = 200;
  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz') n++;
    res.writeHead(req.url === '/healthz' ? status : 404).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    checks: () => n,
    fail: () => { status = 503; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A machine: its folders, a fake clearml-agent on PATH, the marker its power-off writes. */
function machine(name: string, busy: boolean) {
  const dir = mkdtempSync(join(root, `${name}-`));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(dir, 'log'));
  // exec: the daemon's PID is the one the script records ($!), as with pip's clearml-agent script.
  writeFileSync(join(bin, 'clearml-agent'), busy
    ? `#!/bin/bash\nsleep 600 & echo $! > '${dir}/task.pid'\nwait\nexec sleep 600\n`
    : '#!/bin/bash\nexec sleep 600\n');
  chmodSync(join(bin, 'clearml-agent'), 0o755);
  return { dir, bin, marker: join(dir, 'powered-off'), log: () => readOr(join(dir, 'log/flotilla-watchdog.log')) };
}

const readOr = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

function render(m: ReturnType<typeof machine>, serverUrl: string, more: Partial<ClearmlStartupOptions> = {}): string {
  return clearmlStartupScript({
    launch: { workerId: 'app:cpu:i-1', queues: ['train'], args: [], conf: (work) => `agent.worker_dir: ${work}\n` },
    serverUrl,
    unreachableShutdownS: 2,
    checkS: 1,
    powerOff: `echo off > '${m.marker}'`,
    dir: join(m.dir, 'opt'),
    logDir: join(m.dir, 'log'),
    ...more,
  });
}

/** Runs the start-up script to its end; the daemon and the watchdog it started stay behind. */
async function boot(m: ReturnType<typeof machine>, script: string): Promise<void> {
  const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${m.bin}:${process.env.PATH}` } });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 0, out);
  for (const f of ['clearml-agent.pid', 'watchdog.pid']) {
    const p = join(m.dir, 'opt', f);
    if (existsSync(p)) started.push(Number(readFileSync(p, 'utf8')));
  }
}

test('control plane up: no power-off; gone while idle: the machine powers itself off', async () => {
  const cp = await controlPlane();
  const m = machine('idle', false);
  await boot(m, render(m, cp.url));
  // Twice the limit's worth of checks, all answered: the machine stays on.
  await waitFor('4 health checks', () => cp.checks() >= 4, 20_000);
  assert.ok(!existsSync(m.marker), `no power-off while the control plane answers\n${m.log()}`);

  await cp.close();
  await waitFor('the power-off', () => existsSync(m.marker), 20_000);
  assert.match(m.log(), /control plane unreachable/);
  assert.match(m.log(), /clearml-agent is idle: powering this machine off/);
});

test('a daemon running a task (it has a child) keeps the machine on until the task ends; a 503 counts as unreachable', async () => {
  const cp = await controlPlane();
  const m = machine('busy', true);
  await boot(m, render(m, cp.url));
  await waitFor('a health check', () => cp.checks() >= 1, 20_000);
  cp.fail();
  const from = cp.checks();
  await waitFor('the watchdog to wait for the task', () => /running a task: waiting for it to end/.test(m.log()), 20_000);
  // Checks keep failing well past the 2 s limit while the task runs: the machine stays on.
  await waitFor('4 failed checks', () => cp.checks() >= from + 4, 20_000);
  assert.ok(!existsSync(m.marker), `no power-off while the daemon has a child\n${m.log()}`);

  process.kill(Number(readFileSync(join(m.dir, 'task.pid'), 'utf8')), 'SIGTERM');
  await waitFor('the power-off once the task ended', () => existsSync(m.marker), 20_000);
  await cp.close();
});

test('unreachableShutdownS 0: no watchdog at all', () => {
  const m = machine('never', false);
  const script = render(m, 'http://127.0.0.1:1', { unreachableShutdownS: 0 });
  assert.doesNotMatch(script, /watchdog\.sh|setsid|flotilla-watchdog/);
  const real = clearmlStartupScript({
    launch: { workerId: 'w', queues: ['q'], args: [], conf: () => 'x: 1\n' }, serverUrl: 'https://cp.example/', unreachableShutdownS: 1800,
  });
  assert.match(real, /URL='https:\/\/cp\.example\/healthz'/);
  assert.match(real, /LIMIT=1800\nCHECK=60\n/);
  assert.match(real, /systemctl poweroff/, 'the same power-off as Flotilla\'s machines by default');
  assert.match(real, />> '\/var\/log\/flotilla-watchdog\.log'/);
});
