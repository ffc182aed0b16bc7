// The live hub's rules without a server: bursts coalesce per topic (merged to what they share), and a resume gets what
// it missed from the ring, or a reset when that is gone or the id is another run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Events } from '../store/events.js';
import { LiveHub, type LiveMessage } from './live.js';
import { waitFor } from '../../test/support/wait.js';

test('a burst of changes of one topic is one message per window, naming only what the changes share', async () => {
  const events = new Events();
  const hub = new LiveHub(events, { coalesceMs: 300, heartbeatMs: 60_000, ring: 100, maxPerToken: 2 });
  const got: { id: string; m: LiveMessage; at: number }[] = [];
  hub.subscribe((id, m) => got.push({ id, m, at: Date.now() }));
  for (let i = 0; i < 100; i++) events.publish({ kind: 'task', taskId: `t${i}`, queue: 'gpu' });
  events.publish({ kind: 'worker', workerId: 'w1' });
  await waitFor('the first message', () => got.length > 0, 5_000, 5);
  for (let i = 0; i < 100; i++) events.publish({ kind: 'task', taskId: `u${i}`, queue: i % 2 ? 'gpu' : 'cpu' });
  await waitFor('the second window', () => got.filter((g) => g.m.topic === 'tasks').length >= 2, 5_000, 5);
  const tasks = got.filter((g) => g.m.topic === 'tasks');
  assert.deepEqual(tasks.map((g) => g.m), [{ topic: 'tasks', queue: 'gpu' }, { topic: 'tasks' }],
    'each burst is one message, naming the queue only when all its changes share it');
  assert.ok(tasks[1].at - tasks[0].at >= 290, 'one message per topic per window');
  assert.deepEqual(got.filter((g) => g.m.topic === 'workers').map((g) => g.m), [{ topic: 'workers' }], 'topics coalesce apart');

  const missed = hub.since(got[0].id);
  assert.ok(Array.isArray(missed) && missed.length === got.length - 1, 'a resume gets every later message');
  assert.equal(hub.since('0000-1'), 'reset', "another run's id");
  hub.close();
});

test('an id the ring no longer holds asks for a reset', async () => {
  const events = new Events();
  const hub = new LiveHub(events, { coalesceMs: 0, heartbeatMs: 60_000, ring: 5, maxPerToken: 2 });
  const ids: string[] = [];
  hub.subscribe((id) => ids.push(id));
  for (let i = 0; i < 12; i++) {
    events.publish({ kind: 'apps' });
    await waitFor('sent', () => ids.length === i + 1, 5_000, 1);
  }
  assert.equal(hub.since(ids[0]), 'reset');
  assert.equal((hub.since(ids[8]) as unknown[]).length, 3);
  hub.close();
});
