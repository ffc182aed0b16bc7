// Cloning a private repository over HTTP with basic auth (real git, real git http-backend).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneRepository, type CloneRequest } from '../src/agent/git.js';
import { git, startGitServer, type GitServer } from './support/git-server.js';
import { sawCommand, startProcScan } from './support/proc.js';

const canary = `canary-${randomBytes(8).toString('hex')}`;
const good = { username: 'alice', password: canary };
let server: GitServer;
let root: string;
let firstCommit = '';
let n = 0;

async function clone(req: Omit<CloneRequest, 'dir'>) {
  const dir = join(root, `clone-${++n}`);
  let output = '';
  const result = await cloneRepository({ ...req, dir, onOutput: (_s, t) => (output += t) });
  return { dir, result, output };
}

async function cloneError(req: Omit<CloneRequest, 'dir'>): Promise<string> {
  try {
    await clone(req);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the clone was expected to fail');
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'flotilla-gittest-'));
  server = await startGitServer(good);
  const libHead = await server.createRepo('lib', async (w) => {
    writeFileSync(join(w, 'lib.txt'), 'library\n');
    await git(w, 'add', '.');
    await git(w, 'commit', '-q', '-m', 'lib');
  });
  await server.createRepo('private', async (w) => {
    writeFileSync(join(w, 'README'), 'v1\n');
    await git(w, 'add', '.');
    await git(w, 'commit', '-q', '-m', 'one');
    firstCommit = await git(w, 'rev-parse', 'HEAD');
    writeFileSync(join(w, 'README'), 'v2\n');
    // A submodule on the same private server, recorded without fetching it here.
    writeFileSync(join(w, '.gitmodules'), `[submodule "lib"]\n\tpath = lib\n\turl = ${server.repoUrl('lib')}\n`);
    await git(w, 'add', '.');
    await git(w, 'update-index', '--add', '--cacheinfo', `160000,${libHead},lib`);
    await git(w, 'commit', '-q', '-m', 'two');
    await git(w, 'checkout', '-q', '-b', 'feature');
    writeFileSync(join(w, 'feature.txt'), 'feature\n');
    await git(w, 'add', '.');
    await git(w, 'commit', '-q', '-m', 'feature');
    await git(w, 'checkout', '-q', 'main');
  });
});

after(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('cloneRepository against a private git server', () => {
  test('right credentials clone the default branch with its submodules', async () => {
    const { dir, result } = await clone({ url: server.repoUrl('private'), credentials: good, submodules: true });
    assert.equal(readFileSync(join(dir, 'README'), 'utf8'), 'v2\n');
    assert.equal(readFileSync(join(dir, 'lib', 'lib.txt'), 'utf8'), 'library\n');
    assert.match(result.commit, /^[0-9a-f]{40}$/);
    assert.ok(!existsSync(join(dir, 'feature.txt')));
  });

  test('without submodules the submodule stays empty', async () => {
    const { dir } = await clone({ url: server.repoUrl('private'), credentials: good });
    assert.ok(!existsSync(join(dir, 'lib', 'lib.txt')));
  });

  test('a branch and a commit are checked out', async () => {
    const feature = await clone({ url: server.repoUrl('private'), credentials: good, branch: 'feature' });
    assert.equal(readFileSync(join(feature.dir, 'feature.txt'), 'utf8'), 'feature\n');
    const old = await clone({ url: server.repoUrl('private'), credentials: good, commit: firstCommit });
    assert.equal(old.result.commit, firstCommit);
    assert.equal(readFileSync(join(old.dir, 'README'), 'utf8'), 'v1\n');
  });

  test('wrong or missing credentials fail clearly, without the secret', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const message = await cloneError({ url: server.repoUrl('private'), credentials: { username: 'alice', password: wrong } });
    assert.match(message, /git clone of http:\/\/127\.0\.0\.1:\d+\/private\.git failed \(exit 128\): authentication failed on 127\.0\.0\.1:\d+: check the git credentials/);
    assert.ok(!message.includes(wrong));
    assert.match(await cloneError({ url: server.repoUrl('private') }), /needs credentials: configure git credentials/);
  });

  test('credentials limited to another host are not offered', async () => {
    const message = await cloneError({ url: server.repoUrl('private'), credentials: { ...good, host: 'git.example.com' } });
    assert.match(message, /limited to host git\.example\.com, but the repository is on 127\.0\.0\.1:\d+/);
    assert.ok(!message.includes(canary));
    await clone({ url: server.repoUrl('private'), credentials: { ...good, host: '127.0.0.1' } });
    await clone({ url: server.repoUrl('private'), credentials: { ...good, host: `127.0.0.1:${server.port}` } });
  });

  test('credentials inside the URL are moved out of it and never stored', async () => {
    const url = server.repoUrl('private').replace('//', `//alice:${canary}@`);
    const { dir, output } = await clone({ url });
    assert.equal(readFileSync(join(dir, 'README'), 'utf8'), 'v2\n');
    assert.ok(!readFileSync(join(dir, '.git', 'config'), 'utf8').includes(canary), '.git/config has no password');
    assert.ok(!output.includes(canary));
  });
});

describe('the password during a slow clone', () => {
  let slow: GitServer;
  before(async () => {
    slow = await startGitServer({ ...good, delayMs: 300 });
    await slow.createRepo('slow', async (w) => {
      writeFileSync(join(w, 'data'), 'x\n');
      await git(w, 'add', '.');
      await git(w, 'commit', '-q', '-m', 'x');
    });
  });
  after(() => slow.close());

  test('never appears on any process command line', async () => {
    const scan = startProcScan({ needles: [canary] });
    for (const url of [slow.repoUrl('slow'), slow.repoUrl('slow').replace('//', `//alice:${canary}@`)]) {
      await clone({ url, credentials: url.includes('@') ? undefined : good });
    }
    const report = await scan.stop();
    assert.ok(sawCommand(report, /git(-remote-http| remote-http)/), `the scan saw git at work (${report.passes} passes)`);
    assert.deepEqual(report.hits, []);
  });
});
