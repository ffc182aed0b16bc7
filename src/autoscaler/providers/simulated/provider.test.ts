import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CapacityError, type LaunchRequest } from '../types.js';
import { SimulatedProvider } from './provider.js';

const req = (token: string, over: Partial<LaunchRequest> = {}): LaunchRequest => ({
  appId: 'app', resource: 'gpu1', clientToken: token, offering: { instanceType: 'g5.xlarge', zone: 'a', market: 'on-demand' },
  launch: {}, startupScript: '', tags: { 'flotilla-app': 'app' }, ...over,
});

test('instances boot on the virtual clock: pending, then running after the boot time, then terminated', async () => {
  const p = new SimulatedProvider({ bootTime: { distribution: 'fixed', seconds: 90, sigma: 0 } });
  const got = await p.launch(req('t1'));
  assert.equal(got.state, 'pending');
  p.clock.advance(89_999);
  assert.deepEqual((await p.list('app')).map((i) => i.state), ['pending']);
  p.clock.advance(1);
  const [inst] = await p.list('app');
  assert.equal(inst!.state, 'running');
  assert.equal(inst!.clientToken, 't1');
  assert.deepEqual(await p.list('other-app'), []);
  await p.terminate([got.providerId]);
  assert.deepEqual((await p.list('app')).map((i) => i.state), ['terminated']);
});

test('launch is idempotent by client token', async () => {
  const p = new SimulatedProvider();
  const a = await p.launch(req('same'));
  const b = await p.launch(req('same'));
  assert.equal(a.providerId, b.providerId);
  assert.equal((await p.list('app')).length, 1);
});

test('an offering with no capacity answers CapacityError naming it; other zones still launch', async () => {
  const p = new SimulatedProvider({ faults: { capacityErrorRate: 0, spotInterruptionsPerHour: 0, noCapacity: [{ instanceType: 'g5.xlarge', zone: 'a' }] } });
  await assert.rejects(p.launch(req('x')), (err: unknown) => err instanceof CapacityError && err.offering.zone === 'a' && /g5\.xlarge/.test(err.message));
  const ok = await p.launch(req('y', { offering: { instanceType: 'g5.xlarge', zone: 'b', market: 'on-demand' } }));
  assert.equal(ok.offering.zone, 'b');
});

test('spot instances are interrupted at the set rate; same seed, same moments', async () => {
  const run = async (seed: number) => {
    const p = new SimulatedProvider({ seed, faults: { capacityErrorRate: 0, spotInterruptionsPerHour: 1, noCapacity: [] } });
    for (let i = 0; i < 50; i++) await p.launch(req(`s${i}`, { offering: { instanceType: 'g5.xlarge', market: 'spot' } }));
    p.clock.advance(3_600_000);
    return (await p.list('app')).map((i) => i.state);
  };
  const a = await run(5);
  assert.deepEqual(await run(5), a);
  const gone = a.filter((s) => s === 'terminated').length;
  assert.ok(gone > 15 && gone < 50, `about 1 - 1/e of 50 gone after an hour at 1/h, got ${gone}`); // 31.6 expected
});
