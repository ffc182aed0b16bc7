// The console's app editor and app view over the API, on both stores: validate names the field and stores nothing,
// export as YAML, drain / terminate / stop-idle carried out by the app's reconciler (with a worker driven over the API
// as an agent would), the instances listing, history samples (bounded), what-would-it-cost, and check-credentials on
// moto_server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import { signIn, type Session } from '../support/console.js';
import { FlotillaClient } from '../../src/client/index.js';
import { startMoto, type Moto } from '../helpers/moto.js';

const simApp = {
  name: 'sim',
  provider: { kind: 'simulated', settings: { seed: 1, credentials: { accessKeyId: 'AKIACANARY', secretAccessKey: 'canary-secret' } } },
  resources: [{ name: 'gpu1', instanceType: 'g5.xlarge', pricePerHour: 1.006, maxInstances: 2 }],
  queues: { gpu1: ['gpu1'] },
  budget: { maxInstances: 1 },
  timings: { idleTimeoutS: 600, bootTimeoutS: 600, capacityCooldownS: 300 },
};

interface InstanceRow { id: string; state: string; worker: string | null; task: string | null; costSoFar: number; idleCountdownS: number | null; requested: string | null }

for (const dialect of DIALECTS) {
  describe(`${dialect}: console apps`, () => {
    let t: TestControlPlane;
    let s: Session;
    const json = async (r: Response | Promise<Response>) => {
      const res = await r;
      return { status: res.status, body: await res.json() };
    };
    before(async () => {
      t = await startTestControlPlane(dialect, { timings: { tickMs: 200, listEveryMs: 200 }, historyEveryMs: 400 });
      s = await signIn(t.cp.url, (await t.admin.createToken('alice', 'user')).token);
    });
    after(() => t.stop());

    test('validate answers with field paths and stores nothing; a valid app gets its most spend and a diff; export as YAML', async () => {
      const bad = await json(s.call('POST', '/api/v1/autoscalers/validate', { ...simApp, resources: [{ ...simApp.resources[0], pricePerHour: -1 }] }));
      assert.equal(bad.status, 400);
      const issue = bad.body.issues.find((i: { path: unknown[] }) => i.path.join('.') === 'resources.0.pricePerHour');
      assert.ok(issue, JSON.stringify(bad.body.issues));
      assert.match(issue.message, />=\s*0|too small/i);
      const typo = await json(s.call('POST', '/api/v1/autoscalers/validate', { ...simApp, budgett: {} }));
      assert.deepEqual(typo.body.issues.map((i: { path: unknown[] }) => i.path), [['budgett']]);
      const ok = await json(s.call('POST', '/api/v1/autoscalers/validate', simApp));
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body, { ok: true, exists: false, maxSpendPerHour: 1.006, diff: [] });
      assert.equal((await t.cp.store.apps.list()).length, 0, 'validate stored nothing');

      assert.equal((await s.call('PUT', '/api/v1/autoscalers/sim', simApp)).status, 201);
      const edited = { ...simApp, budget: { maxInstances: 2, maxPerHour: 1.5 } };
      const diff = await json(s.call('POST', '/api/v1/autoscalers/validate', edited));
      assert.equal(diff.body.maxSpendPerHour, 1.5, 'two at $1.006, capped by the $1.50 budget');
      assert.deepEqual(diff.body.diff, [
        { path: ['budget', 'maxInstances'], from: 1, to: 2 },
        { path: ['budget', 'maxPerHour'], from: null, to: 1.5 },
      ]);
      assert.equal((await t.cp.store.apps.get('sim')).budget.maxInstances, 1, 'the running app is unchanged');
      const yaml = await s.call('GET', '/api/v1/autoscalers/sim?format=yaml');
      assert.match(yaml.headers.get('content-type') ?? '', /yaml/);
      const text = await yaml.text();
      assert.match(text, /^name: sim$/m);
      assert.ok(!text.includes('canary'), 'inline credentials are not exported');
    });

    test('drain lets the task finish and takes no new one; terminate puts the task back; stop-idle stops idle ones', async () => {
      let agent!: FlotillaClient;
      /** What a cloud machine's agent does: register for its instance with the token bound to it, and become ready. */
      const bootWorker = async () => {
        const inst = await waitFor('a booting instance', async () =>
          (await t.cp.store.instances.live('sim')).find((i) => i.state === 'booting' && !i.requested), 15_000);
        const { token } = await t.cp.store.tokens.create(`agent ${inst.id}`, 'agent', { scope: inst.id, app: 'sim', resource: 'gpu1' });
        agent = new FlotillaClient(t.cp.url, token);
        await agent.register({ id: inst.id, queues: ['gpu1'], app: 'sim', resource: 'gpu1', instanceId: inst.id });
        await waitFor('the instance ready', async () => (await t.cp.store.instances.get(inst.id))?.state === 'ready', 15_000);
        return inst.id;
      };
      const instances = async () => (await json(s.call('GET', '/api/v1/autoscalers/sim/instances'))).body.instances as InstanceRow[];
      const stateOf = async (id: string) => (await t.cp.store.instances.get(id))?.state;
      const journal = async () => (await t.cp.store.decisions.recent({ app: 'sim', limit: 100 })).map((d) => `${d.kind}: ${d.reason}`);

      const first = await t.user.createTask({ queue: 'gpu1', command: 'train 1' });
      const a = await bootWorker();
      const got = await agent.dequeue(a, { waitMs: 1000 });
      assert.equal(got?.task.id, first.id);
      const [row] = (await instances()).filter((i) => i.id === a);
      assert.equal(row.worker, a);
      assert.equal(row.task, first.id);
      assert.equal(row.idleCountdownS, null);
      assert.equal(typeof row.costSoFar, 'number');

      assert.equal((await s.call('POST', `/api/v1/autoscalers/sim/instances/${a}/drain`)).status, 202);
      await waitFor('the drain journaled', async () => (await journal()).some((l) => l.startsWith(`drain: ${a}`)), 15_000);
      const second = await t.user.createTask({ queue: 'gpu1', command: 'train 2' });
      // The task ends; the draining worker is given nothing new, and its instance stops.
      const next = await agent.dequeue(a, { waitMs: 300, finished: { taskId: first.id, leaseId: got!.lease.id, status: 'completed', exitCode: 0 } })
        .catch((e) => ({ gone: e.status }));
      assert.ok(next === undefined || (next as { gone?: number }).gone === 410, `no new task: ${JSON.stringify(next)}`);
      assert.equal((await t.user.getTask(first.id)).status, 'completed');
      await waitFor('the drained instance stopping', async () => (await stateOf(a)) !== 'ready', 15_000);
      assert.ok((await journal()).some((l) => l.startsWith(`terminate: ${a}: drained from the console`)));
      assert.equal((await t.user.getTask(second.id)).status, 'queued');

      // The waiting task gets a new instance; terminate it while it runs: the task goes back to its queue.
      const b = await bootWorker();
      const taken = await agent.dequeue(b, { waitMs: 1000 });
      assert.equal(taken?.task.id, second.id);
      assert.equal((await s.call('POST', `/api/v1/autoscalers/sim/instances/${b}/terminate`)).status, 202);
      await waitFor('the terminated instance stopping', async () => (await stateOf(b)) !== 'ready', 15_000);
      await waitFor('the task back in its queue', async () => (await t.user.getTask(second.id)).status === 'queued', 15_000);
      assert.ok((await journal()).some((l) => l.startsWith(`terminate: ${b}: terminated from the console`)));

      // A third instance comes for it; abort the task so its worker sits idle; stop-idle stops it now.
      const c = await bootWorker();
      await t.user.abortTask(second.id);
      const stop = await json(s.call('POST', '/api/v1/autoscalers/sim/stop-idle'));
      assert.equal(stop.status, 202);
      assert.deepEqual(stop.body.instances, [c]);
      await waitFor('the idle instance stopping', async () => (await stateOf(c)) !== 'ready', 15_000);
      const stops = await json(s.call('GET', '/api/v1/autoscalers/sim/decisions?kind=terminate,drain'));
      assert.ok(stops.body.decisions.length >= 3 && stops.body.decisions.every((d: { kind: string }) => d.kind === 'terminate' || d.kind === 'drain'));
      assert.equal((await s.call('GET', '/api/v1/autoscalers/sim/decisions?kind=launch,nope')).status, 400);
      const missing = await s.call('POST', '/api/v1/autoscalers/sim/instances/nope/drain');
      assert.equal(missing.status, 404);
    });

    test('history: samples every interval in a window; older than a day are dropped', async () => {
      const got = await waitFor('two samples', async () => {
        const h = await json(s.call('GET', '/api/v1/autoscalers/sim/history?window=1h'));
        return h.body.samples.length >= 2 && h.body.samples;
      }, 15_000);
      assert.deepEqual(Object.keys(got[0]).sort(), ['at', 'byState', 'dollarsPerHour', 'waiting']);
      const now = Date.now();
      await t.cp.store.history.record([{ app: 'sim', at: now - 25 * 3_600_000, byState: {}, waiting: 0, dollarsPerHour: 0 }], now - 25 * 3_600_000);
      assert.ok((await t.cp.store.history.list('sim', 0)).some((x) => x.at < now - 24 * 3_600_000));
      await t.cp.store.history.record([], now);
      const kept = await t.cp.store.history.list('sim', 0);
      assert.ok(kept.length >= 2 && kept.every((x) => x.at >= now - 24 * 3_600_000), 'the day-old sample is gone');
      assert.equal((await s.call('GET', '/api/v1/autoscalers/sim/history?window=1w')).status, 400);
    });

    test('what would it cost: a CSV and the app\'s own tasks, through the edited app, the running one and ClearML', async () => {
      const csv = 'job_id,submission_time,duration,num_gpu\n' + Array.from({ length: 30 }, (_, i) => `j${i},${i * 60},${600 + i * 10},1`).join('\n');
      const r = await json(s.call('POST', '/api/v1/simulate', { config: { ...simApp, budget: { maxInstances: 2 } }, trace: { csv } }));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.jobs, 30);
      for (const k of ['edited', 'running', 'clearml']) {
        const x = r.body[k];
        assert.ok(x.cost > 0 && x.floor > 0 && x.costRatio >= 1, `${k}: ${JSON.stringify(x)}`);
        for (const f of ['waitP50', 'waitP95', 'waitP99', 'idleInstanceHours', 'launches']) assert.equal(typeof x[f], 'number', `${k}.${f}`);
        assert.ok(x.series.length > 0 && 'dollarsPerHour' in x.series[0]);
      }
      const bad = await json(s.call('POST', '/api/v1/simulate', { config: simApp, trace: { csv: 'nope\n1' } }));
      assert.equal(bad.status, 400);
      assert.equal(bad.body.issues[0].field, 'body.trace.csv');
      const own = await json(s.call('POST', '/api/v1/simulate', { config: simApp, trace: { fromApp: 'sim', days: 7 } }));
      assert.equal(own.status, 200, JSON.stringify(own.body));
      assert.equal(typeof own.body.jobs, 'number');
    });
  });
}

describe('check credentials on moto_server', () => {
  let t: TestControlPlane;
  let moto: Moto;
  before(async () => {
    [t, moto] = await Promise.all([startTestControlPlane('sqlite'), startMoto()]);
  });
  after(async () => {
    await Promise.all([t.stop(), moto.stop()]);
  });

  test('a DryRun launch passes on moto; a missing secret and bad settings are named', async () => {
    const check = (body: unknown) => t.user.request<{ ok: boolean; checks: { what: string; ok: boolean; message: string }[] }>('POST', '/api/v1/autoscalers/check-credentials', body);
    const settings = { region: 'us-east-1', endpoint: moto.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
    const resources = [{ name: 'cpu', instanceType: 't3.micro', pricePerHour: 0.01, maxInstances: 1, launch: { ami: 'ami-785db401' } }];
    const ok = await check({ provider: { kind: 'aws', settings }, resources });
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.match(ok.checks.at(-1)!.message, /DryRunOperation/);
    const missing = await check({ provider: { kind: 'aws', settings: { region: 'us-east-1', endpoint: moto.url, credentialsSecret: 'aws-prod' } }, resources });
    assert.equal(missing.ok, false);
    assert.match(missing.checks.find((c) => !c.ok)!.message, /does not exist.*flotilla secret set aws-prod --kind aws/);
    const bad = await check({ provider: { kind: 'aws', settings: { endpoint: moto.url } } });
    assert.equal(bad.ok, false);
    assert.match(bad.checks[0].message, /region/);
    assert.equal((await check({ provider: { kind: 'local', settings: {} } })).ok, true);
  });
});
