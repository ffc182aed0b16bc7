// End to end, with secrets: a real control plane process (`flotilla server`, its log kept), real
// `flotilla agent --docker` processes, a private git repository behind basic auth and real podman.
// Canary values must reach git and the task's container, be masked where the task prints them, and
// appear nowhere else: not in the API, the control plane's log, the agents' output, or any process's
// command line (and storage credentials in no host process's environment).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaClient } from '../src/client/index.js';
import { AppConfigSchema } from '../src/domain/autoscaler/config.js';
import type { CreateTask, Task } from '../src/domain/task.js';
import { Store } from '../src/store/index.js';
import { MASK } from '../src/agent/mask.js';
import { git, startGitServer, type GitServer } from './support/git-server.js';
import { ensurePodman, TEST_IMAGE } from './support/podman.js';
import { runFlotilla, startAgentProcess, startFlotilla, type FlotillaProcess } from './support/flotilla-process.js';
import { sawCommand, startProcScan, type ProcScanReport } from './support/proc.js';
import { waitFor } from './support/wait.js';

const hex = () => randomBytes(8).toString('hex');
const gitCanary = `gitpw-${hex()}`;
const awsCanary = `awssk-${hex()}`;
const gcpCanary = `gcpkey-${hex()}`;
const canaries = [gitCanary, awsCanary, gcpCanary];

let dir: string;
let gitServer: GitServer;
let server: FlotillaProcess;
let admin: FlotillaClient;
let url = '';
const agents: FlotillaProcess[] = [];
let cmdlineScan: ReturnType<typeof startProcScan>;
let environScan: ReturnType<typeof startProcScan>;

const privateFile = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};

async function runTask(spec: CreateTask): Promise<{ task: Task; logs: string }> {
  const created = await admin.createTask(spec);
  const task = await waitFor(`task ${created.id} to end`, async () => {
    const got = await admin.getTask(created.id);
    return ['completed', 'failed', 'aborted'].includes(got.status) && got;
  }, 90_000);
  return { task, logs: (await admin.logs(task.id)).lines.map((l) => l.text).join('') };
}

function assertNoCanary(where: string, text: string) {
  for (const c of canaries) assert.ok(!text.includes(c), `a secret value appears in ${where}`);
}

before(async () => {
  ensurePodman();
  dir = mkdtempSync(join(tmpdir(), 'flotilla-secrets-e2e-'));
  cmdlineScan = startProcScan({ needles: canaries });
  environScan = startProcScan({ needles: [awsCanary, gcpCanary], environ: true });
  gitServer = await startGitServer({ username: 'alice', password: gitCanary });
  await gitServer.createRepo('private', async (w) => {
    writeFileSync(join(w, 'hello.txt'), 'hello from the private repo\n');
    writeFileSync(join(w, 'leak.txt'), `git password: ${gitCanary}\n`);
    writeFileSync(join(w, 'run.sh'), [
      'cat hello.txt leak.txt',
      'test -f /run/.containerenv && echo in-container',
      'echo "aws key: $AWS_SECRET_ACCESS_KEY"',
      'if [ -n "$GOOGLE_APPLICATION_CREDENTIALS" ]; then cat "$GOOGLE_APPLICATION_CREDENTIALS"; fi',
    ].join('\n') + '\n');
    await git(w, 'add', '.');
    await git(w, 'commit', '-q', '-m', 'private work');
  });

  const dataDir = join(dir, 'data');
  server = startFlotilla(['server', '--data-dir', dataDir, '--port', '0', '--log-level', 'debug']);
  url = await waitFor('the control plane to listen', () => /listening on (http:\/\/\S+)/.exec(server.output())?.[1], 60_000);
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  admin = new FlotillaClient(url, adminToken);
  for (const q of ['app', 'local', 'wrong']) await admin.createQueue(q);

  // Secrets go in through the CLI: the git one from env variables, the storage one from a file.
  const cli = ['--server', url, 'secret', 'set'];
  const env = { FLOTILLA_TOKEN: adminToken };
  await runFlotilla([...cli, 'repo-creds', '--kind', 'git', '--from-env', 'username=GIT_USER', '--from-env', 'password=GIT_PASS'],
    { ...env, GIT_USER: 'alice', GIT_PASS: gitCanary });
  await runFlotilla([...cli, 'bucket', '--kind', 'storage', '--from-file',
    privateFile('aws.json', JSON.stringify({ aws: { accessKeyId: 'AKIATEST', secretAccessKey: awsCanary } }))], env);

  // The app whose agents get those secrets. It maps queue "app" (a token bound to the app registers only for
  // the queues it maps), and its budget is below its one machine's price, so it launches nothing itself.
  const store = await Store.open(`sqlite:${join(dataDir, 'flotilla.db')}`);
  await store.apps.put(AppConfigSchema.parse({
    name: 'gpu-app', provider: { kind: 'local' }, queues: { app: ['small'] }, budget: { maxPerHour: 0.5 },
    resources: [{ name: 'small', instanceType: 'local', pricePerHour: 1, maxInstances: 1 }],
    execution: { gitSecret: 'repo-creds', storageSecret: 'bucket' },
  }));
  await store.close();

  // The app's agent has a token the admin bound to the app (`flotilla token create --role agent --app gpu-app`):
  // only such a token's workers read the app's secrets. The others have a plain agent token.
  const appToken = (await admin.createToken('gpu agents', 'agent', undefined, { app: 'gpu-app' })).token;
  const agentToken = (await admin.createToken('agents', 'agent')).token;
  agents.push(await startAgentProcess(url, appToken, ['--queue', 'app', '--app', 'gpu-app', '--docker', TEST_IMAGE]));
  const gcpKey = JSON.stringify({ type: 'service_account', private_key_id: 'kid-1', private_key: gcpCanary, client_email: 'a@b.iam' });
  agents.push(await startAgentProcess(url, agentToken,
    ['--queue', 'local', '--docker', TEST_IMAGE, '--storage-credentials', privateFile('gcp.json', JSON.stringify({ gcp: { serviceAccountJson: gcpKey } }))],
    { FLOTILLA_GIT_USER: 'alice', FLOTILLA_GIT_PASSWORD: gitCanary }));
  agents.push(await startAgentProcess(url, agentToken, ['--queue', 'wrong', '--docker', TEST_IMAGE],
    { FLOTILLA_GIT_USER: 'alice', FLOTILLA_GIT_PASSWORD: `not-${gitCanary}` }));
});

after(async () => {
  await cmdlineScan?.stop();
  await environScan?.stop();
  await Promise.all(agents.map((a) => a.stop()));
  await server?.stop();
  await gitServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('credentials on real agents, containers and a private repository', () => {
  const repo = () => ({ repository: gitServer.repoUrl('private'), entryPoint: 'run.sh' });

  test("an app's agent clones with the app's git secret and hands its storage secret to the container, masked", async () => {
    const { task, logs } = await runTask({ queue: 'app', git: repo() });
    assert.equal(task.status, 'completed', logs);
    assert.match(logs, /hello from the private repo\n/);
    assert.ok(logs.includes(`git password: ${MASK}\n`), logs);
    assert.match(logs, /in-container\n/);
    assert.ok(logs.includes(`aws key: ${MASK}\n`), logs);
    assertNoCanary('the task log', logs);
  });

  test("an agent's own git credentials (env) and storage file (gcp key file in the container) work, masked", async () => {
    const { task, logs } = await runTask({ queue: 'local', git: repo() });
    assert.equal(task.status, 'completed', logs);
    assert.match(logs, /hello from the private repo\n/);
    assert.ok(logs.includes('"private_key":"********"'), logs);
    assert.ok(logs.includes('aws key: \n'), 'the app secret does not reach an agent that is not the app\'s');
    assertNoCanary('the task log', logs);
  });

  test('wrong git credentials fail the task before it runs, saying why', async () => {
    const { task, logs } = await runTask({ queue: 'wrong', git: repo() });
    assert.equal(task.status, 'failed');
    assert.match(task.statusMessage ?? '', new RegExp(`git clone of ${gitServer.repoUrl('private')} failed \\(exit 128\\): authentication failed on 127\\.0\\.0\\.1:${gitServer.port}: check the git credentials`));
    assert.ok(!logs.includes('in-container'));
  });

  test('no secret value in the API, the logs of the control plane and agents, or any command line', async () => {
    const api = JSON.stringify([await admin.listSecrets(), await admin.listTasks({ limit: 100 }), await admin.listWorkers(true)]);
    assert.match(api, /repo-creds/);
    assertNoCanary('the API', api);
    assertNoCanary("the control plane's log", server.output());
    assert.match(server.output(), /"url":"\/api\/v1\/workers\/[^"]+\/secrets"/, 'the debug log covers the secrets request');
    for (const a of agents) assertNoCanary("an agent's output", a.output());

    const cmdlines: ProcScanReport = await cmdlineScan.stop();
    assert.ok(sawCommand(cmdlines, /git(-remote-http| remote-http)/), `the scan saw git at work (${cmdlines.passes} passes)`);
    assert.ok(sawCommand(cmdlines, /podman run .*flotilla\.task-id/), 'the scan saw the task containers start');
    assert.deepEqual(cmdlines.hits, []);
    const environs = await environScan.stop();
    assert.deepEqual(environs.hits, [], 'storage credentials reached a host process environment');
  });
});
