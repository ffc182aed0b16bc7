// Boot timeout and capacity-error fallback on the simulated provider, whose machines never run an agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane } from '../support/control-plane.js';
import { DIALECTS } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import { applyApp, decisions, status } from './helpers.js';
import type { AppConfigInput } from '../../src/domain/autoscaler/config.js';

function simApp(name: string, o: { bootTimeoutS: number; noCapacityZone?: string }): AppConfigInput {
  return {
    name,
    provider: { kind: 'simulated', settings: { seed: 7 } },
    resources: [{ name: 'gpu', instanceType: 'p4d.24xlarge', pricePerHour: 32.77, maxInstances: 4, zones: ['us-east-1a', 'us-east-1b'] }],
    queues: { train: ['gpu'] },
    timings: { idleTimeoutS: 60, bootTimeoutS: o.bootTimeoutS, capacityCooldownS: 300 },
    simulation: o.noCapacityZone
      ? { faults: { noCapacity: [{ instanceType: 'p4d.24xlarge', zone: o.noCapacityZone }] } }
      : undefined,
  };
}

for (const dialect of DIALECTS) {
  test(`${dialect}: an instance whose worker never registers is terminated at the boot timeout`, async () => {
    const t = await startTestControlPlane(dialect, { timings: { tickMs: 200, listEveryMs: 200 } });
    try {
      await applyApp(t.user, simApp('never-boots', { bootTimeoutS: 1 }));
      const task = await t.user.createTask({ queue: 'train', command: 'python train.py' });
      const timedOut = await waitFor('a boot-timeout decision', async () =>
        (await decisions(t.user, 'never-boots')).find((d) => d.kind === 'boot-timeout'), 20_000, 100);
      assert.match(timedOut.reason, /did not register within the boot timeout of 1 s/);
      assert.equal((await t.user.getTask(task.id)).status, 'queued', 'the task still waits for a machine');
    } finally {
      await t.stop();
    }
  });
}

test('sqlite: a capacity error falls back to the next zone, and the zone cools down', async () => {
  const t = await startTestControlPlane('sqlite', { timings: { tickMs: 200, listEveryMs: 200 } });
  try {
    await applyApp(t.user, simApp('fallback', { bootTimeoutS: 600, noCapacityZone: 'us-east-1a' }));
    const first = await t.user.createTask({ queue: 'train', command: 'python train.py' });
    await waitFor('a launch in us-east-1b', async () =>
      (await decisions(t.user, 'fallback')).some((d) => d.kind === 'launch' && (d.detail.offering as any)?.zone === 'us-east-1b'), 20_000, 100);
    const why = await t.user.request<{ why: string }>('GET', `/api/v1/tasks/${first.id}/why`);
    assert.match(why.why, /p4d\.24xlarge in us-east-1b|waiting for instance/);
    await t.user.createTask({ queue: 'train', command: 'python train.py' });
    await waitFor('two instances', async () => (await status(t.user, 'fallback')).instances.length === 2, 20_000, 100);
    const ds = await decisions(t.user, 'fallback');
    const capacity = ds.filter((d) => d.kind === 'capacity-error');
    assert.equal(capacity.length, 1, 'us-east-1a is tried once, then skipped while it cools down');
    assert.match(capacity[0].reason, /capacity error for p4d\.24xlarge in us-east-1a/);
    const launches = ds.filter((d) => d.kind === 'launch').map((d) => (d.detail.offering as any).zone);
    assert.deepEqual(launches.sort(), ['us-east-1a', 'us-east-1b', 'us-east-1b']);
  } finally {
    await t.stop();
  }
});
