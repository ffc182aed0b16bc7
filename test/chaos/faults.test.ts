// Cloud faults at 20 %: an aws app on moto_server behind a proxy that answers one EC2 call in five with no
// capacity, throttling, a 5xx or a timeout. The app must converge (as many machines as its $/h cap allows,
// each owned by its record), back off instead of hot-looping (EC2 calls per minute bounded, printed), and
// never run more than its cap (counted in moto itself, behind the proxy).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane } from '../support/control-plane.js';
import { waitFor } from '../support/wait.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { awsApp, live, machinesOf, motoClient } from '../helpers/aws-e2e.js';
import { status } from '../autoscaler/helpers.js';
import { chaosRng } from './rng.js';
import { startFaultProxy } from './fault-proxy.js';
import { watchSpend, type Dialect } from './soak.js';
import { report } from './report.js';

const LIST_MS = 500;
const PRICE = 0.01;
const CAP = 0.035; // 3 machines
const STEADY_MS = process.env.CHAOS_LONG ? 60_000 : 5_000;
const dialects: Dialect[] = process.env.CHAOS_LONG ? ['sqlite', 'postgres'] : ['sqlite'];

let moto: Moto;
before(async () => {
  moto = await startMoto();
});
after(async () => moto?.stop());

for (const dialect of dialects) {
  test(`${dialect}: 20 % cloud faults: the app converges under its cap and backs off`, async () => {
    const r = chaosRng(`faults ${dialect}`);
    const proxy = await startFaultProxy(moto.url, r, { rate: 0.2 });
    const ec2 = motoClient(moto.url);
    const app = `faults-${dialect}`;
    const t = await startTestControlPlane(dialect, { timings: { tickMs: 1000, listEveryMs: LIST_MS, orphanGraceMs: 1500, requestedGraceMs: 3000 } });
    const spend = watchSpend(async () => live(await machinesOf(ec2, app)).length * PRICE);
    try {
      await t.admin.putSecret('moto-creds', 'aws', { accessKeyId: 'testing', secretAccessKey: 'testing' });
      await t.user.request('PUT', `/api/v1/autoscalers/${app}`, {
        ...awsApp({ name: app, queue: 'faults', maxInstances: 6, bootTimeoutS: 600, settings: { endpoint: proxy.url, credentialsSecret: 'moto-creds', throttleRetries: 2 } }),
        budget: { maxPerHour: CAP },
      });
      for (let i = 0; i < 8; i++) await t.user.createTask({ queue: 'faults', command: 'true' });
      const t0 = Date.now();
      const converged = async () => {
        const ms = live(await machinesOf(ec2, app));
        const { instances } = await status(t.user, app);
        const owned = ms.every((m) => instances.some((i) => i.providerId === m.id));
        return ms.length === 3 && owned && instances.length === 3;
      };
      await waitFor('three machines, each owned by its record', converged, 120_000, 250);
      const convergedS = (Date.now() - t0) / 1000;
      const from = Date.now();
      await new Promise((res) => setTimeout(res, STEADY_MS));
      assert.ok(await converged(), 'still converged after the steady window');
      const steady = proxy.calls.filter((c) => c.at >= from);
      const perMinute = Math.round(steady.length * 60_000 / STEADY_MS);
      const launches = proxy.calls.filter((c) => c.action === 'RunInstances').length;
      const faults = proxy.faults();
      const maxSpend = await spend.stop();
      // One DescribeInstances per list interval, plus its retries after a fault: a hot loop makes thousands.
      const bound = 3 * 60_000 / LIST_MS;
      report({
        part: `cloud faults (${dialect})`, faults: Object.values(faults).reduce((a, b) => a + b, 0), requests: proxy.calls.length,
        notes: `converged in ${convergedS.toFixed(1)} s; ${perMinute} EC2 calls/min when steady (bound ${bound}); ${launches} RunInstances for 3 machines; ` +
          `faults ${JSON.stringify(faults)}; max $${maxSpend.toFixed(3)}/h of $${CAP}/h`,
        zeros: { overBudget: maxSpend > CAP + 1e-9 ? 1 : 0 },
      });
      assert.ok(maxSpend <= CAP + 1e-9, `$${maxSpend}/h ran over the $${CAP}/h cap`);
      assert.ok(perMinute <= bound, `${perMinute} EC2 calls per minute when steady: a hot loop`);
      assert.ok(launches < 40, `${launches} RunInstances calls for three machines`);
      assert.ok(Object.values(faults).filter((n) => n > 0).length >= 2, `faults were injected: ${JSON.stringify(faults)}`);
    } finally {
      await spend.stop();
      await t.stop();
      await proxy.close();
    }
  });
}
