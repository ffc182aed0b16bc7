import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTaskLines, TaskFileError } from './task-batch.js';

test('lines become tasks with their line numbers; blank lines are skipped; flags fill what a line leaves out', async () => {
  const text = '{"command": "echo 1"}\n\n{"command": "echo 2", "queue": "gpu", "env": {"B": "2"}, "priority": 5}\n';
  const lines = await parseTaskLines(text, 'tasks.jsonl', { queue: 'default', env: { A: '1' }, priority: 1 });
  assert.deepEqual(lines.map((l) => l.line), [1, 3]);
  assert.deepEqual(lines[0]!.task, { queue: 'default', command: 'echo 1', env: { A: '1' }, priority: 1 });
  assert.deepEqual(lines[1]!.task, { queue: 'gpu', command: 'echo 2', env: { A: '1', B: '2' }, priority: 5 });
});

test('every mistake names its line and field, and nothing is returned', async () => {
  const text = [
    '{"queue": "q", "command": "ok"}',
    '{"queue": "q", "command": "x", "priority": "high"}',
    'not json',
    '{"queue": "q", "comand": "typo"}',
    '["an", "array"]',
  ].join('\n');
  await assert.rejects(parseTaskLines(text, 'tasks.jsonl', {}), (e: unknown) => {
    assert.ok(e instanceof TaskFileError);
    const m = e.message;
    assert.match(m, /^tasks\.jsonl: \d+ problems/);
    assert.match(m, /line 2: priority: /);
    assert.match(m, /line 3: not JSON/);
    assert.match(m, /line 4: comand: unknown field/);
    assert.match(m, /line 4: command: give a command/);
    assert.match(m, /line 5: expected a JSON object/);
    assert.doesNotMatch(m, /line 1:/);
    return true;
  });
});

test('one problem reads as one line; an empty file says so', async () => {
  await assert.rejects(parseTaskLines('{"command": "x"}\n', 'stdin', {}), /^TaskFileError: stdin line 1: queue: /);
  await assert.rejects(parseTaskLines('\n\n', 'stdin', { queue: 'q' }), /stdin: no tasks in it/);
});
