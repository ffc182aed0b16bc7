// `flotilla up` stopped by a signal stops its local workers before it exits: Ctrl-C (SIGINT), `kill` (SIGTERM),
// and a closed terminal (SIGHUP, which once left the idle workers running with no control plane).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaClient } from '../src/client/index.js';
import { LocalProvider } from '../src/autoscaler/providers/local/provider.js';
import { startFlotilla } from './support/flotilla-process.js';
import { CLI } from './support/cli.js';
import { waitFor } from './support/wait.js';

/** Worker processes (pids) of the local provider that serve the control plane at `url`. */
async function workersOf(local: LocalProvider, url: string): Promise<string[]> {
  const serves = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(url);
    } catch {
      return false;
    }
  };
  return (await local.list('local')).map((p) => p.providerId).filter(serves);
}

describe('flotilla up stopped by a signal', () => {
  let dir: string;
  before(() => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first with npx tsc -p tsconfig.json`);
    dir = mkdtempSync(join(tmpdir(), 'flotilla-up-signals-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    test(`${signal}: the workers it started are gone when it exits`, async () => {
      const dataDir = join(dir, signal);
      // A long idle timeout: only the stop can end these workers within the test.
      const up = startFlotilla(['up', '--port', '0', '--data-dir', dataDir, '--idle-timeout', '600']);
      const local = new LocalProvider({ logDir: join(dir, 'unused-logs') });
      try {
        await waitFor('up to print its banner', () => up.output().includes('Stop it with Ctrl-C.'), 30_000);
        const url = /listening on (http:\/\/\S+)/.exec(up.output())![1];
        const client = new FlotillaClient(url, readFileSync(join(dataDir, 'admin-token'), 'utf8').trim());
        const tasks = await client.createTasks([{ queue: 'default', command: 'true' }, { queue: 'default', command: 'true' }]);
        await waitFor('both tasks to complete on local workers', async () => {
          const states = await Promise.all(tasks.map(async (t) => (await client.getTask(t.id)).status));
          return states.every((s) => s === 'completed');
        }, 60_000);
        const pids = await workersOf(local, url);
        assert.ok(pids.length >= 1, `a live local worker process before the ${signal}`);

        up.child.kill(signal);
        assert.equal(await up.exited, 0, up.output());
        // No wait here: the control plane waits for its workers to be gone before it exits.
        assert.deepEqual(await workersOf(local, url), [], `workers still running after ${signal}:\n${up.output()}`);
      } finally {
        await up.stop(1_000);
        const url = /listening on (http:\/\/\S+)/.exec(up.output())?.[1];
        for (const pid of url ? await workersOf(local, url) : []) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch { /* gone, as it should be */ }
        }
      }
    });
  }
});
