import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentIdentity } from './executors/container.js';
import { defaultWorkBase, prepareWorkFolder, workerFolder } from './work-dir.js';

test('the default work folder: $XDG_CACHE_HOME/flotilla/work, else ~/.cache/flotilla/work', () => {
  assert.equal(defaultWorkBase({ XDG_CACHE_HOME: '/c', HOME: '/h' }), '/c/flotilla/work');
  assert.equal(defaultWorkBase({ HOME: '/h' }), '/h/.cache/flotilla/work');
  assert.equal(defaultWorkBase({ XDG_CACHE_HOME: 'relative', HOME: '/h' }), '/h/.cache/flotilla/work'); // XDG: absolute only
  assert.equal(workerFolder('/b', 'host/1 x'), '/b/host_1_x');
});

test('at start: own leftover task folders and the folders of gone agents are removed; live and foreign ones stay', () => {
  const base = mkdtempSync(join(tmpdir(), 'flotilla-workdir-test-'));
  try {
    const own = workerFolder(base, 'w1');
    mkdirSync(join(own, 'task-t1-abc', 'sub'), { recursive: true });
    writeFileSync(join(own, 'task-t1-abc', 'sub', 'f'), 'x');
    mkdirSync(join(own, 'keep-me'));
    const gone = join(base, 'w-gone');
    mkdirSync(join(gone, 'task-t2-def'), { recursive: true });
    writeFileSync(join(gone, '.agent'), `${hostname()}/999999999/1\n`);
    const live = join(base, 'w-live');
    mkdirSync(join(live, 'task-t3-ghi'), { recursive: true });
    writeFileSync(join(live, '.agent'), agentIdentity() + '\n');
    const foreign = join(base, 'not-an-agent');
    mkdirSync(foreign);
    const lines: string[] = [];
    assert.equal(prepareWorkFolder(base, 'w1', (m) => lines.push(m)), own);
    assert.ok(!existsSync(join(own, 'task-t1-abc')));
    assert.ok(existsSync(join(own, 'keep-me')));
    assert.ok(!existsSync(gone));
    assert.ok(existsSync(join(live, 'task-t3-ghi')));
    assert.ok(existsSync(foreign));
    assert.equal(lines.length, 2, lines.join('\n'));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
