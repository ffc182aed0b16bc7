// A spot interruption end to end on the local provider: the app's agent process watches a fake EC2
// metadata server (test/fakes/metadata.ts); the notice stops its task with SIGTERM (the task checkpoints
// within the grace its environment states), the task goes back to the head of its queue as a "spot
// interruption", the instance is recorded interrupted and stopped, its offering cools down (`task why`
// says so), and after the cool-down a new machine resumes the task from its checkpoint. On SQLite: the
// same story on PostgreSQL, with the fallback to another zone, is test/aws-spot-interruption.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ControlPlaneOptions } from '../src/server/main.js';
import { startFakeMetadata, type FakeMetadata } from './fakes/metadata.js';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { waitFor } from './support/wait.js';

const FAST: Partial<ControlPlaneOptions> = { timings: { tickMs: 200, listEveryMs: 200, orphanGraceMs: 2000, requestedGraceMs: 5000 } };
const COOLDOWN_S = 4;

interface Decision { kind: string; reason: string; queue: string | null; detail: Record<string, any> }
interface Instance { id: string; state: string }

let md: FakeMetadata;
let dir: string;
before(async () => {
  md = await startFakeMetadata();
  dir = mkdtempSync(join(tmpdir(), 'flotilla-spot-'));
});
after(async () => {
  await md?.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const dialect of ['sqlite'] as const) {
  describe(`spot interruption on the local provider (${dialect})`, () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect, FAST);
    });
    after(async () => t?.stop());

    test('the notice hands the task back at the head as a spot interruption; the offering cools down; a new machine resumes it', async () => {
      md.clear();
      const app = `spot-${dialect}`;
      const queue = `spotq-${dialect}`;
      const work = join(dir, dialect);
      await t.user.request('PUT', `/api/v1/autoscalers/${app}`, {
        name: app, provider: { kind: 'local' },
        resources: [{ name: 'cpu', instanceType: 'local', pricePerHour: 0.1, maxInstances: 1 }],
        queues: { [queue]: ['cpu'] },
        timings: { bootTimeoutS: 60, idleTimeoutS: 1, capacityCooldownS: COOLDOWN_S },
        execution: { agentArgs: ['--interruptions', 'aws', '--metadata-url', md.url, '--interruption-grace', '5'] },
      });
      // A task that checkpoints on SIGTERM, within the grace its environment states, and resumes from it.
      const script = [
        `mkdir -p ${work}`,
        `if [ -f ${work}/ckpt ]; then echo "resumed from $(cat ${work}/ckpt)"; exit 0; fi`,
        `trap 'echo "grace=$FLOTILLA_INTERRUPTION_GRACE_S" > ${work}/ckpt; exit 0' TERM`,
        `touch ${work}/started`,
        'while true; do sleep 0.1; done',
      ].join('\n');
      const task = await t.user.createTask({ queue, command: script });
      await waitFor('the task to start on the local machine', () => existsSync(join(work, 'started')), 30_000);
      const [first] = await instances(t, app);

      md.announceStop('terminate', new Date(Date.now() + 120_000));
      const back = await waitFor('the task back in its queue', async () => {
        const cur = await t.user.getTask(task.id);
        return cur.status === 'queued' && cur;
      }, 20_000);
      assert.match(back.statusMessage ?? '', /^spot interruption: the cloud will terminate this machine at /);
      assert.equal(back.attempts, 0, 'an interruption is not an attempt of the task');
      assert.equal(readFileSync(join(work, 'ckpt'), 'utf8').trim(), 'grace=5', 'the task checkpointed on SIGTERM, told its grace');

      // The instance is recorded interrupted, then stopped; its offering cools down, so nothing relaunches yet.
      const why = await t.user.request<{ why: string; decisions: Decision[] }>('GET', `/api/v1/tasks/${task.id}/why`);
      assert.match(why.why, /handed back after a spot interruption/);
      assert.match(why.why, /cool/i, why.why);
      assert.ok(why.decisions.some((d) => d.kind === 'interrupted' && d.detail.instance === first.id), JSON.stringify(why.decisions));
      const journal = await decisions(t, app);
      const interrupted = journal.find((d) => d.kind === 'interrupted')!;
      assert.equal(interrupted.queue, queue);
      assert.match(interrupted.reason, /cools down like a capacity error/);
      await waitFor('the interrupted instance ended', async () =>
        (await t.user.request<{ instances: Instance[] }>('GET', `/api/v1/autoscalers/${app}/status`)).instances.every((i) => i.id !== first.id), 15_000);

      // After the cool-down a new machine (with nothing announced) takes it first and resumes from the checkpoint.
      md.clear();
      const done = await waitFor('the task completed on a new machine', async () => {
        const cur = await t.user.getTask(task.id);
        return cur.status === 'completed' && cur;
      }, 40_000, 200);
      assert.notEqual(done.workerId, first.id);
      const logs = await t.user.logs(task.id);
      assert.ok(logs.lines.some((l: { text: string }) => l.text.includes('resumed from grace=5')), JSON.stringify(logs.lines));
      const launches = (await decisions(t, app)).filter((d) => d.kind === 'launch');
      assert.equal(launches.length, 2);
      await t.user.request('DELETE', `/api/v1/autoscalers/${app}`);
    });
  });
}

async function instances(t: TestControlPlane, app: string): Promise<Instance[]> {
  return waitFor('an instance', async () => {
    const s = await t.user.request<{ instances: Instance[] }>('GET', `/api/v1/autoscalers/${app}/status`);
    return s.instances.length > 0 && s.instances;
  });
}

async function decisions(t: TestControlPlane, app: string): Promise<Decision[]> {
  return (await t.user.request<{ decisions: Decision[] }>('GET', `/api/v1/autoscalers/${app}/decisions?limit=200`)).decisions.reverse();
}
