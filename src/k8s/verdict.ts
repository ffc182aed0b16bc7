// What a task pod's state means for its task. Pure: the glue decides what to do with the answer.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { LABELS } from './pod.js';
import { showNul } from '../domain/text.js';

export type Verdict =
  /** Still on its way: Unschedulable (with the scheduler's message), ContainerCreating, ... */
  | { kind: 'waiting'; reason: string; message: string }
  /** The kubelet cannot pull the image (the glue fails the task when this lasts too long). */
  | { kind: 'pullFailing'; reason: string; message: string; image: string }
  | { kind: 'running'; node: string }
  /** Evicted, preempted, or its node went away: not the task's fault, it goes back to the head of its queue. */
  | { kind: 'disrupted'; reason: string; message: string }
  /** The pod ended by itself (the task container exited, e.g. OOMKilled). */
  | { kind: 'ended'; phase: string; reason: string; message: string; exitCode: number | null }
  /** Deleted before it ended, with no disruption recorded (kubectl delete, or the glue itself on abort). */
  | { kind: 'gone' };

const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

/** Kubernetes' DisruptionTarget reasons, in words a user understands. */
const DISRUPTIONS: Record<string, string> = {
  PreemptionByScheduler: 'preempted',
  EvictionByEvictionAPI: 'evicted',
  TerminationByKubelet: 'evicted by the kubelet',
  DeletionByTaintManager: 'evicted by a NoExecute taint',
  DeletionByPodGC: 'deleted because its node is gone',
};

export const isTerminal = (pod: V1Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
export const taskIdOf = (pod: V1Pod) => pod.metadata?.annotations?.[LABELS.taskId];
export const queueOf = (pod: V1Pod) => pod.metadata?.annotations?.[LABELS.queue];
export const attemptOf = (pod: V1Pod) => Number(pod.metadata?.labels?.[LABELS.attempt] ?? 0);
export const podRef = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

/** The task's container: the one named "task", else the first. */
function taskContainer(pod: V1Pod): V1ContainerStatus | undefined {
  const all = pod.status?.containerStatuses ?? [];
  return all.find((c) => c.name === 'task') ?? all[0];
}

/** When the pod ended (the container's finish time), for the keep-finished-pods clock. */
export function finishedAt(pod: V1Pod): number | undefined {
  const t = taskContainer(pod)?.state?.terminated?.finishedAt;
  const ms = t ? new Date(t as unknown as string).getTime() : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function disruption(pod: V1Pod): { reason: string; message: string } | undefined {
  if (pod.status?.reason === 'Evicted') return { reason: 'evicted', message: pod.status.message ?? '' };
  const c = pod.status?.conditions?.find((x) => x.type === 'DisruptionTarget' && x.status === 'True');
  return c ? { reason: DISRUPTIONS[c.reason ?? ''] ?? `disrupted (${c.reason})`, message: c.message ?? '' } : undefined;
}

/**
 * `deleted`: the pod is gone from the API (a DELETED event). A message may be the task's own (its termination
 * log): U+0000 in it is shown as `\0`, since the control plane refuses it in the messages the glue sends.
 */
export function podVerdict(pod: V1Pod, deleted = false): Verdict {
  const v = rawVerdict(pod, deleted);
  return 'message' in v ? { ...v, reason: showNul(v.reason), message: showNul(v.message) } : v;
}

function rawVerdict(pod: V1Pod, deleted: boolean): Verdict {
  const terminal = isTerminal(pod);
  if (terminal || deleted) {
    const d = disruption(pod);
    if (d) return { kind: 'disrupted', ...d };
    if (!terminal) return { kind: 'gone' };
    const t = taskContainer(pod)?.state?.terminated;
    return { kind: 'ended', phase: pod.status!.phase!, reason: t?.reason ?? pod.status?.reason ?? pod.status!.phase!,
      message: t?.message ?? pod.status?.message ?? '', exitCode: t?.exitCode ?? null };
  }
  if (pod.status?.phase === 'Running') return { kind: 'running', node: pod.spec?.nodeName ?? '' };
  const waiting = taskContainer(pod)?.state?.waiting;
  if (waiting?.reason && PULL_FAILURES.has(waiting.reason)) {
    const image = pod.spec?.containers?.find((c) => c.name === 'task')?.image ?? pod.spec?.containers?.[0]?.image ?? '';
    return { kind: 'pullFailing', reason: waiting.reason, message: waiting.message ?? '', image };
  }
  if (waiting?.reason) return { kind: 'waiting', reason: waiting.reason, message: waiting.message ?? `on node ${pod.spec?.nodeName}` };
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched) return { kind: 'waiting', reason: sched.reason ?? 'Unschedulable', message: sched.message ?? '' };
  return pod.spec?.nodeName
    ? { kind: 'waiting', reason: 'ContainerCreating', message: `on node ${pod.spec.nodeName}` }
    : { kind: 'waiting', reason: 'Pending', message: 'waiting for the scheduler' };
}

/** The task's status message for a pod that ended without its agent reporting. */
export function endedMessage(pod: V1Pod, v: Extract<Verdict, { kind: 'ended' }>): string {
  const code = v.exitCode === null ? '' : ` (exit code ${v.exitCode})`;
  const why = v.reason === 'OOMKilled' ? 'OOMKilled: the task container ran out of memory' : `${v.phase}: ${v.reason}`;
  return `${why}${code}; pod ${podRef(pod)} ended without its agent reporting${v.message ? `: ${v.message}` : ''}`;
}
