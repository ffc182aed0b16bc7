// Issue 13, defect 3: the agent's token never reaches a task. A real local worker (started by the local
// provider, as the autoscaler does) runs a process-mode task that looks for the token everywhere a process
// of the same user can look: the environ, command line and open files of every ancestor, and its own
// environment. The task writes what it found to a file (task logs mask the token, so they would hide a leak).
// Also: the worker's own /proc/PID/environ, and `--token-file` refusing a file others can read.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalProvider } from '../src/autoscaler/providers/local/index.js';
import { cliCommand } from './support/agents.js';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { waitFor } from './support/wait.js';
import { applyApp, localApp } from './autoscaler/helpers.js';

let t: TestControlPlane;
let dir: string;
before(async () => {
  t = await startTestControlPlane('sqlite');
  dir = mkdtempSync(join(tmpdir(), 'flotilla-agent-token-'));
});
after(async () => {
  await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Walks from the task up to its agent: each one's environ, cmdline and the regular files it holds open. */
const PROBE = `out="$PROBE_OUT"
p=$$
while [ "$p" -gt 1 ]; do
  echo "== pid $p" >> "$out"
  tr '\\0' '\\n' < /proc/$p/environ >> "$out" 2>/dev/null
  tr '\\0' ' ' < /proc/$p/cmdline >> "$out" 2>/dev/null; echo >> "$out"
  for f in /proc/$p/fd/*; do
    [ -f "$f" ] && { echo "-- $(readlink "$f")" >> "$out"; head -c 65536 "$f" >> "$out" 2>/dev/null; echo >> "$out"; }
  done
  [ "$(cat /proc/$p/comm)" = node ] && break   # the agent
  p=$(sed 's/.*) //' /proc/$p/stat | cut -d' ' -f2)
done
echo "== own env" >> "$out"
env >> "$out"
echo probed`;

test('a local worker holds no token in its environment, and its process-mode task finds it nowhere', async () => {
  const token = t.cp.adminToken!; // any token will do as the canary: this one registers without an app binding
  const provider = new LocalProvider({ logDir: join(dir, 'workers'), cliEntry: cliCommand()[0] });
  const app = 'tokapp';
  // The agent fetches its app's secrets: the app exists, mapped to a queue no task goes to (so it launches nothing).
  await applyApp(t.user, localApp(app, 'tokapp-idle', { max: 1, idleS: 60 }));
  const workDir = mkdtempSync(join(dir, 'work-'));
  const launched = await provider.launch({
    appId: app, resource: 'cpu', clientToken: 'tok-worker-1', offering: { instanceType: 'local-process', market: 'on-demand' },
    launch: {}, startupScript: '', tags: { 'flotilla-app': app, 'flotilla-resource': 'cpu', 'flotilla-instance': 'tok-worker-1' },
    agent: { server: t.cp.url, token, queues: ['tokq'], args: ['--work-dir', workDir, '--once'] },
  });
  const pid = Number(launched.providerId);
  try {
    const out = join(dir, 'probe.txt');
    await t.user.createQueue('tokq');
    const task = await t.user.createTask({ queue: 'tokq', command: PROBE, env: { PROBE_OUT: out } });
    let status = '';
    await waitFor('the probe task to finish', async () => ['completed', 'failed'].includes(status = (await t.user.getTask(task.id)).status), 60_000, 100);
    assert.equal(status, 'completed', readFileSync(join(dir, 'workers', 'tok-worker-1.log'), 'utf8'));
    const found = readFileSync(out, 'utf8');
    if (process.env.DEBUG_PROBE) console.log(found);
    assert.match(found, /flotilla(-guard)?/, 'the probe reached the agent and its guard');
    assert.ok(!found.includes(token), `the token is visible to the task:\n${found.split('\n').filter((l) => l.includes(token)).join('\n')}`);
    assert.doesNotMatch(found, /FLOTILLA_TOKEN=/);
    assert.match(found, /agent .*--token-fd 3/, 'the probe read the agent\'s command line');
  } finally {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* --once: gone already */
    }
  }
});

test("a local worker's /proc/PID/environ and command line hold no token while it runs", async () => {
  const token = t.cp.adminToken!;
  const provider = new LocalProvider({ logDir: join(dir, 'workers'), cliEntry: cliCommand()[0] });
  const app = 'tokapp2';
  const launched = await provider.launch({
    appId: app, resource: 'cpu', clientToken: 'tok-worker-2', offering: { instanceType: 'local-process', market: 'on-demand' },
    launch: {}, startupScript: '', tags: { 'flotilla-app': app, 'flotilla-resource': 'cpu', 'flotilla-instance': 'tok-worker-2' },
    agent: { server: t.cp.url, token, queues: ['tokq2'], args: ['--work-dir', mkdtempSync(join(dir, 'work-'))] },
  });
  const pid = Number(launched.providerId);
  try {
    const log = join(dir, 'workers', 'tok-worker-2.log');
    await waitFor('the worker to register', () => existsSync(log) && /registered as worker/.test(readFileSync(log, 'utf8')), 60_000, 100);
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    assert.match(environ, /FLOTILLA_TAG_APP=tokapp2/, 'this is the worker');
    assert.ok(!environ.includes(token), 'no token in the worker\'s environ');
    assert.ok(!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token), 'no token on its command line');
    assert.ok(!readFileSync(log, 'utf8').includes(token), 'no token in its log');
    assert.deepEqual((await provider.list(app)).map((i) => i.providerId), [String(pid)], 'still found by its tags');
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});

function runAgentCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cliCommand(), '--server', t.cp.url, 'agent', ...args], {
      env: { PATH: process.env.PATH, HOME: dir, FLOTILLA_CONFIG: join(dir, 'no-login.json'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b) => (output += b));
    child.stderr.on('data', (b) => (output += b));
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('--token-file with mode 0644 is refused, naming the fix; 0600 works; --delete-token-file deletes it', async () => {
  const file = join(dir, 'agent-token');
  writeFileSync(file, `${t.agentToken}\n`);
  chmodSync(file, 0o644);
  const refused = await runAgentCli(['--queue', 'tokf', '--once', '--idle-exit', '1', '--token-file', file]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.output, /mode 0644/);
  assert.match(refused.output, new RegExp(`chmod 600 ${file}`));
  assert.ok(!refused.output.includes(t.agentToken));

  chmodSync(file, 0o600);
  const ok = await runAgentCli(['--queue', 'tokf', '--idle-exit', '1', '--token-file', file, '--delete-token-file']);
  assert.equal(ok.code, 0, ok.output);
  assert.match(ok.output, /registered as worker/);
  assert.doesNotMatch(ok.output, /warning/);
  assert.ok(!existsSync(file), 'the token file is deleted once read');
});

test('FLOTILLA_TOKEN still works for an agent, with a warning that names /proc/PID/environ and the way out', async () => {
  const r = await runAgentCli(['--queue', 'toke', '--idle-exit', '1'], { FLOTILLA_TOKEN: t.agentToken });
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /registered as worker/);
  assert.match(r.output, /warning: FLOTILLA_TOKEN is in this agent's environment.*\/proc\/\d+\/environ.*--token-file/s);
  assert.ok(!r.output.includes(t.agentToken));
});
