// `flotilla … | head -3`: a reader that closes the pipe early ends the command quietly, not with an EPIPE trace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startControlPlane, type ControlPlane } from '../src/server/main.js';
import { FlotillaClient } from '../src/client/index.js';

const CLI = resolve(import.meta.dirname, import.meta.dirname.includes('/dist/') ? '../src/cli/main.js' : '../dist/src/cli/main.js');

/** Runs the CLI and closes its stdout after the first chunk, as `head -1` does. */
function runClosingEarly(args: string[], env: Record<string, string>, cwd: string) {
  return new Promise<{ code: number | null; signal: string | null; stderr: string; firstChunk: string }>((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, FLOTILLA_CONFIG: join(cwd, 'credentials.json'), ...env },
    });
    let stderr = '';
    let firstChunk = '';
    child.stdout.once('data', (d) => {
      firstChunk = String(d);
      child.stdout.destroy();
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stderr, firstChunk }));
  });
}

describe('a closed output', () => {
  let dir: string;
  let cp: ControlPlane;
  let env: Record<string, string>;

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first with npx tsc -p tsconfig.json`);
    dir = mkdtempSync(join(tmpdir(), 'flotilla-pipe-'));
    cp = await startControlPlane({ dataDir: join(dir, 'server'), port: 0, logLevel: 'silent' });
    env = { FLOTILLA_SERVER: cp.url, FLOTILLA_TOKEN: cp.adminToken! };
    const client = new FlotillaClient(cp.url, cp.adminToken!);
    await client.createQueue('q');
    // Far more than a pipe holds (64 KiB), so the CLI is still writing when the reader goes away.
    await client.createTasks(Array.from({ length: 1000 }, (_, i) => ({ queue: 'q', command: `echo ${i} ${'x'.repeat(200)}` })));
  });
  after(async () => {
    await cp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const args of [['task', 'list', '--limit', '1000', '--json'], ['task', 'list', '--limit', '1000']]) {
    test(`flotilla ${args.join(' ')} | head -1 exits 0 and prints no stack trace`, async () => {
      const r = await runClosingEarly(args, env, dir);
      assert.ok(r.firstChunk.length > 0, 'it printed before the pipe closed');
      assert.equal(r.signal, null);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /EPIPE|Error|at /);
    });
  }
});
