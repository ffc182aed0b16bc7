// The built `flotilla` CLI as a user runs it: a child process against a real control plane (SQLite).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../src/server/main.js';
import type { Task } from '../src/domain/task.js';
import { waitFor } from './support/wait.js';
import { CLI, cli } from './support/cli.js';



describe('flotilla CLI', () => {
  let dir: string;
  let cp: ControlPlane;
  let env: Record<string, string>;
  const run = (args: string[], extra: { env?: Record<string, string>; input?: string } = {}) =>
    cli(args, { cwd: dir, ...extra, env: { ...env, ...extra.env } });
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await run([...args, '--json']);
    assert.equal(r.code, 0, `flotilla ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first with npx tsc -p tsconfig.json`);
    dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-'));
    cp = await startControlPlane({ dataDir: join(dir, 'server'), port: 0, logLevel: 'silent', leaseTtlS: 5 });
    env = { FLOTILLA_SERVER: cp.url, FLOTILLA_TOKEN: cp.adminToken! };
  });
  after(async () => {
    await cp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('queue create and list, with --json giving only JSON on stdout', async () => {
    assert.deepEqual(await json(['queue', 'create', 'gpu']), { name: 'gpu' });
    await json(['queue', 'create', 'cpu']);
    const queues = await json<{ name: string; queued: number }[]>(['queue', 'list']);
    assert.deepEqual(queues.map((q) => q.name), ['cpu', 'gpu']);
    const table = await run(['queue', 'list']);
    assert.match(table.stdout, /^NAME\s+QUEUED\s+RUNNING\s+CREATED\n/);
    assert.match(table.stdout, /\ngpu\s+0\s+0\s+/);
  });

  test('task create, list, show and abort', async () => {
    const created = await json<Task>(['task', 'create', '--queue', 'gpu', '--command', 'echo hi', '--name', 'train',
      '--env', 'A=1', '--env', 'B=x=y', '--priority', '5', '--max-attempts', '2']);
    assert.equal(created.status, 'queued');
    assert.deepEqual(created.spec.env, { A: '1', B: 'x=y' });
    assert.equal(created.priority, 5);
    assert.equal(created.maxAttempts, 2);
    const plain = await run(['task', 'create', '--queue', 'gpu', '--command', 'true']);
    assert.match(plain.stdout, /^[A-Za-z0-9_-]+\n$/, 'without --json, stdout is only the new id');

    const listed = await json<Task[]>(['task', 'list', '--queue', 'gpu', '--status', 'queued']);
    assert.deepEqual(listed.map((t) => t.id), [created.id, plain.stdout.trim()], 'higher priority first');
    const shown = await json<Task>(['task', 'show', created.id]);
    assert.equal(shown.name, 'train');
    const human = await run(['task', 'show', created.id]);
    assert.match(human.stdout, /env:\s+A, B\n/);
    assert.doesNotMatch(human.stdout, /x=y/, 'environment values are not shown to onlookers');

    const aborted = await json<Task>(['task', 'abort', created.id]);
    assert.equal(aborted.status, 'aborted');
    assert.deepEqual((await json<Task[]>(['task', 'list', '--status', 'queued'])).map((t) => t.id), [plain.stdout.trim()]);
  });

  test('bad input exits 1 and names the field and the flag', async () => {
    const badQueue = await run(['task', 'create', '--queue', 'no spaces', '--command', 'true']);
    assert.equal(badQueue.code, 1);
    assert.match(badQueue.stderr, /body\.queue \(--queue\): use letters/);
    assert.equal(badQueue.stdout, '');
    const badPriority = await run(['task', 'create', '--queue', 'gpu', '--command', 'true', '--priority', 'high']);
    assert.equal(badPriority.code, 1);
    assert.match(badPriority.stderr, /--priority.*whole number/);
    const missing = await run(['task', 'show', 'no-such-task']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /task "no-such-task" not found/);
  });

  test('autoscaler apply refuses a misspelled key, naming it with its path and the nearest key, and applies nothing', async () => {
    const file = join(dir, 'app.yaml');
    writeFileSync(file, [
      'name: typo', 'provider: {kind: simulated}', 'queues: {gpu: [small]}', 'budgett: {maxPerHour: 3}',
      'resources:', '  - {name: small, instanceType: g5.xlarge, pricePerHour: 1, maxInstances: 1, maxInstancs: 2}', '',
    ].join('\n'));
    const r = await run(['autoscaler', 'apply', '-f', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /unknown key budgett at the top level; did you mean budget\?/);
    assert.match(r.stderr, /unknown key maxInstancs at resources\[0\]; did you mean maxInstances\?/);
    assert.deepEqual(await json(['autoscaler', 'list']), []);
  });

  test('no token: the server says 401 and the CLI says where a token comes from', async () => {
    const r = await run(['queue', 'list'], { env: { FLOTILLA_TOKEN: '' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing bearer token/);
    assert.match(r.stderr, /FLOTILLA_TOKEN|flotilla login/);
  });

  test('an unreachable server says how to start one', async () => {
    const r = await run(['queue', 'list'], { env: { FLOTILLA_SERVER: 'http://127.0.0.1:9' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach the Flotilla server/);
    assert.match(r.stderr, /flotilla up/);
  });

  test('login reads the token from stdin, checks it, and writes a 0600 file used afterwards', async () => {
    const noToken = { FLOTILLA_TOKEN: '', FLOTILLA_SERVER: '' };
    const wrong = await run(['login', '--server', cp.url], { env: noToken, input: 'flt_wrong\n' });
    assert.equal(wrong.code, 1);
    assert.ok(!existsSync(join(dir, 'credentials.json')), 'a refused token is not saved');

    const r = await run(['login', '--server', cp.url], { env: noToken, input: `${cp.adminToken}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(cp.adminToken!), 'the token is never printed');
    const file = join(dir, 'credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { server: cp.url, token: cp.adminToken });
    const listed = await run(['queue', 'list', '--json'], { env: noToken });
    assert.equal(listed.code, 0, listed.stderr);
    rmSync(file);
  });

  test('an agent runs a task while task logs --follow streams it to its end', async () => {
    const agentToken = JSON.parse((await run(['token', 'create', '--name', 'a1', '--role', 'agent', '--json'])).stdout).token;
    const t = await json<Task>(['task', 'create', '--queue', 'cpu', '--command', 'echo one; echo two >&2; exit 3']);
    const follow = run(['task', 'logs', t.id, '--follow']);
    const agent = await run(['agent', '--queue', 'cpu', '--once', '--work-dir', join(dir, 'work')],
      { env: { FLOTILLA_TOKEN: agentToken } });
    assert.equal(agent.code, 0, agent.stderr);
    const logs = await follow;
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, 'one\n');
    assert.match(logs.stderr, /two\n/);
    assert.match(logs.stderr, /task \S+ failed \(exit code 3\)/);
    const workers = await json<{ status: string }[]>(['worker', 'list', '--all']);
    assert.equal(workers.length, 1);
  });

  test('up starts a control plane, writes a 0600 admin token, and stops on SIGINT', async () => {
    const dataDir = join(dir, 'up-data');
    const child = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', dataDir],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      // The banner comes in several writes: wait for its last line before reading it.
      await waitFor('up to print its banner', () => stderr.includes('Stop it with Ctrl-C.'), 15_000);
      const url = /listening on (http:\/\/\S+)/.exec(stderr)![1];
      const tokenFile = join(dataDir, 'admin-token');
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      assert.ok(stderr.includes(`export FLOTILLA_TOKEN=$(cat `), stderr);
      const token = readFileSync(tokenFile, 'utf8').trim();
      assert.ok(!stderr.includes(token), 'the token itself is not printed');
      const r = await run(['queue', 'list', '--json'], { env: { FLOTILLA_SERVER: url, FLOTILLA_TOKEN: token } });
      assert.equal(r.code, 0, r.stderr);
      child.kill('SIGINT');
      const code = await Promise.race([exited, waitFor('up to exit', () => false, 10_000).catch(() => 'timeout')]);
      assert.equal(code, 0, stderr);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
