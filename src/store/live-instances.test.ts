// The reconciler's in-memory records of an app's live instances, on both stores: read whole once, then kept by a
// census per call; its own writes land without a read; another writer's change, a write that was refused, a late
// commit with a smaller rev and an invalidation are all picked up; another app's writes cost nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { Store } from './index.js';
import { LiveInstances } from './live-instances.js';
import { InvalidTransitionError } from '../domain/errors.js';
import { DIALECTS, createTestDb } from '../../test/support/stores.js';

const offering = { instanceType: 't3.micro', zone: 'z1', market: 'on-demand' as const };

for (const dialect of DIALECTS) {
  test(`${dialect}: live instance records kept in memory agree with the store after every kind of write`, async () => {
    const db = await createTestDb(dialect);
    const store = await Store.open(db.url);
    try {
      const t0 = Date.now();
      const made = (id: string, app = 'a', at = t0) => store.instances.create({ id, app, resource: 'r', offering, pricePerHour: 0.1, launchedAt: at });
      // Launched in the same millisecond: the id orders them, as InstanceRepo.live does.
      for (const id of ['a-3', 'a-1', 'a-2']) await made(id);
      await store.instances.move('a-1', 'requested', 'booting', { providerId: 'p-1' }, t0);
      const live = new LiveInstances(store.instances, 'a');
      const ids = async () => (await live.records()).map((r) => `${r.id}:${r.state}${r.requested ? `:${r.requested}` : ''}`);
      const stored = async () => (await store.instances.live('a')).map((r) => `${r.id}:${r.state}${r.requested ? `:${r.requested}` : ''}`);

      assert.deepEqual(await ids(), ['a-1:booting', 'a-2:requested', 'a-3:requested']);
      assert.deepEqual(await ids(), await stored());
      assert.deepEqual(live.stats, { loads: 1, checks: 1, deltas: 0 }, 'the second call is a census, not a read of every record');

      // Its own writes: kept as written, no read.
      await live.create({ id: 'a-4', app: 'a', resource: 'r', offering, pricePerHour: 0.1, launchedAt: t0 + 1 });
      await live.move('a-2', 'requested', 'booting', { providerId: 'p-2' }, t0 + 2);
      await live.move('a-3', 'requested', 'failed', { message: 'no' }, t0 + 2);
      await live.update('a-1', { message: 'hello' });
      assert.deepEqual(await ids(), ['a-1:booting', 'a-2:booting', 'a-4:requested']);
      assert.equal((await live.records())[0].message, 'hello');
      assert.deepEqual(await ids(), await stored());
      assert.deepEqual(live.stats, { loads: 1, checks: 4, deltas: 0 });

      // Another writer: a console request, a move, a new instance of the app. The census differs; the rows written
      // since are read, not all of them.
      await store.instances.request('a-2', 'drain');
      assert.deepEqual(await ids(), ['a-1:booting', 'a-2:booting:drain', 'a-4:requested']);
      await store.instances.move('a-1', 'booting', 'terminated', { message: 'lost' }, t0 + 3);
      await made('a-5', 'a', t0 + 4);
      assert.deepEqual(await ids(), ['a-2:booting:drain', 'a-4:requested', 'a-5:requested']);
      assert.deepEqual(await ids(), await stored());
      assert.deepEqual(live.stats, { loads: 1, checks: 7, deltas: 2 });

      // Another app's instances change nothing here.
      await made('b-1', 'b');
      await store.instances.move('b-1', 'requested', 'booting', {}, t0 + 5);
      await ids();
      assert.deepEqual(live.stats, { loads: 1, checks: 8, deltas: 2 });

      // A move of its own that lost a race to another writer: refused, and what is stored is read before the census.
      await store.instances.move('a-4', 'requested', 'booting', { providerId: 'p-4' }, t0 + 6);
      await assert.rejects(live.move('a-4', 'requested', 'failed', { message: 'x' }, t0 + 6), InvalidTransitionError);
      assert.deepEqual(await ids(), ['a-2:booting:drain', 'a-4:booting', 'a-5:requested']);
      assert.deepEqual(live.stats, { loads: 1, checks: 9, deltas: 2 });

      // A write that committed after a later one (PostgreSQL draws revs before commit): its rev is below the largest
      // seen, so only a whole read finds it. Here forged by hand: a move with an old rev.
      await sql`UPDATE instances SET state = 'ready', rev = 1 WHERE id = 'a-5'`.execute(store.kysely);
      assert.deepEqual(await ids(), ['a-2:booting:drain', 'a-4:booting', 'a-5:ready']);
      assert.deepEqual(live.stats, { loads: 2, checks: 10, deltas: 3 });

      // held(): what the last census found plus the writes made through here since, without asking again.
      await live.move('a-4', 'booting', 'ready', { workerId: 'w-4' }, t0 + 7);
      await assert.rejects(live.move('a-5', 'ready', 'ready'), InvalidTransitionError);
      assert.deepEqual((await live.held()).map((r) => `${r.id}:${r.state}`), ['a-2:booting', 'a-4:ready', 'a-5:ready']);
      assert.deepEqual(live.stats, { loads: 2, checks: 10, deltas: 3 });

      // After a failed pass the reconciler invalidates them: read whole again.
      live.invalidate();
      assert.deepEqual(await ids(), await stored());
      assert.equal(live.stats.loads, 3);
    } finally {
      await store.close();
      await db.drop();
    }
  });

  test(`${dialect}: every instance write sets a larger rev; a move comes back as written, without a read`, async () => {
    const db = await createTestDb(dialect);
    const store = await Store.open(db.url);
    try {
      const a = await store.instances.create({ id: 'i-1', app: 'a', resource: 'r', offering, pricePerHour: 0.1, launchedAt: 1 });
      const b = await store.instances.move('i-1', 'requested', 'booting', { providerId: 'p-1' }, 2);
      const c = (await store.instances.update('i-1', { message: 'm' }))!;
      const d = await store.instances.request('i-1', 'terminate');
      const e = await store.instances.move('i-1', 'booting', 'terminated', { message: 'gone' }, 3);
      const revs = [a, b, c, d, e].map((r) => r.rev);
      assert.deepEqual([...revs].sort((x, y) => x - y), revs);
      assert.equal(new Set(revs).size, 5);
      assert.deepEqual({ state: e.state, providerId: e.providerId, message: e.message, endedAt: e.endedAt, requested: e.requested },
        { state: 'terminated', providerId: 'p-1', message: 'gone', endedAt: 3, requested: 'terminate' });
      assert.deepEqual(await store.instances.get('i-1'), e);
      assert.deepEqual(await store.instances.census('a'), { n: 0, top: 0, total: 0 });
    } finally {
      await store.close();
      await db.drop();
    }
  });
}
