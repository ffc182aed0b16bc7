// Secret canaries: a cloud key (aws app on moto_server), git and storage credentials (an app's execution
// secrets, used by a process-mode agent cloning a private repository), an agent token bound to the app and
// the admin token, each with a value found nowhere else. After a run, none may appear in the control plane's
// or the agent's output, the task's logs or what the task could read (its environment and its ancestors',
// their command lines, the checkout's .git/config), the decision journal, any API answer, /proc/*/cmdline and
// /proc/*/environ, the machine's start-up script, or the database files in clear.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaClient } from '../../src/client/index.js';
import { createTestDb, type TestDb } from '../support/stores.js';
import { spawnAgent, killAgents, type AgentProc } from '../support/agents.js';
import { git, startGitServer, type GitServer } from '../support/git-server.js';
import { startProcScan } from '../support/proc.js';
import { waitFor } from '../support/wait.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { awsApp, live, machinesOf, motoClient, userDataOf } from '../helpers/aws-e2e.js';
import { CpProcess, freePort } from './cp-process.js';
import { report } from './report.js';

const hex = () => randomBytes(8).toString('hex');
const cloudCanary = `cloudsk-${hex()}`;
const gitCanary = `gitpw-${hex()}`;
const storageCanary = `storesk-${hex()}`;
const APP = 'canary-app';

let moto: Moto;
let gitServer: GitServer;
let db: TestDb;
let dir: string;
let cp: CpProcess;
let agent: AgentProc;
const scans: ReturnType<typeof startProcScan>[] = [];

before(async () => {
  [moto, gitServer, db] = await Promise.all([startMoto(), startGitServer({ username: 'alice', password: gitCanary }), createTestDb('sqlite')]);
  dir = mkdtempSync(join(tmpdir(), 'flotilla-canaries-'));
  await gitServer.createRepo('private', async (w) => {
    // What a hostile task would look at: its environment, its ancestors' environments and command lines, the checkout.
    writeFileSync(join(w, 'look.sh'), [
      'out="$1"; env > "$out"',
      'p=$PPID; while [ "$p" -gt 1 ] 2>/dev/null; do',
      '  tr "\\0" "\\n" < /proc/$p/environ >> "$out" 2>/dev/null; tr "\\0" " " < /proc/$p/cmdline >> "$out" 2>/dev/null',
      '  p=$(awk \'{print $4}\' /proc/$p/stat 2>/dev/null || echo 1); done',
      'cat .git/config >> "$out"; ls -la ~ >> "$out" 2>&1; echo looked',
    ].join('\n') + '\n');
    await git(w, 'add', '.');
    await git(w, 'commit', '-q', '-m', 'look around');
  });
});

after(async () => {
  for (const s of scans) await s.stop(); // a scan runs until stopped: a failed test must not leave it spinning
  await killAgents(agent ? [agent] : []);
  await cp?.stop();
  await gitServer?.close();
  await moto?.stop();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('secret canaries: no token or credential in logs, journal, API answers, /proc, start-up scripts or the database', async () => {
  const scan = startProcScan({ needles: [cloudCanary, gitCanary, storageCanary], environ: true });
  scans.push(scan);
  cp = new CpProcess(db.url, join(dir, 'data'), await freePort(), { AWS_ENDPOINT_URL: moto.url });
  await cp.start();
  const admin = cp.admin();
  await admin.putSecret('cloud', 'aws', { accessKeyId: 'AKIACANARY', secretAccessKey: cloudCanary });
  await admin.putSecret('repo', 'git', { username: 'alice', password: gitCanary });
  await admin.putSecret('bucket', 'storage', { aws: { accessKeyId: 'AKIASTORE', secretAccessKey: storageCanary } });
  await admin.request('PUT', `/api/v1/autoscalers/${APP}`, {
    ...awsApp({ name: APP, queue: 'app', maxInstances: 1, bootTimeoutS: 600, settings: { credentialsSecret: 'cloud' } }),
    queues: { app: ['cpu'], cloud: ['cpu'] }, execution: { gitSecret: 'repo', storageSecret: 'bucket' },
  });
  // A task no agent serves: the app launches a machine for it, whose start-up script is checked below.
  await admin.createTask({ queue: 'cloud', command: 'true' });
  const agentToken = (await admin.createToken('canary agents', 'agent', undefined, { app: APP })).token;
  const tokens = [agentToken, readFileSync(join(dir, 'data/admin-token'), 'utf8').trim()];
  const canaries = [cloudCanary, gitCanary, storageCanary, ...tokens];
  const agentScan = startProcScan({ needles: tokens, environ: true });
  scans.push(agentScan);

  // A process-mode agent of the app (token through a pipe) runs a task from the private repository.
  agent = spawnAgent(cp.url, agentToken, ['app'], { args: ['--app', APP] });
  const seen = join(dir, 'seen.txt');
  const created = await admin.createTask({ queue: 'app', git: { repository: gitServer.repoUrl('private') }, command: `sh look.sh ${seen}` });
  const task = await waitFor('the task to end', async () => {
    const t = await admin.getTask(created.id);
    return ['completed', 'failed', 'aborted'].includes(t.status) && t;
  }, 120_000, 200);
  // The aws app launched a machine in moto for the queue no agent serves: its start-up script is checked too.
  const ec2 = motoClient(moto.url);
  const machines = await waitFor('a machine of the app in moto', async () => {
    const ms = live(await machinesOf(ec2, APP));
    return ms.length > 0 && ms;
  }, 90_000, 200);
  const places: [string, string][] = [];
  places.push(['the start-up script', await userDataOf(ec2, machines[0].id)]);
  const logs = (await admin.logs(task.id)).lines.map((l) => l.text).join('');
  assert.equal(task.status, 'completed', `${task.statusMessage}\n${logs}\n${agent.output()}`);
  assert.match(logs, /looked/);
  places.push(['the task log', logs], ['what the task could read', existsSync(seen) ? readFileSync(seen, 'utf8') : '']);
  assert.ok(places[2][1].length > 100, 'the task wrote down what it saw');

  // Every GET of the API the admin can make, and the journal.
  const api = ['/api/v1/tasks', `/api/v1/tasks/${task.id}`, `/api/v1/tasks/${task.id}/logs`, `/api/v1/tasks/${task.id}/why`, '/api/v1/workers?all=true',
    '/api/v1/tokens', '/api/v1/secrets', '/api/v1/queues', '/api/v1/autoscalers', `/api/v1/autoscalers/${APP}`, `/api/v1/autoscalers/${APP}/status`,
    `/api/v1/autoscalers/${APP}/decisions?limit=1000`, '/api/v1/k8s/journal', '/api/v1/whoami', '/metrics'];
  for (const path of api) places.push([`GET ${path}`, await (await fetch(cp.url + path, { headers: { authorization: `Bearer ${tokens[1]}` } })).text()]);
  await killAgents([agent]);
  await cp.stop();
  places.push(['the control plane output', cp.output()], ['the agent output', agent.output()]);
  for (const f of readdirSync(join(dir, 'data'), { recursive: true }) as string[]) {
    const path = join(dir, 'data', f);
    if (f === 'admin-token' || !existsSync(path) || !/\.(db|db-wal|db-shm|log|json)$/.test(f)) continue;
    places.push([`data file ${f}`, readFileSync(path, 'latin1')]);
  }
  for (const f of readdirSync(join(db.url.slice('sqlite:'.length), '..'))) places.push([`database file ${f}`, readFileSync(join(db.url.slice('sqlite:'.length), '..', f), 'latin1')]);
  const procs = [await scan.stop(), await agentScan.stop()];

  const leaks = places.flatMap(([where, text]) => canaries.filter((c) => text.includes(c)).map((c) => `${where} holds ${c.slice(0, 8)}…`));
  for (const p of procs) for (const h of p.hits) leaks.push(`/proc/${h.pid}/${h.file} (${h.command.slice(0, 80)})`);
  report({ part: 'secret canaries', canaries: canaries.length, notes: `${places.length} places and ${procs[0].passes} /proc passes checked`,
    zeros: { leaks: leaks.length } });
  assert.deepEqual(leaks, []);
  assert.ok(procs[0].passes > 3, 'the /proc scan ran while the task did');
});
