// Issue 18 item 7: the agent's task folders live under $XDG_CACHE_HOME/flotilla/work/<worker id> (docs/agent.md),
// its start line says so, and what a killed agent left there is removed at the next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFlotilla } from './support/flotilla-process.js';
import { waitFor } from './support/wait.js';

test('an agent works in $XDG_CACHE_HOME/flotilla/work/<worker id>, says so, and removes leftover task folders at start', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'flotilla-xdg-'));
  const folder = join(cache, 'flotilla', 'work', 'wd-1');
  const leftover = join(folder, 'task-t-old-abc123');
  mkdirSync(join(leftover, 'data'), { recursive: true });
  // No control plane needed: the folder is prepared before the agent registers (port 9 answers nothing).
  const agent = startFlotilla(['--server', 'http://127.0.0.1:9', 'agent', '--queue', 'q', '--worker-id', 'wd-1'],
    { FLOTILLA_TOKEN: 'work-dir-test-token', XDG_CACHE_HOME: cache });
  try {
    await waitFor('the start line', () => /starting: control plane/.test(agent.output()), 60_000);
    assert.ok(agent.output().includes(`task folders in ${folder}`), agent.output());
    assert.ok(!existsSync(leftover), 'the leftover task folder is still there');
    assert.ok(agent.output().includes(`removed ${leftover}`), agent.output());
    assert.ok(existsSync(join(folder, '.agent')));
  } finally {
    await agent.stop(5_000);
    rmSync(cache, { recursive: true, force: true });
  }
});
