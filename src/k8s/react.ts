// What the glue does when a task pod changes: pending reasons become the task's status message and a journal row;
// an image that cannot be pulled for too long fails the task; an evicted or preempted pod puts the task back at the
// head of its queue; a pod that ended without its agent reporting fails the task with the pod's reason; an aborted
// task loses its pod; ended pods are kept for diagnosis, then deleted with their Secret.
import type { V1Pod } from '@kubernetes/client-node';
import { ApiError, type FlotillaClient } from '../client/index.js';
import type { Task } from '../domain/task.js';
import type { ResolvedGlueConfig } from './config.js';
import type { PodEvent } from './follow.js';
import type { FinishedPods } from './gc.js';
import type { Kube } from './kube.js';
import { TOKEN_ID_ANNOTATION } from './launch.js';
import { tokenSecretName } from './pod.js';
import { attemptOf, endedMessage, isTerminal, podRef, podVerdict, queueOf, taskIdOf, type Verdict } from './verdict.js';

export interface ReactorDeps {
  cfg: ResolvedGlueConfig;
  kube: Kube;
  client: FlotillaClient;
  now: () => number;
  log: (msg: string) => void;
  finished: FinishedPods;
  pods: () => V1Pod[];
}

type PullFailing = Extract<Verdict, { kind: 'pullFailing' }>;

/** 409 from the control plane: the task has already ended or moved on; nothing left to do. */
const settled = (e: unknown) => {
  if (e instanceof ApiError && e.status === 409) return undefined;
  throw e;
};

export class PodReactor {
  /** Pods whose end was dealt with (the task failed, requeued, or had already ended). */
  private done = new Set<string>();
  private said = new Map<string, string>();
  private pulling = new Map<string, { since: number; v: PullFailing }>();
  private revoked = new Set<string>();

  constructor(private readonly d: ReactorDeps) {}

  handled = (pod: V1Pod) => this.done.has(podRef(pod));

  async observe(type: PodEvent, pod: V1Pod): Promise<void> {
    const key = podRef(pod);
    if (!taskIdOf(pod)) return;
    const deleted = type === 'DELETED';
    if (deleted) await this.cleanUp(pod);
    // Names are never reused, so a deleted pod's entry can go.
    if (deleted ? this.done.delete(key) : this.done.has(key)) return;
    if (this.superseded(pod)) {
      if (isTerminal(pod)) await this.finish(pod);
      return;
    }
    const v = podVerdict(pod, deleted);
    if (v.kind !== 'pullFailing') this.pulling.delete(key);
    if (v.kind === 'waiting') return this.say(pod, `pending in Kubernetes: ${v.reason}: ${v.message}`, 'pending');
    if (v.kind === 'running') return this.say(pod, `pod ${key} running on node ${v.node}`, 'running');
    if (v.kind === 'pullFailing') {
      if (!this.pulling.has(key)) this.pulling.set(key, { since: this.d.now(), v });
      await this.say(pod, `pending in Kubernetes: ${v.reason}: ${v.message}`, 'pending');
      return;
    }
    await this.settle(pod, v);
    if (deleted) this.done.delete(key);
    else await this.finish(pod);
  }

  /** Each pass: retries pods whose end could not be reported, fails long image pulls, deletes pods of aborted tasks. */
  async check(active: Map<string, Task>): Promise<void> {
    for (const pod of this.d.pods()) {
      const key = podRef(pod);
      if (isTerminal(pod)) {
        if (!this.done.has(key)) await this.observe('MODIFIED', pod);
        continue;
      }
      if (pod.metadata?.deletionTimestamp || this.done.has(key)) continue;
      const pull = this.pulling.get(key);
      if (pull && this.d.now() - pull.since >= this.d.cfg.imagePullFailAfterS * 1000) {
        await this.failPull(pod, pull.v);
        continue;
      }
      const t = active.get(taskIdOf(pod)!);
      if (t && !t.abortRequested) continue;
      const cur = t ?? (await this.d.client.getTask(taskIdOf(pod)!).catch(() => null));
      if (cur && (cur.status === 'aborted' || cur.abortRequested)) {
        await this.deletePod(pod);
        await this.journal(queueOf(pod), 'pod-deleted', `task ${cur.id} was aborted: pod ${key} deleted`, { task: cur.id, pod: key });
      }
    }
  }

  /** Deletes the ended pods whose keep time is over, with their Secret. */
  async collect(): Promise<void> {
    for (const k of this.d.finished.due(this.d.now())) {
      const pod = this.d.pods().find((p) => p.metadata?.namespace === k.namespace && p.metadata?.name === k.name);
      if (pod) await this.deletePod(pod, 0);
      else await this.d.kube.deletePod(k.namespace, k.name, 0);
      if (pod) await this.cleanUp(pod);
      this.d.finished.forget(k.namespace, k.name);
    }
  }

  nextPullDeadline(): number | undefined {
    const since = [...this.pulling.values()].map((p) => p.since);
    return since.length ? Math.min(...since) + this.d.cfg.imagePullFailAfterS * 1000 : undefined;
  }

  async journal(queue: string | null | undefined, kind: string, reason: string, detail: Record<string, unknown>): Promise<void> {
    await this.d.client.k8sJournal({ queue: queue ?? null, kind, reason, detail })
      .catch((e) => this.d.log(`journal: ${(e as Error).message}`));
  }

  /** A newer attempt of the same task exists: this pod's news is history. */
  private superseded(pod: V1Pod): boolean {
    const id = taskIdOf(pod);
    return this.d.pods().some((p) => taskIdOf(p) === id && attemptOf(p) > attemptOf(pod));
  }

  private async say(pod: V1Pod, message: string, kind: string): Promise<void> {
    const key = podRef(pod);
    if (this.said.get(key) === message) return;
    const task = taskIdOf(pod)!;
    await this.d.client.k8sSetMessage(task, message);
    this.said.set(key, message);
    await this.journal(queueOf(pod), kind, `task ${task}: ${message}`, { task, pod: key });
  }

  private async settle(pod: V1Pod, v: Exclude<Verdict, { kind: 'waiting' | 'running' | 'pullFailing' }>): Promise<void> {
    const task = taskIdOf(pod)!;
    const key = podRef(pod);
    if (v.kind === 'ended') {
      const message = endedMessage(pod, v);
      const t = await this.d.client.k8sFail(task, { message, exitCode: v.exitCode }).catch(settled);
      if (t) await this.journal(queueOf(pod), 'failed', `task ${task}: ${message}`, { task, pod: key, reason: v.reason });
    } else {
      const why = v.kind === 'gone' ? 'was deleted before its task ended' : `was ${v.reason}${v.message ? ` (${v.message.trim()})` : ''}`;
      const t = await this.d.client.k8sRequeue(task, `pod ${key} ${why}`).catch(settled);
      if (t) await this.journal(queueOf(pod), t.status === 'queued' ? 'requeued' : t.status, `task ${task}: ${t.statusMessage}`, { task, pod: key });
    }
    this.done.add(key);
    this.said.delete(key);
  }

  private async finish(pod: V1Pod): Promise<void> {
    this.done.add(podRef(pod));
    this.d.finished.keep(pod, this.d.now());
    await this.revoke(pod);
  }

  private async failPull(pod: V1Pod, v: PullFailing): Promise<void> {
    const task = taskIdOf(pod)!;
    const key = podRef(pod);
    this.done.add(key);
    this.pulling.delete(key);
    const message = `image "${v.image}" could not be pulled for ${this.d.cfg.imagePullFailAfterS}s: ${v.reason}: ${v.message}`;
    const t = await this.d.client.k8sFail(task, { message }).catch(settled);
    if (t) await this.journal(queueOf(pod), 'failed', `task ${task}: ${message}`, { task, pod: key, reason: v.reason });
    // It would wait for its image forever, holding its place on a node.
    await this.deletePod(pod, 0);
  }

  /**
   * Its Secret first: a glue killed between the two calls then leaves a pod that a restarted glue lists and deletes
   * again, not a Secret holding an agent token that nothing lists (the glue may not list Secrets).
   */
  private async deletePod(pod: V1Pod, gracePeriodSeconds?: number): Promise<void> {
    const ns = pod.metadata!.namespace!;
    await this.d.kube.deleteSecret(ns, tokenSecretName(taskIdOf(pod)!, attemptOf(pod)));
    await this.d.kube.deletePod(ns, pod.metadata!.name!, gracePeriodSeconds);
  }

  /** The pod is gone: its Secret goes, its token is revoked, and what was remembered about it is dropped. */
  private async cleanUp(pod: V1Pod): Promise<void> {
    const ns = pod.metadata!.namespace!;
    await this.d.kube.deleteSecret(ns, tokenSecretName(taskIdOf(pod)!, attemptOf(pod)));
    await this.revoke(pod);
    this.revoked.delete(pod.metadata?.annotations?.[TOKEN_ID_ANNOTATION] ?? '');
    this.d.finished.forget(ns, pod.metadata!.name!);
    this.pulling.delete(podRef(pod));
    this.said.delete(podRef(pod));
  }

  private async revoke(pod: V1Pod): Promise<void> {
    const id = pod.metadata?.annotations?.[TOKEN_ID_ANNOTATION];
    if (!id || this.revoked.has(id)) return;
    this.revoked.add(id);
    await this.d.client.revokeToken(id).catch((e) => {
      if (!(e instanceof ApiError && e.status === 404)) this.revoked.delete(id);
    });
  }
}
