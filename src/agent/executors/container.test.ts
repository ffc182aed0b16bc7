import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMount, chooseImage, containerName, DEFAULT_IMAGE, findContainerRuntime } from './container.js';

test('image: task, else agent, else configured default, else built-in default', () => {
  assert.equal(chooseImage({ taskImage: 't', agentImage: 'a', defaultImage: 'd' }), 't');
  assert.equal(chooseImage({ agentImage: 'a', defaultImage: 'd' }), 'a');
  assert.equal(chooseImage({ defaultImage: 'd' }), 'd');
  assert.equal(chooseImage({}), DEFAULT_IMAGE);
});

test('image: --no-task-image-override makes the agent side win, when it has an image', () => {
  assert.equal(chooseImage({ taskImage: 't', agentImage: 'a', noTaskImageOverride: true }), 'a');
  assert.equal(chooseImage({ taskImage: 't', defaultImage: 'd', noTaskImageOverride: true }), 'd');
  assert.equal(chooseImage({ taskImage: 't', noTaskImageOverride: true }), 't');
});

test('container names keep only characters the runtime accepts', () => {
  assert.equal(containerName('abc-123_x.y'), 'flotilla-abc-123_x.y');
  assert.equal(containerName('a/b c'), 'flotilla-a_b_c');
});

test('mounts must lie inside an allowed directory and be well formed', () => {
  assert.equal(checkMount('/data/sets/a:/data:ro', ['/data']), '/data/sets/a:/data:ro');
  assert.equal(checkMount('/data:/d', ['/data/']), '/data:/d:rw');
  assert.throws(() => checkMount('/data/../etc:/x', ['/data']), /not under an allowed mount directory/);
  assert.throws(() => checkMount('/database:/x', ['/data']), /not under an allowed mount directory/);
  assert.throws(() => checkMount('/data:/x', []), /add it to the agent's allowed mounts/);
  assert.throws(() => checkMount('data:/x', ['/data']), /\/host\/path:\/container\/path\[:ro\|rw\]/);
  assert.throws(() => checkMount('/data:/x:z', ['/data']), /write it as/);
});

test('a symlink inside an allowed directory that leads outside it is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-mnt-'));
  try {
    symlinkSync('/etc', join(dir, 'escape'));
    assert.throws(() => checkMount(`${join(dir, 'escape')}:/x`, [dir]), /not under an allowed mount directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runtime: podman before docker on PATH; a named runtime must exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-rt-'));
  try {
    for (const name of ['docker', 'podman']) {
      writeFileSync(join(dir, name), '#!/bin/sh\n');
      chmodSync(join(dir, name), 0o755);
    }
    assert.equal(findContainerRuntime(undefined, dir), join(dir, 'podman'));
    assert.equal(findContainerRuntime('docker', dir), join(dir, 'docker'));
    rmSync(join(dir, 'podman'));
    assert.equal(findContainerRuntime(undefined, dir), join(dir, 'docker'));
    assert.throws(() => findContainerRuntime('nerdctl', dir), /--container-runtime nerdctl: not found/);
    rmSync(join(dir, 'docker'));
    assert.throws(() => findContainerRuntime(undefined, dir), /install podman or docker/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runtimeFailure: exit 125/126/127 with the runtime\'s own error lines is the runtime, anything else the task', async () => {
  const { runtimeFailure } = await import('./container.js');
  const rlimit = 'some task output\nError: runc: runc create failed: error setting rlimits for ready process\n';
  assert.match(runtimeFailure('/usr/bin/podman', 126, rlimit)!, /^the container runtime failed, not the task \(podman run exit 126\): Error: runc: runc create failed/);
  assert.match(runtimeFailure('docker', 125, 'docker: Error response from daemon: No such image: x.\n')!, /docker run exit 125\): docker: Error response/);
  // The task's own 127 (command not found inside the container) and any other exit code: not the runtime.
  assert.equal(runtimeFailure('podman', 127, 'sh: 1: nosuchcmd: not found\n'), undefined);
  assert.equal(runtimeFailure('podman', 1, rlimit), undefined);
  assert.equal(runtimeFailure('podman', null, rlimit), undefined);
});
