// The shipper never retries a batch the control plane refused (a 4xx): it drops it and sends the next one;
// a lost lease (409) ends the shipping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type FlotillaClient } from '../client/index.js';
import { LogShipper } from './log-shipper.js';

function fakeClient(answer: (texts: string[]) => Error | undefined) {
  const calls: string[][] = [];
  const client = {
    appendLogs: async (_t: string, _l: string, lines: { text: string }[]) => {
      const texts = lines.map((l) => l.text);
      calls.push(texts);
      const e = answer(texts);
      if (e) throw e;
      return { accepted: lines.length };
    },
  } as unknown as FlotillaClient;
  return { client, calls };
}

test('a batch refused with a 400 is sent once, dropped, and the next batch is still sent', async () => {
  const { client, calls } = fakeClient((t) => (t.includes('bad') ? new ApiError(400, 'invalid request') : undefined));
  const s = new LogShipper(client, 't1', 'l1');
  s.write('stdout', 'bad');
  await s.flush();
  s.write('stdout', 'good');
  await s.flush();
  assert.deepEqual(calls, [['bad'], ['good']]);
});

test('a lost lease (409) stops the shipping', async () => {
  const { client, calls } = fakeClient(() => new ApiError(409, 'lease gone'));
  const s = new LogShipper(client, 't1', 'l1');
  s.write('stdout', 'a');
  await s.flush();
  s.write('stdout', 'b');
  await s.flush();
  assert.deepEqual(calls, [['a']]);
});
