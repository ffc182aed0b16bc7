// npm run fake:gce|fake:k8s|fake:git: each starts on the port given, says how to use it, answers, and stops on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/wait.js';

const MAIN = join(import.meta.dirname, 'main.ts');

const freePort = () => new Promise<number>((done) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => done(port));
  });
});

async function withFake(args: string[], check: (stderr: () => string, port: number) => Promise<void>) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args, '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((done) => child.on('close', done));
  try {
    await waitFor(`${args[0]} fake to start`, () => stderr.includes('Stop it with Ctrl-C.'), 60_000);
    await check(() => stderr, port);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  }
}

test('fake:gce listens on --port and answers the Compute API', async () => {
  await withFake(['gce'], async (stderr, port) => {
    assert.match(stderr(), new RegExp(`apiEndpoint: 127.0.0.1, port: ${port}, protocol: http`));
    const res = await fetch(`http://127.0.0.1:${port}/compute/v1/projects/demo/zones/us-central1-a/instances`);
    assert.equal(res.status, 200);
  });
});

test('fake:k8s listens on --port and writes a kubeconfig', async () => {
  await withFake(['k8s'], async (stderr, port) => {
    assert.match(stderr(), /export KUBECONFIG=\S+/);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/nodes`, { headers: { authorization: 'Bearer fake-token' } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { items: unknown[] }).items.length, 1);
  });
});

test('fake:git serves a clone of --repo that git can clone with the printed credentials', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-fake-git-'));
  try {
    const repo = join(dir, 'demo');
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    writeFileSync(join(repo, 'train.py'), 'print("hi")\n');
    execFileSync('git', ['-C', repo, 'add', '.']);
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'one']);
    await withFake(['git', '--repo', repo], async (stderr, port) => {
      assert.match(stderr(), new RegExp(`http://127.0.0.1:${port}/demo.git`));
      execFileSync('git', ['clone', '-q', `http://flotilla:flotilla@127.0.0.1:${port}/demo.git`, join(dir, 'copy')]);
      assert.equal(execFileSync('git', ['-C', join(dir, 'copy'), 'log', '--format=%s']).toString().trim(), 'one');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
