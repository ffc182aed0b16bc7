import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entryPointCommand, taskCommand } from './task-command.js';

function runSh(command: string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-tc-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o755 });
    const r = spawnSync('/bin/sh', ['-c', command], { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the command alone runs as given', () => {
  assert.equal(taskCommand({ command: 'echo hi' }), 'echo hi');
});

test('the entry point runs when there is no command, by its interpreter', () => {
  assert.equal(entryPointCommand('train.py'), "python3 './train.py'");
  assert.equal(entryPointCommand('scripts/run.sh'), "sh './scripts/run.sh'");
  assert.equal(entryPointCommand("it's"), `'./it'\\''s'`);
  assert.equal(runSh(taskCommand({ git: { repository: 'x', entryPoint: 'go.sh' } }), { 'go.sh': 'echo from entry\n' }).stdout, 'from entry\n');
  assert.throws(() => taskCommand({}), /give it a command, or a git repository with an entry point/);
});

test('the setup script runs first; when it fails the task stops with its exit code and says so', () => {
  const ok = runSh(taskCommand({ command: 'cat made', setupScript: 'echo setup > made' }));
  assert.deepEqual([ok.code, ok.stdout], [0, 'setup\n']);
  const bad = runSh(taskCommand({ command: 'echo never', setupScript: 'echo trying\nexit 4' }));
  assert.deepEqual([bad.code, bad.stdout], [4, 'trying\n']);
  assert.match(bad.stderr, /flotilla: setup script failed with exit code 4/);
});

test('requirements are skipped with a message when there is no python', () => {
  const hasPython = spawnSync('sh', ['-c', 'command -v python3 || command -v python'], { env: { PATH: '/usr/bin:/bin' } }).status === 0;
  if (hasPython) {
    // pip reads the file: a missing one fails the task with pip's exit code and names the step.
    const r = runSh(taskCommand({ command: 'echo never', requirementsFile: 'missing.txt' }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /flotilla: pip install -r missing.txt failed/);
  }
  const noPy = spawnSync('/bin/sh', ['-c', taskCommand({ command: 'echo ran', requirementsFile: 'r.txt' })], {
    encoding: 'utf8', env: { PATH: '/nonexistent' },
  });
  assert.equal(noPy.status, 0, noPy.stderr);
  assert.match(noPy.stderr, /no python in this image: skipping requirements file r.txt/);
});
