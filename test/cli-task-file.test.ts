// `flotilla task create --from-file`: many tasks in one CLI call through the batch route, from a file or stdin.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../src/server/main.js';
import { FlotillaClient } from '../src/client/index.js';
import type { Task } from '../src/domain/task.js';
import { CLI, cli } from './support/cli.js';



describe('task create --from-file', () => {
  let dir: string;
  let cp: ControlPlane;
  let env: Record<string, string>;
  let client: FlotillaClient;
  const run = (args: string[], input?: string) => cli(args, { env, cwd: dir, input });

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first with npx tsc -p tsconfig.json`);
    dir = mkdtempSync(join(tmpdir(), 'flotilla-task-file-'));
    cp = await startControlPlane({ dataDir: join(dir, 'server'), port: 0, logLevel: 'silent' });
    env = { FLOTILLA_SERVER: cp.url, FLOTILLA_TOKEN: cp.adminToken! };
    client = new FlotillaClient(cp.url, cp.adminToken!);
    await client.createQueue('a');
    await client.createQueue('b');
  });
  after(async () => {
    await cp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('1500 lines from a file: two batches, progress on stderr, one id per line in file order', async () => {
    const file = join(dir, 'tasks.jsonl');
    writeFileSync(file, Array.from({ length: 1500 }, (_, i) => JSON.stringify({ command: `echo ${i}`, name: `t${i}` })).join('\n') + '\n');
    const r = await run(['task', 'create', '--from-file', file, '--queue', 'a', '--priority', '3']);
    assert.equal(r.code, 0, r.stderr);
    const ids = r.stdout.trim().split('\n');
    assert.equal(ids.length, 1500);
    assert.match(r.stderr, /queued 1000\/1500/);
    assert.match(r.stderr, /1500 tasks queued on "a"/);
    const first = await client.getTask(ids[0]!);
    const last = await client.getTask(ids[1499]!);
    assert.deepEqual([first.name, first.queue, first.priority, last.name], ['t0', 'a', 3, 't1499']);
  });

  test('stdin with -, --json, and a queue per line', async () => {
    const input = '{"queue": "b", "command": "true", "env": {"X": "1"}}\n\n{"queue": "a", "command": "false"}\n';
    const r = await run(['task', 'create', '--from-file', '-', '--json'], input);
    assert.equal(r.code, 0, r.stderr);
    const tasks = JSON.parse(r.stdout) as Task[];
    assert.deepEqual(tasks.map((t) => [t.queue, t.spec.command]), [['b', 'true'], ['a', 'false']]);
    assert.deepEqual(tasks[0]!.spec.env, { X: '1' });
  });

  test('mistakes name the line and the field, and queue nothing', async () => {
    const queued = async () => (await client.listQueues()).map((q) => q.queued).reduce((a, b) => a + b, 0);
    const before = await queued();
    const bad = await run(['task', 'create', '--from-file', '-', '--queue', 'a'],
      '{"command": "ok"}\n{"command": "x", "maxAttempts": 0}\n{"command": "y", "queue": "nope"}\n');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error: stdin line 2: maxAttempts: /);
    assert.equal(bad.stdout, '');
    const missingQueue = await run(['task', 'create', '--from-file', '-', '--queue', 'a'], '{"command": "ok"}\n{"command": "y", "queue": "nope"}\n');
    assert.equal(missingQueue.code, 1);
    assert.match(missingQueue.stderr, /stdin line 2: queue: queue "nope" does not exist: create it with "flotilla queue create nope"/);
    assert.equal(await queued(), before, 'nothing was queued');
  });

  test('without --from-file, --queue is still required', async () => {
    const r = await run(['task', 'create', '--command', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /required option '--queue <queue>' not specified/);
  });
});
