import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateObject } from '../../test/support/k8s-validate.js';
import type { PodTemplate } from './config.js';
import { labelValue, MANAGED_SELECTOR, podName, renderPod, renderTokenSecret, tokenSecretName, type RenderOptions } from './pod.js';

const gpuTemplate: PodTemplate = {
  metadata: { labels: { team: 'vision' }, annotations: { note: 'gpu' } },
  spec: {
    containers: [
      { name: 'sidecar', image: 'busybox', command: ['sleep', 'infinity'] },
      { name: 'task', image: 'template/image:1', env: [{ name: 'HF_HOME', value: '/cache' }, { name: 'FLOTILLA_TOKEN', value: 'admin-token' }], resources: { requests: { cpu: '2', memory: '8Gi' } } },
    ],
    nodeSelector: { pool: 'gpu' },
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    restartPolicy: 'Always',
  },
};
const opts: RenderOptions = {
  namespace: 'ml',
  serverUrl: 'http://flotilla.flotilla.svc:8080',
  defaultImage: 'ghcr.io/flotilla/flotilla:0.1.0',
  attempt: 1,
  agentArgs: ['--executor', 'process'],
  overrides: {
    gpu: 2,
    nodeSelector: { accel: 'a100' },
    tolerations: [{ key: 'spot', operator: 'Exists' }],
    priorityClassName: 'batch-high',
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
  },
};
const task = { id: '0b7c2f9e-1d2a-4c5b-9e8f-123456789abc', queue: 'gpu-a100', spec: { image: 'pytorch/pytorch:2.3.0' } };
const taskC = (pod: any) => pod.spec.containers.find((c: any) => c.name === 'task');

describe('renderPod', () => {
  it('fills the queue template into a valid pod that runs exactly this task', () => {
    const pod = renderPod(gpuTemplate, task, opts);
    validateObject(pod);
    const c = taskC(pod);
    assert.equal(c.image, 'pytorch/pytorch:2.3.0');
    assert.deepEqual(c.command, ['flotilla', 'agent', '--server', opts.serverUrl, '--queue', task.queue, '--task-id', task.id, '--once', '--executor', 'process']);
    assert.deepEqual(c.resources, { limits: { 'nvidia.com/gpu': '2' }, requests: { cpu: '2', memory: '8Gi' } });
    assert.equal(pod.spec?.restartPolicy, 'Never');
    assert.equal(pod.spec?.automountServiceAccountToken, false);
    assert.deepEqual(pod.spec?.nodeSelector, { pool: 'gpu', accel: 'a100' });
    assert.equal(pod.spec?.tolerations?.length, 2);
    assert.equal(pod.spec?.priorityClassName, 'batch-high');
    assert.deepEqual(pod.spec?.affinity, opts.overrides?.affinity);
    assert.deepEqual(pod.spec?.containers[0], gpuTemplate.spec.containers![0], 'other containers stay as written');
  });

  it('labels and annotates the pod with the task and queue, and selects it as managed', () => {
    const pod = renderPod(gpuTemplate, task, opts);
    assert.equal(pod.metadata?.namespace, 'ml');
    assert.deepEqual(pod.metadata?.labels, {
      team: 'vision',
      'app.kubernetes.io/managed-by': 'flotilla',
      'flotilla.io/task-id': task.id,
      'flotilla.io/queue': 'gpu-a100',
      'flotilla.io/attempt': '1',
    });
    assert.deepEqual(pod.metadata?.annotations, { note: 'gpu', 'flotilla.io/task-id': task.id, 'flotilla.io/queue': 'gpu-a100' });
    assert.equal(MANAGED_SELECTOR, 'app.kubernetes.io/managed-by=flotilla');
  });

  it('takes the token from the task Secret only, never from the template or the command line', () => {
    const pod = renderPod(gpuTemplate, task, opts);
    const env = taskC(pod).env;
    assert.deepEqual(env.filter((e: any) => e.name === 'FLOTILLA_TOKEN'), [
      { name: 'FLOTILLA_TOKEN', valueFrom: { secretKeyRef: { name: tokenSecretName(task.id, 1), key: 'token' } } },
    ]);
    assert.ok(!JSON.stringify(pod).includes('admin-token'));
    assert.ok(env.some((e: any) => e.name === 'HF_HOME'));
    const secret = renderTokenSecret(task, 's3cr3t', { namespace: 'ml', attempt: 1 });
    validateObject(secret);
    assert.equal(secret.metadata?.name, tokenSecretName(task.id, 1));
    assert.deepEqual(secret.stringData, { token: 's3cr3t' });
  });

  it('picks the image: task, then the template, then the default; an empty template gets one task container', () => {
    const noImage = { ...task, spec: {} };
    assert.equal(taskC(renderPod(gpuTemplate, noImage, opts)).image, 'template/image:1');
    const bare = renderPod({ spec: {} }, noImage, { ...opts, overrides: undefined, agentArgs: undefined });
    validateObject(bare);
    assert.deepEqual(bare.spec?.containers.map((c) => [c.name, c.image]), [['task', opts.defaultImage]]);
    assert.equal(bare.spec?.nodeSelector, undefined);
  });

  it('is pure: the same input gives the same pod and the template is left untouched', () => {
    const before = structuredClone(gpuTemplate);
    assert.deepEqual(renderPod(gpuTemplate, task, opts), renderPod(gpuTemplate, task, opts));
    assert.deepEqual(gpuTemplate, before);
  });
});

describe('pod names and label values', () => {
  it('derives a DNS-1123 name from task id and attempt, distinct per attempt', () => {
    assert.equal(podName(task.id, 1), `flotilla-${task.id}-1`);
    assert.notEqual(podName(task.id, 1), podName(task.id, 2));
    for (const id of ['ABC_def', 'x'.repeat(200), '__', 'Task.42', 'task.42']) {
      const n = podName(id, 3);
      assert.match(n, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, n);
      assert.ok(n.length <= 63, n);
      assert.equal(podName(id, 3), n);
    }
    assert.notEqual(podName('Task.42', 1), podName('task.42', 1));
  });

  it('keeps valid label values and makes odd ones valid and distinct', () => {
    assert.equal(labelValue('gpu-a100'), 'gpu-a100');
    for (const v of ['q_', '.q', 'a'.repeat(100), 'a b']) {
      assert.match(labelValue(v), /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/, v);
    }
    assert.notEqual(labelValue('a'.repeat(100)), labelValue('a'.repeat(101)));
  });
});
