// Pod status the way the scheduler and kubelet write it: conditions, container states, phases and reasons.
// Each function mutates a pod object in place; the fake commits the change as one MODIFIED event.
import { nowIso } from './store.js';

export function setCondition(pod: any, type: string, status: 'True' | 'False', reason?: string, message?: string): void {
  const conditions: any[] = (pod.status.conditions ??= []);
  const old = conditions.find((c) => c.type === type);
  const next = { type, status, reason, message, lastProbeTime: null, lastTransitionTime: nowIso() };
  if (!old) conditions.push(next);
  else Object.assign(old, next, old.status === status ? { lastTransitionTime: old.lastTransitionTime } : {});
}

export function newPodStatus(pod: any): void {
  pod.status = { phase: 'Pending', qosClass: qosClass(pod) };
  pod.spec.restartPolicy ??= 'Always';
  pod.spec.terminationGracePeriodSeconds ??= 30;
  pod.spec.schedulerName ??= 'default-scheduler';
}

function qosClass(pod: any): string {
  const cs: any[] = pod.spec.containers;
  if (cs.every((c) => !c.resources?.requests && !c.resources?.limits)) return 'BestEffort';
  const guaranteed = cs.every(
    (c) => c.resources?.limits?.cpu && c.resources?.limits?.memory && sameRequests(c.resources),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const sameRequests = (r: any) => !r.requests || Object.entries(r.requests).every(([k, v]) => r.limits?.[k] === v);

export function markUnschedulable(pod: any, message: string): void {
  setCondition(pod, 'PodScheduled', 'False', 'Unschedulable', message);
}

export function bind(pod: any, node: string): void {
  pod.spec.nodeName = node;
  setCondition(pod, 'PodScheduled', 'True');
  pod.status.hostIP = '10.0.0.1';
  pod.status.startTime = nowIso();
  setCondition(pod, 'Initialized', 'True');
  setCondition(pod, 'Ready', 'False', 'ContainersNotReady', 'containers with unready status: [' + names(pod) + ']');
  setCondition(pod, 'ContainersReady', 'False', 'ContainersNotReady');
  setWaiting(pod, 'ContainerCreating');
}

const names = (pod: any) => pod.spec.containers.map((c: any) => c.name).join(' ');

function setWaiting(pod: any, reason: string, message?: string): void {
  setStates(pod, { waiting: message ? { reason, message } : { reason } }, false);
}

function setStates(pod: any, state: object, pulled: boolean, ready = false): void {
  pod.status.containerStatuses = pod.spec.containers.map((c: any) => ({
    name: c.name,
    image: c.image,
    imageID: pulled ? `${c.image}@sha256:0` : '',
    ready,
    started: ready,
    restartCount: 0,
    state,
    lastState: {},
  }));
}

export function imagePullFailure(pod: any, reason: 'ErrImagePull' | 'ImagePullBackOff'): void {
  const image = pod.spec.containers[0].image;
  setWaiting(
    pod,
    reason,
    reason === 'ImagePullBackOff'
      ? `Back-off pulling image "${image}"`
      : `failed to pull and unpack image "${image}": not found`,
  );
}

export function run(pod: any): void {
  pod.status.phase = 'Running';
  pod.status.podIP = '10.1.0.' + (1 + (Number(pod.metadata.resourceVersion) % 250));
  setStates(pod, { running: { startedAt: nowIso() } }, true, true);
  setCondition(pod, 'Ready', 'True');
  setCondition(pod, 'ContainersReady', 'True');
}

export interface Termination {
  exitCode?: number;
  reason?: string;
  message?: string;
}

/** The first container ends with `exitCode` and `reason` (Completed, Error, OOMKilled...); the pod's phase follows. */
export function terminate(pod: any, phase: 'Succeeded' | 'Failed', t: Termination = {}): void {
  const exitCode = t.exitCode ?? (phase === 'Succeeded' ? 0 : t.reason === 'OOMKilled' ? 137 : 1);
  const reason = t.reason ?? (phase === 'Succeeded' ? 'Completed' : 'Error');
  const startedAt = pod.status.containerStatuses?.[0]?.state?.running?.startedAt ?? nowIso();
  pod.status.phase = phase;
  setStates(pod, { terminated: { exitCode, reason, message: t.message, startedAt, finishedAt: nowIso() } }, true);
  setCondition(pod, 'Ready', 'False', 'PodCompleted');
  setCondition(pod, 'ContainersReady', 'False', 'PodCompleted');
}

/** Node-pressure eviction by the kubelet: the pod fails with reason Evicted and stays in the API. */
export function evictByKubelet(pod: any, message: string): void {
  terminate(pod, 'Failed', { exitCode: 137, reason: 'Error' });
  pod.status.reason = 'Evicted';
  pod.status.message = message;
  setCondition(pod, 'DisruptionTarget', 'True', 'TerminationByKubelet', message);
}

export function markDisruption(pod: any, reason: 'PreemptionByScheduler' | 'EvictionByEvictionAPI', message: string): void {
  setCondition(pod, 'DisruptionTarget', 'True', reason, message);
}
