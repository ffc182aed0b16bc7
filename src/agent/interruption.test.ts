// The interruption watch against the loopback fake of both metadata servers (test/fakes/metadata.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeMetadata, type FakeMetadata } from '../../test/fakes/metadata.js';
import { graceFor, watchInterruptions, type InterruptionNotice } from './interruption.js';
import { waitFor } from '../../test/support/wait.js';

let md: FakeMetadata;
before(async () => {
  md = await startFakeMetadata();
});
after(async () => md?.close());

function watch(source: 'aws' | 'gcp') {
  const seen: { rebalance: number; notice?: InterruptionNotice; logs: string[] } = { rebalance: 0, logs: [] };
  const stop = new AbortController();
  const done = watchInterruptions({ source, metadataUrl: md.url, pollMs: 50 }, {
    onRebalance: () => seen.rebalance++,
    onNotice: (n) => (seen.notice = n),
    log: (m) => seen.logs.push(m),
  }, stop.signal);
  return { seen, stop, done };
}

test('EC2 (IMDSv2 with a session token): a rebalance recommendation once, then the stop notice with its time', async () => {
  md.clear();
  const w = watch('aws');
  await waitFor('a few polls', async () => md.hits('/latest/meta-data/spot/instance-action') >= 3);
  assert.equal(w.seen.rebalance, 0);
  assert.equal(w.seen.notice, undefined);
  md.recommendRebalance();
  await waitFor('the rebalance recommendation', async () => w.seen.rebalance === 1);
  const at = new Date(Date.now() + 120_000);
  md.announceStop('terminate', at);
  await w.done; // the watch ends with the notice
  const notice = w.seen.notice as InterruptionNotice | undefined;
  assert.equal(w.seen.rebalance, 1, 'a recommendation is told once');
  assert.equal(notice?.action, 'terminate');
  assert.ok(Math.abs(notice!.at - at.getTime()) < 1000);
  assert.ok(md.hits('/latest/api/token') >= 1, 'IMDSv2: a token was asked for');
  assert.deepEqual(w.seen.logs, []);
});

test('Compute Engine: a held wait_for_change answers at once when the machine is preempted', async () => {
  md.clear();
  const w = watch('gcp');
  await waitFor('the first read and a held long poll', async () => md.hits('/computeMetadata/v1/instance/preempted') >= 2);
  const before = md.hits('/computeMetadata/v1/instance/preempted');
  md.preempt();
  await w.done;
  assert.equal(w.seen.notice?.action, 'preempt');
  assert.ok(md.hits('/computeMetadata/v1/instance/preempted') <= before + 1, 'a long poll, not a busy poll');
});

test('a metadata server that does not answer is said once and retried; the watch stops on its signal', async () => {
  const w = watchInterruptions({ source: 'aws', metadataUrl: 'http://127.0.0.1:9', pollMs: 20 }, {
    onRebalance: () => assert.fail('no rebalance'), onNotice: () => assert.fail('no notice'), log: (m) => logs.push(m),
  }, AbortSignal.timeout(300));
  const logs: string[] = [];
  await w;
  assert.equal(logs.length, 1, logs.join('\n'));
  assert.match(logs[0], /metadata server at http:\/\/127\.0\.0\.1:9 does not answer/);
});

test('the task\'s grace is cut so the hand-back fits before the machine goes', () => {
  const now = 1_000_000;
  const w = { source: 'aws' as const, metadataUrl: 'x' };
  assert.equal(graceFor(w, { source: 'aws', action: 'terminate', at: now + 120_000 }, now), 90_000);
  assert.equal(graceFor(w, { source: 'aws', action: 'terminate', at: now + 30_000 }, now), 25_000);
  assert.equal(graceFor({ ...w, graceMs: 5_000 }, { source: 'aws', action: 'terminate', at: now + 120_000 }, now), 5_000);
  assert.equal(graceFor(w, { source: 'aws', action: 'terminate', at: now - 1 }, now), 1_000);
});
