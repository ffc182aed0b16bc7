// The Kubernetes glue: one pod per task. For each queue in priority order, while under the queue's and the overall
// pod limits, it takes the queue's head (which stays in its queue's listing as 'scheduled'), creates its token Secret
// and pod, and follows the pod (./react.ts). It talks to the control plane only through the HTTP API, so the same code
// runs standalone (`flotilla k8s-glue`) or as a controller in the control plane's leader.
import type { V1Pod } from '@kubernetes/client-node';
import type { FlotillaClient } from '../client/index.js';
import type { Task } from '../domain/task.js';
import type { ResolvedGlueConfig, ResolvedQueue } from './config.js';
import { PodFollower, type PodEvent } from './follow.js';
import { FinishedPods } from './gc.js';
import type { Kube } from './kube.js';
import { launchPod } from './launch.js';
import { MANAGED_SELECTOR, podName } from './pod.js';
import { PodReactor } from './react.js';
import { attemptOf, isTerminal, podRef, queueOf, taskIdOf } from './verdict.js';
import { Backoff } from '../domain/backoff.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { BACKOFF, DEFAULT_TIMINGS } from '../domain/timings.js';

export interface GlueOptions {
  config: ResolvedGlueConfig;
  kube: Kube;
  /** An admin-token client of the control plane. */
  client: FlotillaClient;
  /** Namespace for queues that name none and the config has none (see defaultNamespace in kube.ts). */
  namespace: string;
  log?: (msg: string) => void;
  /** The clock for keep and image-pull times and the pod-creation back-off (tests move it). */
  clock?: Clock;
  /** Lifetime of each pod's agent token; it is revoked as soon as the pod ends. Default: DEFAULT_TIMINGS.podTokenTtlS. */
  tokenTtlS?: number;
  /** Longest wait between passes when nothing happens. Default: DEFAULT_TIMINGS.glueIdleWaitMs. */
  idleWaitMs?: number;
}

export const PENDING = 'pending in Kubernetes';

export class Glue {
  readonly name = 'k8s-glue';
  private readonly cfg: ResolvedGlueConfig;
  private readonly followers = new Map<string, PodFollower>();
  /**
   * The pods as the glue has dealt with them, by "ns/name". Changed only in turn with the reactions (not when an event
   * arrives), so a pass never sees a slot freed by a pod whose task has not yet been put back at the head of its queue.
   */
  private readonly view = new Map<string, V1Pod>();
  /** Pods seen deleted: names are never reused (each attempt has its own), so a late remember() must not revive one. */
  private readonly gone = new Set<string>();
  private readonly finished: FinishedPods;
  private readonly reactor: PodReactor;
  private readonly log: (msg: string) => void;
  private readonly clock: Clock;
  private readonly now = () => this.clock.now();
  private chain: Promise<void> = Promise.resolve();
  private stopped = true;
  private wake = new AbortController();
  private loopDone?: Promise<void>;
  private holdUntil = 0;
  /** Pod creation failing (Kubernetes unreachable): hold it 1 s, 2 s ... 30 s. */
  private readonly backoff = new Backoff(BACKOFF.podCreate);
  /** The control plane's digest of the scheduled and running tasks the last pass saw (see POST /api/v1/k8s/wait). */
  private digest?: string;

  constructor(private readonly o: GlueOptions) {
    this.cfg = o.config;
    this.log = o.log ?? ((m) => process.stderr.write(`[k8s-glue] ${m}\n`));
    this.clock = o.clock ?? systemClock;
    this.finished = new FinishedPods(this.cfg.keepFinishedPodsS * 1000);
    this.reactor = new PodReactor({
      cfg: this.cfg, kube: o.kube, client: o.client, now: this.now, log: this.log, finished: this.finished,
      pods: () => this.pods(),
    });
    for (const ns of new Set(this.cfg.queues.map((q) => this.namespaceOf(q))))
      this.followers.set(ns, new PodFollower({
        kube: o.kube, namespace: ns, labelSelector: MANAGED_SELECTOR, log: this.log,
        onEvent: (type, pod) => this.onPodEvent(type, pod),
      }));
  }

  /** Follows the pods, and once every namespace is listed (adoption), starts the passes. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    for (const f of this.followers.values()) f.start();
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const f of this.followers.values()) f.stop();
    this.poke();
    await this.loopDone;
    await this.chain;
  }

  /** Runs a pass soon (a test moved the clock; a pod changed). */
  poke(): void {
    this.wake.abort();
  }

  /** Every pod the glue knows of, in all its namespaces. */
  pods(): V1Pod[] {
    return [...this.view.values()];
  }

  /** Runs one pass after the pod reactions queued so far, and resolves when it has run (tests, after moving the clock). */
  runPass(): Promise<void> {
    return this.serial(() => this.pass());
  }

  private namespaceOf(q: ResolvedQueue): string {
    return q.namespace ?? this.cfg.namespace ?? this.o.namespace;
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn).catch((e) => this.log(`error: ${(e as Error).message}`));
    this.chain = run;
    return run;
  }

  private onPodEvent(type: PodEvent, pod: V1Pod): void {
    if (this.stopped) return;
    void this.serial(async () => {
      const key = podRef(pod);
      if (type !== 'DELETED') this.view.set(key, pod);
      else {
        this.view.delete(key);
        this.gone.add(key);
        if (this.gone.size > 10_000) this.gone.delete(this.gone.values().next().value!);
      }
      await this.reactor.observe(type, pod);
    });
    if (type === 'DELETED' || isTerminal(pod)) this.poke(); // a slot may be free
  }

  /** A pod the glue just created counts at once, not when its ADDED event arrives. */
  private remember(pod: V1Pod): void {
    const key = podRef(pod);
    if (!this.view.has(key) && !this.gone.has(key)) this.view.set(key, pod);
  }

  private async loop(): Promise<void> {
    await Promise.all([...this.followers.values()].map((f) => f.synced));
    while (!this.stopped) {
      await this.serial(() => this.pass());
      await this.idle();
    }
  }

  /** Waits for a control-plane change on the glue's queues, a pod change, a poke, or the next deadline. */
  private async idle(): Promise<void> {
    if (this.stopped) return;
    if (this.wake.signal.aborted) {
      // Poked during the pass: something changed that the pass may not have seen.
      this.wake = new AbortController();
      return;
    }
    const signal = this.wake.signal;
    const deadlines = [this.finished.next(), this.reactor.nextPullDeadline()].filter((x): x is number => x !== undefined);
    const untilDeadline = deadlines.length ? Math.min(...deadlines) - this.now() : Infinity;
    const untilHold = this.holdUntil - this.now();
    const waitMs = Math.max(0, Math.floor(Math.min(this.o.idleWaitMs ?? DEFAULT_TIMINGS.glueIdleWaitMs, untilDeadline, untilHold > 0 ? untilHold : Infinity)));
    if (waitMs === 0) return;
    try {
      await this.o.client.k8sWait({ queues: this.cfg.queues.map((q) => q.name), ready: this.ready(), digest: this.digest, waitMs }, signal);
    } catch (e) {
      if (signal.aborted) return;
      this.log(`waiting on the control plane failed: ${(e as Error).message}`);
      // The signal outlives this wait (it is renewed only when aborted): its listener must go with the wait, or every
      // failed wait of a control plane that stays down adds one more.
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          r();
        };
        const t = setTimeout(done, Math.min(waitMs, 1000));
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    const { tasks: active, digest } = await this.o.client.k8sTasks(this.cfg.queues.map((q) => q.name));
    this.digest = digest;
    await this.reactor.check(new Map(active.map((t) => [t.id, t])));
    await this.adoptOrphans(active);
    if (this.now() >= this.holdUntil) await this.scheduleQueues();
    await this.reactor.collect();
  }

  /** Scheduled tasks with no pod (the glue stopped between taking a task and creating its pod) get their pod now. */
  private async adoptOrphans(active: Task[]): Promise<void> {
    for (const task of active) {
      if (task.status !== 'scheduled' || this.stopped) continue;
      const pods = this.pods().filter((p) => taskIdOf(p) === task.id);
      if (pods.some((p) => !isTerminal(p) || !this.reactor.handled(p))) continue;
      const q = this.cfg.queues.find((x) => x.name === task.queue);
      if (q && !(await this.launch(task, q))) return;
    }
  }

  private async scheduleQueues(): Promise<void> {
    for (const q of this.cfg.queues) {
      while (!this.stopped && this.live(q.name) < q.maxPods && this.live() < this.cfg.maxPods) {
        const task = await this.o.client.k8sScheduleNext(q.name, `${PENDING}: creating its pod`);
        if (!task) break;
        if (!(await this.launch(task, q))) return;
      }
    }
  }

  /** Queues with room for another pod (none while pod creation is backing off). */
  private ready(): string[] {
    if (this.now() < this.holdUntil || this.live() >= this.cfg.maxPods) return [];
    return this.cfg.queues.filter((q) => this.live(q.name) < q.maxPods).map((q) => q.name);
  }

  /** Pods that hold a slot: not ended (even while being deleted), or ended with their task not yet dealt with. */
  private live(queue?: string): number {
    return this.pods().filter((p) => (!isTerminal(p) || !this.reactor.handled(p)) && (queue === undefined || queueOf(p) === queue)).length;
  }

  /** false: Kubernetes could not be reached; the task went back to the head of its queue and the pass stops. */
  private async launch(task: Task, q: ResolvedQueue): Promise<boolean> {
    const ours = this.pods().filter((p) => taskIdOf(p) === task.id).map(attemptOf);
    let attempt = Math.max(task.attempts + 1, ...ours.map((a) => a + 1));
    const namespace = this.namespaceOf(q);
    // A pod deleted before its agent took the task leaves task.attempts as it was: its name would come back, and
    // remember() would not count a pod of a name seen deleted, letting the pass start one pod over maxPods.
    while (this.gone.has(`${namespace}/${podName(task.id, attempt)}`)) attempt++;
    const r = await launchPod({ cfg: this.cfg, kube: this.o.kube, client: this.o.client, namespace,
      tokenTtlS: this.o.tokenTtlS ?? DEFAULT_TIMINGS.podTokenTtlS, log: (m) => this.log(m) },
      task, q, attempt);
    if (r.ok) {
      this.backoff.reset();
      this.remember(r.pod);
      await this.o.client.k8sSetMessage(task.id, `${PENDING}: pod ${podRef(r.pod)} created`);
      await this.reactor.journal(q.name, 'pod-created', `task ${task.id}: pod ${podRef(r.pod)} created`, { task: task.id, pod: podRef(r.pod) });
      return true;
    }
    if (r.refused) {
      await this.o.client.k8sFail(task.id, { message: r.message }).catch(() => undefined);
      await this.reactor.journal(q.name, 'pod-refused', `task ${task.id} failed: ${r.message}`, { task: task.id });
      return true;
    }
    const holdMs = this.backoff.next();
    this.holdUntil = this.now() + holdMs;
    this.log(`${r.message}; retrying in ${holdMs / 1000}s`);
    await this.o.client.k8sRequeue(task.id, r.message).catch(() => undefined);
    await this.reactor.journal(q.name, 'pod-create-failed', r.message, { task: task.id });
    return false;
  }
}
