import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnreachableError } from '../client/index.js';
import { backoffDelay } from '../domain/backoff.js';
import { BACKOFF } from '../domain/timings.js';
import { unreachableReporter } from './retry.js';

test('the unreachable lines: the first at once, then only when the wait grows or every 30 s, and one when through', () => {
  let now = 0;
  const lines: string[] = [];
  const r = unreachableReporter('http://cp:1', (m) => lines.push(m), () => now);
  const err = new UnreachableError('http://cp:1', Object.assign(new Error(''), { errors: [new Error('connect ECONNREFUSED ::1:1'), new Error('connect ECONNREFUSED 127.0.0.1:1')] }));
  let attempt = 1;
  while (now < 120_000) {
    const wait = backoffDelay(attempt - 1, BACKOFF.agent, () => 0.5);
    r.onRetry(err, attempt++);
    now += wait;
  }
  r.reached();
  assert.match(lines[0], /cannot reach the control plane at http:\/\/cp:1 \(connect ECONNREFUSED ::1:1; connect ECONNREFUSED 127\.0\.0\.1:1\)/);
  assert.match(lines.at(-1)!, /reached the control plane at http:\/\/cp:1 after \d+ attempts in 1\d\d(\.\d)? s/);
  assert.ok(attempt > 25, `attempts: ${attempt}`);
  assert.ok(lines.length <= 12, lines.join('\n'));
});
