// Task output through a real agent: kept in order, read in pages, readable (and followable) while the
// task runs, and capped per task with a marker saying so.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { AGENT_WAIT_MS, useControlPlane } from '../support/suite.js';
import { DIALECTS } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import type { LogLine } from '../../src/domain/task.js';

const MAX_LOG_BYTES = 2000;
const textOf = (lines: LogLine[]) => lines.map((l) => l.text).join('');

describe('logs', { concurrency: true }, () => {
  for (const dialect of DIALECTS) describe(dialect, { concurrency: 1 }, () => {
    const s = useControlPlane(dialect, { maxLogBytes: MAX_LOG_BYTES, keepAgents: true });
    before(async () => {
      await s.t.user.createQueue('q');
      s.spawn(['q']);
    });

    test('lines are kept in order and read in pages (after, limit)', async () => {
      const { t, marks } = s;
      const task = await t.user.createTask({ queue: 'q', command: 'for i in $(seq 1 40); do echo line $i; sleep 0.01; done' });
      await waitFor('task completed', s.statusIs(task.id, 'completed'), AGENT_WAIT_MS);
      const expected = Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join('');
      const all = (await t.user.logs(task.id)).lines;
      assert.equal(textOf(all), expected);
      assert.deepEqual(all.map((l) => l.seq), all.map((_, i) => i + 1), 'sequence numbers run 1, 2, 3, …');
      assert.ok(all.every((l) => l.stream === 'stdout'));

      const paged: LogLine[] = [];
      for (let after = 0; ;) {
        const page = await t.user.logs(task.id, after, { limit: 3 });
        assert.ok(page.lines.length <= 3);
        if (!page.lines.length) break;
        paged.push(...page.lines);
        assert.equal(page.next, page.lines[page.lines.length - 1].seq);
        after = page.next;
      }
      assert.deepEqual(paged, all);
    });

    test('output is readable while the task runs, and a follower is woken by new lines', async () => {
      const { t, marks } = s;
      const go = marks.path('go');
      const task = await t.user.createTask({ queue: 'q', command: `echo first; while [ ! -f ${go} ] && [ -d ${marks.dir} ]; do sleep 0.05; done; echo second` });
      const page = await waitFor('first line readable', async () => {
        const p = await t.user.logs(task.id);
        return p.lines.length > 0 && p;
      }, AGENT_WAIT_MS);
      assert.equal(textOf(page.lines), 'first\n');
      assert.equal(page.status, 'running');
      assert.equal(page.done, false);

      const follow = t.user.logs(task.id, page.next, { waitMs: 20_000 });
      writeFileSync(go, '');
      const more = await follow;
      assert.equal(textOf(more.lines), 'second\n');
      await waitFor('task completed', s.statusIs(task.id, 'completed'), AGENT_WAIT_MS);
      assert.equal(textOf((await t.user.logs(task.id)).lines), 'first\nsecond\n');
    });

    test(`a task's log is capped (${MAX_LOG_BYTES} bytes here) with a truncation marker; the task still completes`, async () => {
      const { t, marks } = s;
      const task = await t.user.createTask({ queue: 'q', command: "for i in $(seq 1 100); do printf '%049d\\n' $i; done" });
      await waitFor('task completed', s.statusIs(task.id, 'completed'), AGENT_WAIT_MS);
      const lines = (await t.user.logs(task.id, 0, { limit: 5000 })).lines;
      const output = lines.filter((l) => l.stream === 'stdout');
      const kept = textOf(output);
      assert.equal(Buffer.byteLength(kept), MAX_LOG_BYTES, 'output is kept right up to the cap');
      const full = Array.from({ length: 100 }, (_, i) => `${String(i + 1).padStart(49, '0')}\n`).join('');
      assert.ok(full.startsWith(kept), 'what is kept is the start of the output, in order');
      const last = lines[lines.length - 1];
      assert.equal(last.stream, 'system');
      assert.match(last.text, new RegExp(`log truncated at ${MAX_LOG_BYTES} bytes`));
      assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i + 1));
    });
  });
});
