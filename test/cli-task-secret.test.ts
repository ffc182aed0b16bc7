// `flotilla task create` container/git flags and `flotilla secret` against a real control plane.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { runFlotilla, startFlotilla } from './support/flotilla-process.js';

let t: TestControlPlane;
let dir: string;
const cli = (...args: string[]) => runFlotilla(['--server', t.cp.url, ...args], { FLOTILLA_TOKEN: t.cp.adminToken! });

before(async () => {
  t = await startTestControlPlane('sqlite');
  dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-'));
  await t.user.createQueue('q');
});
after(async () => {
  await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('task create carries image, container env, mounts, git, setup script and requirements', async () => {
  writeFileSync(join(dir, 'setup.sh'), 'apt-get install -y tool\n');
  const out = await cli('task', 'create', '--queue', 'q', '--image', 'img:1', '--container-env', 'A=1', '--mount', '/data:/data:ro',
    '--repo', 'https://git.example.com/r.git', '--branch', 'dev', '--commit', 'abc123', '--entry-point', 'train.py',
    '--setup-script', `@${join(dir, 'setup.sh')}`, '--requirements', 'requirements.txt', '--json');
  const task = JSON.parse(out.slice(out.indexOf('{')));
  assert.deepEqual(task.spec, {
    env: {}, image: 'img:1', container: { env: { A: '1' }, mounts: ['/data:/data:ro'] },
    git: { repository: 'https://git.example.com/r.git', branch: 'dev', commit: 'abc123', entryPoint: 'train.py' },
    setupScript: 'apt-get install -y tool\n', requirementsFile: 'requirements.txt',
  });
  await assert.rejects(cli('task', 'create', '--queue', 'q', '--command', 'x', '--branch', 'dev'), /--branch, --commit and --entry-point need --repo URL/);
  await assert.rejects(cli('task', 'create', '--queue', 'q'), /command \(--command\): give a command, or a git repository with an entryPoint/);
});

test('secret set takes the value from a file or env variables only; list shows no value; delete', async () => {
  const file = join(dir, 'git.yaml');
  writeFileSync(file, 'username: bot\npassword: s3cret-value\n', { mode: 0o600 });
  assert.match(await cli('secret', 'set', 'repo', '--kind', 'git', '--from-file', file), /secret "repo" \(git\) created/);
  const setFromEnv = startFlotilla(['--server', t.cp.url, 'secret', 'set', 'bucket', '--kind', 'storage',
    '--from-env', 'aws.accessKeyId=KEY_ID', '--from-env', 'aws.secretAccessKey=KEY'], { FLOTILLA_TOKEN: t.cp.adminToken!, KEY_ID: 'AKIA1', KEY: 'sk-2' });
  assert.equal(await setFromEnv.exited, 0, setFromEnv.output());
  const listed = await cli('secret', 'list');
  assert.match(listed, /^NAME\s+KIND\s+CREATED\s+UPDATED\nbucket\s+storage\s.*\nrepo\s+git\s/);
  assert.ok(!listed.includes('s3cret-value') && !listed.includes('sk-2'));
  await assert.rejects(cli('secret', 'set', 'x', '--kind', 'git', '--from-file', file, '--from-env', 'a=B'), /either --from-file FILE or --from-env/);
  await assert.rejects(cli('secret', 'set', 'x', '--kind', 'git', '--from-env', 'username=NOPE_UNSET'), /NOPE_UNSET is not set/);
  await assert.rejects(cli('secret', 'set', 'x', '--kind', 'aws', '--from-file', file), /body\.value\.accessKeyId \(--from-file\)/);
  assert.match(await cli('secret', 'delete', 'repo'), /secret "repo" deleted/);
});
