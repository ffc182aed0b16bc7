// A soak round with the simulated provider. Its cloud lives in the control plane's memory, so a kill -9 would
// take the cloud with it: here the control plane runs in this process on a SimCloud that outlives it (as a real
// cloud outlives a control plane) and is restarted at random points of the bursts (close and start, not a
// SIGKILL), with 20 % capacity errors. Checked: tasks kept, every machine owned, none twice, cap held.
import { PROVIDERS } from '../../src/autoscaler/providers/index.js';
import { simulatedProvider } from '../../src/autoscaler/providers/simulated/record.js';
import { SimulatedProvider } from '../../src/autoscaler/providers/simulated/provider.js';
import { SimCloud } from '../../src/autoscaler/providers/simulated/cloud.js';
import { VirtualClock } from '../../src/autoscaler/providers/simulated/clock.js';
import { startTestControlPlane } from '../support/control-plane.js';
import { waitFor } from '../support/wait.js';
import { applyApp, status } from '../autoscaler/helpers.js';
import { chaosSay, FAST_TIMINGS } from './cp-process.js';
import type { Rng } from './rng.js';
import { burstsWithKills, counts, watchSpend, type Dialect, type RoundFigures } from './soak.js';

const PRICE = 1;
const CAP = 3.5;

export async function simRound(r: Rng, dialect: Dialect, n: number): Promise<RoundFigures> {
  const t0 = Date.now();
  const cloud = new SimCloud(r.int(1, 1e6), undefined, { capacityErrorRate: 0.2, spotInterruptionsPerHour: 0, noCapacity: [] });
  const clock = new VirtualClock();
  const record = { ...simulatedProvider, create: async () => new SimulatedProvider({ cloud, clock }) };
  const app = `soak-sim-${n}`;
  const machines = () => [...cloud.machines()].filter((m) => m.appId === app);
  const t = await startTestControlPlane(dialect, { timings: FAST_TIMINGS, autoscaler: { providers: PROVIDERS.with(record) } });
  let kills = 0;
  const spend = watchSpend(async () => machines().filter((m) => m.terminatedAt === undefined).length * PRICE);
  try {
    await applyApp(t.user, {
      name: app, provider: { kind: 'simulated', settings: {} },
      resources: [{ name: 'gpu', instanceType: 'g5.xlarge', pricePerHour: PRICE, maxInstances: 6, zones: ['z-a', 'z-b'] }],
      queues: { soak: ['gpu'] }, budget: { maxPerHour: CAP },
      timings: { idleTimeoutS: 60, bootTimeoutS: 3600, capacityCooldownS: 1 },
    });
    const acked = await burstsWithKills(r, {
      client: () => t.user, queue: 'soak', bursts: 2, command: 'true',
      kill: async () => {
        chaosSay('restart simulated control plane');
        await t.restart();
        kills++;
      },
    });
    const tasks = await Promise.all(acked.map((id) => t.user.getTask(id).catch(() => undefined)));
    const lost = tasks.filter((x) => !x || x.status !== 'queued').length;
    let orphans = 0;
    await waitFor('every live machine owned by a live record', async () => {
      const owned = new Set((await status(t.user, app)).instances.map((i) => i.providerId));
      orphans = machines().filter((m) => m.terminatedAt === undefined && !owned.has(m.providerId)).length;
      return orphans === 0 && machines().length > 0;
    }, 20_000, 200).catch(() => undefined);
    const perRecord = counts(machines().map((m) => m.clientToken));
    const doubleLaunch = [...perRecord.values()].filter((c) => c > 1).length;
    return { kind: 'simulated', dialect, kills, acked: acked.length, lost, twice: 0, killedAfterEffect: 0, orphans, doubleLaunch,
      maxSpend: await spend.stop(), cap: CAP, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await spend.stop();
    await t.stop();
  }
}
