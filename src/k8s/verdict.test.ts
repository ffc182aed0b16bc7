// What a pod's status means for its task, case by case, with statuses shaped as the scheduler and kubelet write them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { endedMessage, podVerdict } from './verdict.js';

const pod = (status: object, spec: object = {}): V1Pod => ({
  metadata: { name: 'flotilla-t1-1', namespace: 'jobs', annotations: { 'flotilla.io/task-id': 't1' } },
  spec: { containers: [{ name: 'task', image: 'repo/img:1' }], ...spec },
  status: status as V1Pod['status'],
});
const waiting = (reason: string, message?: string) => ({ phase: 'Pending', containerStatuses: [{ name: 'task', state: { waiting: { reason, message } } }] });
const terminated = (phase: string, reason: string, exitCode: number) =>
  ({ phase, containerStatuses: [{ name: 'task', state: { terminated: { reason, exitCode, finishedAt: '2026-01-01T00:00:00Z' } } }] });
const disruption = (reason: string, message: string) => ({ type: 'DisruptionTarget', status: 'True', reason, message });

describe('podVerdict', () => {
  it('U+0000 in a termination message (the task writes it) is shown as \\0: the control plane refuses it in input', () => {
    const ended = pod({ phase: 'Failed', containerStatuses: [{ name: 'task', state: { terminated: { reason: 'Error', exitCode: 1, message: 'a\0b' } } }] });
    assert.deepEqual(podVerdict(ended), { kind: 'ended', phase: 'Failed', reason: 'Error', message: 'a\\0b', exitCode: 1 });
  });

  it('Unschedulable carries the scheduler message', () => {
    const msg = '0/2 nodes are available: 2 Insufficient nvidia.com/gpu.';
    assert.deepEqual(podVerdict(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: msg }] })),
      { kind: 'waiting', reason: 'Unschedulable', message: msg });
  });

  it('ContainerCreating names the node; a new pod waits for the scheduler', () => {
    assert.deepEqual(podVerdict(pod(waiting('ContainerCreating'), { nodeName: 'n1' })), { kind: 'waiting', reason: 'ContainerCreating', message: 'on node n1' });
    assert.deepEqual(podVerdict(pod({ phase: 'Pending' })), { kind: 'waiting', reason: 'Pending', message: 'waiting for the scheduler' });
  });

  it('ErrImagePull and ImagePullBackOff are pull failures with the image', () => {
    for (const reason of ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'])
      assert.deepEqual(podVerdict(pod(waiting(reason, 'm'))), { kind: 'pullFailing', reason, message: 'm', image: 'repo/img:1' });
  });

  it('kubelet eviction, Eviction API and preemption are disruptions, also when seen only as a deletion', () => {
    const evicted = pod({ ...terminated('Failed', 'Error', 137), reason: 'Evicted', message: 'low on memory' });
    assert.deepEqual(podVerdict(evicted), { kind: 'disrupted', reason: 'evicted', message: 'low on memory' });
    const preempted = pod({ phase: 'Running', conditions: [disruption('PreemptionByScheduler', 'p')] });
    assert.equal(podVerdict(preempted).kind, 'running', 'still running while it terminates');
    assert.deepEqual(podVerdict(preempted, true), { kind: 'disrupted', reason: 'preempted', message: 'p' });
    assert.deepEqual(podVerdict(pod({ phase: 'Running', conditions: [disruption('EvictionByEvictionAPI', 'e')] }), true),
      { kind: 'disrupted', reason: 'evicted', message: 'e' });
  });

  it('a deletion without a disruption is "gone"; an ended pod says how it ended', () => {
    assert.deepEqual(podVerdict(pod({ phase: 'Running' }), true), { kind: 'gone' });
    const oom = pod(terminated('Failed', 'OOMKilled', 137));
    const v = podVerdict(oom);
    assert.deepEqual(v, { kind: 'ended', phase: 'Failed', reason: 'OOMKilled', message: '', exitCode: 137 });
    assert.equal(endedMessage(oom, v as any), 'OOMKilled: the task container ran out of memory (exit code 137); pod jobs/flotilla-t1-1 ended without its agent reporting');
    assert.deepEqual(podVerdict(pod(terminated('Succeeded', 'Completed', 0))), { kind: 'ended', phase: 'Succeeded', reason: 'Completed', message: '', exitCode: 0 });
  });
});
