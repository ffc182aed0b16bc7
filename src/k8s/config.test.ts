import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { glueConfigJsonSchema, loadGlueConfigFile, parseGlueConfig } from './config.js';

const minimal = {
  server: 'http://flotilla:8080',
  defaultImage: 'flotilla:0.1.0',
  maxPods: 10,
  queues: [{ name: 'cpu', maxPods: 4 }],
};

describe('glue config', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('fills the defaults', () => {
    const cfg = parseGlueConfig(minimal);
    assert.equal(cfg.namespace, undefined);
    assert.equal(cfg.keepFinishedPodsS, 3600);
    assert.equal(cfg.imagePullFailAfterS, 300);
    assert.deepEqual(cfg.queues[0].podTemplate, { spec: {} });
  });

  it('refuses an unknown key, naming it, its path and the nearest known key', () => {
    assert.throws(() => parseGlueConfig({ ...minimal, maxPod: 3 }), /kubernetes glue config: unknown key maxPod at the top level; did you mean maxPods\?/);
    assert.throws(
      () => parseGlueConfig({ ...minimal, queues: [{ name: 'cpu', maxPods: 4, namspace: 'ml' }] }),
      /unknown key namspace at queues\[0\]; did you mean namespace\?/,
    );
    assert.throws(
      () => parseGlueConfig({ ...minimal, queues: [{ name: 'cpu', maxPods: 4, resources: { limit: { cpu: '1' } } }] }),
      /unknown key limit at queues\[0\]\.resources; did you mean limits\?/,
    );
    assert.throws(
      () => parseGlueConfig({ ...minimal, queues: [{ name: 'cpu', maxPods: 4, tolerations: [{ key: 'gpu', efect: 'NoSchedule' }] }] }),
      /unknown key efect at queues\[0\]\.tolerations\[0\]; did you mean effect\?/,
    );
  });

  it('lets a pod template, labels and affinity through as Kubernetes objects', () => {
    const cfg = parseGlueConfig({
      ...minimal,
      queues: [{
        name: 'cpu', maxPods: 4, nodeSelector: { pool: 'a' }, affinity: { nodeAffinity: { anything: 1 } },
        podTemplate: { metadata: { labels: { team: 'ml' }, ownerRef: 'x' }, spec: { hostNetwork: true, containers: [{ name: 'task', stdin: true }] } },
      }],
    });
    assert.equal((cfg.queues[0].podTemplate as { spec: { hostNetwork?: boolean } }).spec.hostNetwork, true);
  });

  it('names each bad field in its error', () => {
    const bad = {
      ...minimal,
      server: 'not a url',
      queues: [{ name: 'cpu', maxPods: 0, namespace: 'Bad_NS' }, { name: 'cpu', maxPods: 1, gpu: -1 }],
    };
    assert.throws(() => parseGlueConfig(bad), (e: Error) => {
      for (const field of ['server:', 'queues.0.maxPods:', 'queues.0.namespace:', 'queues.1.gpu:'])
        assert.ok(e.message.includes(field), `${field} missing in: ${e.message}`);
      return true;
    });
    assert.throws(() => parseGlueConfig({ ...minimal, queues: [minimal.queues[0], minimal.queues[0]] }), /queues\.1\.name: queue "cpu" is listed twice/);
    assert.throws(() => parseGlueConfig({ ...minimal, queues: [{ name: 'q', maxPods: 1, podTemplate: { metadata: {} } }] }), /queues\.0\.podTemplate/);
  });

  it('refuses a glue file with an unknown key before anything starts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'glue-'));
    dirs.push(dir);
    await writeFile(join(dir, 'glue.yaml'), 'server: http://flotilla:8080\ndefaultImage: x\nmaxPods: 2\nkeepFinishedPods: 60\nqueues:\n  - {name: cpu, maxPods: 1, gpus: 1}\n');
    await assert.rejects(loadGlueConfigFile(join(dir, 'glue.yaml')), (e: Error) => {
      assert.match(e.message, /unknown key keepFinishedPods at the top level; did you mean keepFinishedPodsS\?/);
      assert.match(e.message, /unknown key gpus at queues\[0\]; did you mean gpu\?/);
      return true;
    });
  });

  it('loads a YAML file and reads template files relative to it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'glue-'));
    dirs.push(dir);
    await writeFile(join(dir, 'gpu.yaml'), 'spec:\n  containers:\n    - name: task\n      image: cuda:12\n');
    await writeFile(join(dir, 'glue.yaml'), [
      'server: http://flotilla:8080', 'defaultImage: flotilla:0.1.0', 'maxPods: 4', 'namespace: ml',
      'queues:', '  - name: gpu', '    maxPods: 2', '    gpu: 1', '    podTemplate: gpu.yaml',
    ].join('\n'));
    const cfg = await loadGlueConfigFile(join(dir, 'glue.yaml'));
    assert.equal((cfg.queues[0].podTemplate.spec as any).containers[0].image, 'cuda:12');
    await writeFile(join(dir, 'glue.yaml'), 'server: http://f:1\ndefaultImage: i\nmaxPods: 1\nqueues: [{name: q, maxPods: 1, podTemplate: missing.yaml}]\n');
    await assert.rejects(loadGlueConfigFile(join(dir, 'glue.yaml')), /queues\.0\.podTemplate: cannot read .*missing\.yaml \(ENOENT\)/);
    await writeFile(join(dir, 'bad.yaml'), 'spec:\n  containers: [{image: x}]\n');
    await writeFile(join(dir, 'glue.yaml'), 'server: http://f:1\ndefaultImage: i\nmaxPods: 1\nqueues: [{name: q, maxPods: 1, podTemplate: bad.yaml}]\n');
    await assert.rejects(loadGlueConfigFile(join(dir, 'glue.yaml')), /queues\.0\.podTemplate \(.*bad\.yaml\): spec\.containers\.0\.name/);
  });

  it('exports a JSON Schema', () => {
    const schema = glueConfigJsonSchema() as any;
    assert.deepEqual(schema.required.sort(), ['defaultImage', 'maxPods', 'queues', 'server']);
  });
});
