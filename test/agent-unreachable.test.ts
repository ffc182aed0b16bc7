// Issue 18 item 3: an agent pointed at a control plane it cannot reach says so at once (address and error),
// keeps retrying with the back-off it names without a line per attempt, and says when it gets through; with
// --exit-if-unreachable an idle one ends (exit 69) when the control plane stays gone, a busy one finishes first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaClient } from '../src/client/index.js';
import { EXIT_UNREACHABLE } from '../src/domain/agent-exit.js';
import { startControlPlane } from '../src/server/main.js';
import { startFlotilla } from './support/flotilla-process.js';
import { waitFor } from './support/wait.js';

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('an agent that cannot reach its control plane says so at once, retries quietly, and says when it gets through', async () => {
  const port = await closedPort();
  const server = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const agent = startFlotilla(['--server', server, 'agent', '--queue', 'q', '--worker-id', 'unreach-1'], { FLOTILLA_TOKEN: 'unreachable-test-token' });
  let fake: http.Server | undefined;
  try {
    await waitFor('the unreachable line', () => /cannot reach the control plane/.test(agent.output()), 15_000);
    const ms = Date.now() - started;
    // The agent's first line (its token warning) comes once Node has started: the message follows it at once.
    const stamps = agent.output().split('\n').map((l) => Date.parse(l.split(' ')[0])).filter((n) => !Number.isNaN(n));
    console.log(`# "cannot reach" line ${ms} ms after the process was started, ${stamps[1] - stamps[0]} ms after its first line`);
    assert.ok(stamps[1] - stamps[0] < 2_000, agent.output());
    const first = agent.output().split('\n').find((l) => l.includes('cannot reach the control plane'))!;
    assert.match(first, new RegExp(`at ${server.replace(/[.]/g, '\\.')} \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`));
    assert.match(first, /retrying with back-off: 0\.1 s, doubling up to every 5 s/);
    // Some seconds of failures: a few lines (the wait growing), not one per attempt.
    await waitFor("the back-off to reach its cap", () => /next attempt within 5 s/.test(agent.output()), 30_000)
      .catch((e) => assert.fail(`${e.message}\n${agent.output()}`));
    const lines = agent.output().split('\n').filter((l) => l.includes('cannot reach the control plane'));
    assert.ok(lines.length <= 5, `a line per attempt, not a few:\n${lines.join('\n')}`);
    // Now something answers there: the agent says it got through, and registers.
    fake = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/api/v1/workers') {
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ worker: { id: 'unreach-1' }, settings: { leaseTtlMs: 30_000, heartbeatMs: 5_000, maxWaitMs: 30_000 } }));
        } else setTimeout(() => (res.writeHead(204), res.end()), 500);
      });
    });
    await new Promise<void>((r) => fake!.listen(port, '127.0.0.1', r));
    await waitFor('the agent to get through', () => /reached the control plane at .* after \d+ attempts/.test(agent.output()) &&
      /registered as worker unreach-1/.test(agent.output()), 15_000);
  } finally {
    await agent.stop(5_000);
    fake?.closeAllConnections();
    fake?.close();
  }
});

test('--exit-if-unreachable: a running task is never given up; once idle, the agent exits 69 when the control plane stays gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-unreachable-exit-'));
  const cp = await startControlPlane({ dataDir: join(dir, 'cp'), port: 0, logLevel: 'silent' });
  let closed = false;
  const admin = new FlotillaClient(cp.url, cp.adminToken!);
  await admin.createQueue('gone');
  const token = (await admin.createToken('gone-agent', 'agent')).token;
  const agent = startFlotilla(['--server', cp.url, 'agent', '--queue', 'gone', '--worker-id', 'gone-1', '--exit-if-unreachable', '2',
    '--work-dir', join(dir, 'work')], { FLOTILLA_TOKEN: token });
  try {
    const marker = join(dir, 'task-done');
    const task = await admin.createTask({ queue: 'gone', command: `sleep 4; echo finished > ${marker}` });
    await waitFor('the task to run', async () => (await admin.getTask(task.id)).status === 'running', 30_000);
    await cp.close();
    closed = true;
    const code = await Promise.race([agent.exited, waitFor('the agent to exit', () => false, 60_000).catch(() => 'still running')]);
    assert.equal(code, EXIT_UNREACHABLE, agent.output());
    assert.equal(readFileSync(marker, 'utf8'), 'finished\n', 'the task ran to its end though the control plane was gone longer than 2 s');
    assert.match(agent.output(), /the control plane was unreachable for 2s while idle: signing off and exiting/);
    assert.match(agent.output(), new RegExp(`the end of task ${task.id} was not reported: it returns to its queue when its lease runs out`));
  } finally {
    await agent.stop(1_000);
    if (!closed) await cp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
