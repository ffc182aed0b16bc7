// The two ways to run the glue, as users start them: `flotilla k8s-glue --config --kubeconfig` as its own process,
// and a controller in the control plane's leader (`flotilla server --k8s-glue`); plus `flotilla k8s validate`.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { startFlotilla } from './support/flotilla-process.js';
import { DIALECTS } from './support/stores.js';
import { waitFor } from './support/wait.js';
import { FakeKubernetes } from './fakes/k8s/index.js';
import { NS, podOf, podRunsTask, podToken } from './support/k8s-glue.js';
import { ApiError } from '../src/client/index.js';
import { parseGlueConfig, resolveTemplates } from '../src/k8s/config.js';
import { glueController } from '../src/k8s/controller.js';
import { Kube } from '../src/k8s/kube.js';

const glueYaml = (queue: string) => ({ server: 'http://flotilla-server:8080', defaultImage: 'flotilla:test', maxPods: 4,
  queues: [{ name: queue, maxPods: 2, podTemplate: 'cpu-pod.yaml' }] });

describe('kubernetes glue, standalone and in the leader', () => {
  let fake: FakeKubernetes;
  let dir: string;
  beforeEach(async () => {
    fake = await FakeKubernetes.start({ nodes: [{ name: 'cpu-1' }], token: 'kube-secret-token' });
    dir = mkdtempSync(join(tmpdir(), 'flotilla-glue-'));
  });
  afterEach(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('standalone process', () => {
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane('sqlite');
    });
    after(() => t.stop());

    test('flotilla k8s-glue runs tasks as pods with a kubeconfig file, FLOTILLA_SERVER and FLOTILLA_TOKEN', async () => {
      await t.user.createQueue('batch');
      writeFileSync(join(dir, 'glue.yaml'), stringify(glueYaml('batch')));
      writeFileSync(join(dir, 'cpu-pod.yaml'), stringify({ spec: { containers: [{ name: 'task', resources: { requests: { cpu: '1' } } }] } }));
      const kc = fake.kubeConfig(NS);
      writeFileSync(join(dir, 'kubeconfig'), kc.exportConfig(), { mode: 0o600 });
      const glue = startFlotilla(['k8s-glue', '--config', join(dir, 'glue.yaml'), '--kubeconfig', join(dir, 'kubeconfig')],
        { FLOTILLA_SERVER: t.cp.url, FLOTILLA_TOKEN: t.cp.adminToken });
      try {
        const x = await t.user.createTask({ queue: 'batch', command: 'echo hi' });
        const pod = await podOf(fake, x.id);
        assert.equal(pod.spec.containers[0].resources.requests.cpu, '1', 'the template file was used');
        await podRunsTask(fake, t.cp.url, pod);
        await waitFor('completed', async () => (await t.user.getTask(x.id)).status === 'completed');
        const tokenInPod = podToken(fake, pod);
        await glue.stop();
        assert.equal(await glue.exited, 0);
        assert.match(glue.output(), /k8s glue for queues batch/);
        for (const secret of [t.cp.adminToken!, tokenInPod, 'kube-secret-token'])
          assert.ok(!glue.output().includes(secret), 'no token in the output');
      } finally {
        await glue.stop();
      }
    });

    test('flotilla k8s validate names the bad field, and lists the queues of a good file', async () => {
      writeFileSync(join(dir, 'bad.yaml'), stringify({ ...glueYaml('q'), queues: [{ name: 'q', maxPods: 0 }] }));
      const bad = startFlotilla(['k8s', 'validate', '--config', join(dir, 'bad.yaml')]);
      assert.equal(await bad.exited, 1);
      assert.match(bad.output(), /queues\.0\.maxPods: Too small/);
      writeFileSync(join(dir, 'cpu-pod.yaml'), stringify({ spec: {} }));
      writeFileSync(join(dir, 'good.yaml'), stringify(glueYaml('q')));
      const good = startFlotilla(['k8s', 'validate', '--config', join(dir, 'good.yaml')]);
      assert.equal(await good.exited, 0, good.output());
      assert.match(good.output(), /valid; 1 queue\(s\) in priority order, at most 4 pods\n\s+q: at most 2 pods/);
    });
  });

  for (const dialect of DIALECTS) describe(`in the leader (${dialect})`, () => {
    test('a controller of the control plane runs tasks as pods; the glue API is admin-only', async () => {
      const config = await resolveTemplates(parseGlueConfig({ ...glueYaml('lead'), queues: [{ name: 'lead', maxPods: 1 }] }), '.');
      const t = await startTestControlPlane(dialect, {
        controllers: [glueController(config, { kube: new Kube(fake.kubeConfig(NS)), namespace: NS })],
      });
      try {
        await t.user.createQueue('lead');
        const x = await t.user.createTask({ queue: 'lead', command: 'echo hi' });
        await podRunsTask(fake, t.cp.url, await podOf(fake, x.id));
        await waitFor('completed', async () => (await t.user.getTask(x.id)).status === 'completed');
        await assert.rejects(t.user.k8sScheduleNext('lead', 'x'), (e) => e instanceof ApiError && e.status === 403);
        await waitFor('users read the journal', async () => (await t.user.k8sJournalRows({ queue: 'lead' })).some((r) => r.kind === 'pod-created'));
      } finally {
        await t.stop();
      }
    });
  });
});
