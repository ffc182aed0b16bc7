// The deployment manifests as users apply them: Kustomize overlays rendered by the real `kubectl kustomize`, the Helm
// chart rendered by test/support/helm-render.ts; every object validated against the Kubernetes schemas, RBAC checked
// for least privilege, and the glue config they ship parsed and rendered into pods the fake scheduler places.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { loadGlueConfigFile, type ResolvedGlueConfig } from '../src/k8s/config.js';
import { renderPod } from '../src/k8s/pod.js';
import { FakeKubernetes } from './fakes/k8s/index.js';
import { renderChart, renderTemplate } from './support/helm-render.js';
import { validateObject } from './support/k8s-validate.js';

const CHART = 'deploy/helm/flotilla';
function kustomize(overlay: string): any[] {
  try {
    const out = execFileSync('kubectl', ['kustomize', `deploy/kubernetes/overlays/${overlay}`], { encoding: 'utf8' });
    return parseAllDocuments(out).map((d) => d.toJS());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new Error('kubectl is not installed: these tests render the overlays with `kubectl kustomize` (install kubectl)');
  }
}
const POSTGRES = { postgres: { enabled: true }, persistence: { enabled: false }, server: { replicas: 2, strategy: 'RollingUpdate' } };

const bundles: Record<string, any[]> = {
  'kustomize cpu': kustomize('cpu'),
  'kustomize gpu': kustomize('gpu'),
  'kustomize cpu-postgres': kustomize('cpu-postgres'),
  'helm default': renderChart(CHART, { release: { Namespace: 'flotilla' } }),
  'helm gpu': renderChart(CHART, { valuesFiles: [`${CHART}/values-gpu.yaml`], release: { Namespace: 'flotilla' } }),
  'helm postgres': renderChart(CHART, { set: POSTGRES, release: { Namespace: 'flotilla' } }),
};

const find = (objs: any[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name.startsWith(name));
const containers = (objs: any[]) => objs.filter((o) => o.kind === 'Deployment').flatMap((d) => d.spec.template.spec.containers);
const tmp: string[] = [];
after(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Writes the glue ConfigMap's files to a folder, as the pod's volume mount does, and loads glue.yaml from it. */
async function glueConfig(objs: any[]): Promise<ResolvedGlueConfig> {
  const glue = find(objs, 'Deployment', 'flotilla-glue');
  const volume = glue.spec.template.spec.volumes.find((v: any) => v.name === 'config');
  const mount = glue.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === 'config');
  const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap.name);
  assert.ok(cm, `the glue mounts ConfigMap ${volume.configMap.name}, which is shipped`);
  const args: string[] = glue.spec.template.spec.containers[0].args;
  assert.equal(args[args.indexOf('--config') + 1], `${mount.mountPath}/glue.yaml`);
  const dir = mkdtempSync(join(tmpdir(), 'glue-cm-'));
  tmp.push(dir);
  for (const [file, text] of Object.entries(cm.data)) writeFileSync(join(dir, file), text as string);
  return loadGlueConfigFile(join(dir, 'glue.yaml'));
}

const task = (queue: string) => ({ id: `task-${queue}-1`, queue, spec: {} });
const podFor = (cfg: ResolvedGlueConfig, q: ResolvedGlueConfig['queues'][number]) =>
  renderPod(q.podTemplate, task(q.name), { namespace: 'flotilla', serverUrl: cfg.server, defaultImage: cfg.defaultImage, attempt: 1, agentArgs: cfg.agentArgs, overrides: q });

describe('deployment manifests', () => {
  for (const [name, objs] of Object.entries(bundles)) {
    it(`${name}: every object is valid against the Kubernetes schemas`, () => {
      assert.ok(objs.length >= 8);
      for (const o of objs) validateObject(o);
      for (const kind of ['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Service', 'Deployment'])
        assert.ok(objs.some((o) => o.kind === kind), `${kind} missing`);
    });

    it(`${name}: RBAC is least privilege and no secret is shipped or put on a command line`, () => {
      assert.deepEqual(objs.filter((o) => /^Cluster/.test(o.kind)).map((o) => o.kind), [], 'nothing cluster-wide');
      const roles = objs.filter((o) => o.kind === 'Role');
      assert.equal(roles.length, 1);
      const rules = roles[0].rules.map((r: any) => `${r.apiGroups.join()}|${r.resources.join()}|${[...r.verbs].sort().join()}`).sort();
      assert.deepEqual(rules, ['|events|get,list,watch', '|pods/log|get', '|pods|create,delete,get,list,watch', '|secrets|create,delete,patch']);
      const binding = objs.find((o) => o.kind === 'RoleBinding');
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'flotilla-glue' });
      assert.deepEqual(binding.subjects.map((s: any) => `${s.kind}/${s.namespace}/${s.name}`), ['ServiceAccount/flotilla/flotilla-glue']);
      const server = find(objs, 'Deployment', 'flotilla-server').spec.template.spec;
      assert.equal(server.automountServiceAccountToken, false, 'the control plane gets no Kubernetes token');
      assert.equal(find(objs, 'Deployment', 'flotilla-glue').spec.template.spec.serviceAccountName, 'flotilla-glue');
      assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0);
      for (const c of containers(objs)) {
        for (const e of c.env ?? []) if (/TOKEN|PASSWORD/.test(e.name)) assert.ok(e.valueFrom?.secretKeyRef, `${c.name} ${e.name} from a Secret`);
        assert.ok(!(c.args ?? []).some((a: string) => /postgres:\/\/|password|token/i.test(a)), `${c.name} args carry no secret`);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      }
    });

    it(`${name}: the glue config it ships is valid and renders a valid pod per queue`, async () => {
      const cfg = await glueConfig(objs);
      assert.ok(cfg.queues.length >= 1);
      for (const q of cfg.queues) validateObject(podFor(cfg, q));
    });
  }

  it('PostgreSQL variants: URL and password from a Secret, no volume claim, several replicas', () => {
    for (const name of ['kustomize cpu-postgres', 'helm postgres']) {
      const objs = bundles[name];
      const d = find(objs, 'Deployment', 'flotilla-server');
      const env = Object.fromEntries(d.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.valueFrom.secretKeyRef]));
      assert.deepEqual(env, { FLOTILLA_DB_URL: { name: 'flotilla-postgres', key: 'url' }, PGPASSWORD: { name: 'flotilla-postgres', key: 'password' } });
      assert.deepEqual(d.spec.template.spec.containers[0].args.slice(-2), ['--db', '$(FLOTILLA_DB_URL)']);
      assert.equal(objs.filter((o) => o.kind === 'PersistentVolumeClaim').length, 0, name);
      assert.deepEqual([d.spec.replicas, d.spec.strategy.type], [2, 'RollingUpdate']);
    }
    assert.equal(find(bundles['kustomize cpu'], 'Deployment', 'flotilla-server').spec.strategy.type, 'Recreate');
  });

  it('Helm and Kustomize ship the same objects and the same glue config', async () => {
    const ids = (objs: any[]) => objs.filter((o) => o.kind !== 'Namespace').map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort();
    assert.deepEqual(ids(bundles['helm default']), ids(bundles['kustomize cpu']));
    assert.deepEqual(await glueConfig(bundles['helm default']), await glueConfig(bundles['kustomize cpu']));
    assert.deepEqual(await glueConfig(bundles['helm gpu']), await glueConfig(bundles['kustomize gpu']));
  });

  it('GPU overlay: the fake scheduler puts the gpu queue pod on the tainted GPU node and the CPU pod elsewhere', async () => {
    const cfg = await glueConfig(bundles['kustomize gpu']);
    const fake = await FakeKubernetes.start({
      nodes: [
        { name: 'cpu-1', cpu: 8, memory: '32Gi' },
        { name: 'gpu-1', cpu: 8, memory: '64Gi', gpu: 1, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
      ],
    });
    try {
      const api = fake.kubeConfig('flotilla').makeApiClient(CoreV1Api);
      for (const q of cfg.queues) await api.createNamespacedPod({ namespace: 'flotilla', body: podFor(cfg, q) });
      await fake.settled();
      const placed = Object.fromEntries((await api.listNamespacedPod({ namespace: 'flotilla' })).items.map((p) => [p.metadata?.labels?.['flotilla.io/queue'], p.spec?.nodeName]));
      assert.deepEqual(placed, { gpu: 'gpu-1', default: 'cpu-1' });
    } finally {
      await fake.close();
    }
  });

  it('the Helm renderer keeps to the plain subset and trims like Helm', () => {
    const ctx = { Values: { a: { on: true, off: '', m: { x: 1 } } }, Release: {}, Chart: {} };
    assert.equal(renderTemplate('x:\n  {{- if .Values.a.on }}\n  y: 1\n  {{- else }}\n  y: 2\n  {{- end }}\n', ctx), 'x:\n  y: 1\n');
    assert.equal(renderTemplate('{{ if .Values.a.off }}a{{ else }}b{{ end }}', ctx), 'b');
    assert.equal(renderTemplate('v: {{ .Values.a.m | toJson | quote }}', ctx), 'v: "{\\"x\\":1}"');
    assert.throws(() => renderTemplate('{{ .Values.a.m }}', ctx), /pipe it to toJson/);
    assert.throws(() => renderTemplate('{{ .Values.a.nope }}', ctx), /has no value/);
    assert.throws(() => renderTemplate('{{ .Values.a.on | upper }}', ctx), /not in the chart's allowed subset/);
    assert.throws(() => renderTemplate('{{ include "x" . }}', ctx), /not a plain/);
  });
});
