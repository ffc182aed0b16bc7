// One autoscaler app's loop: sync with the provider, build the snapshot, ask the policy, act,
// and write one journal row per action or refusal. The policy decides; this file only acts.
import type { Store } from '../store/index.js';
import type { QueueService } from '../services/queue.js';
import type { InstanceRecord } from '../store/apps.js';
import type { Worker } from '../domain/task.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import { plan, type Action, type CapacityFailure } from '../domain/autoscaler/policy.js';
import { describeOffering } from '../domain/autoscaler/offerings.js';
import type { DecisionKind } from '../domain/autoscaler/lifecycle.js';
import { InvalidTransitionError } from '../domain/errors.js';
import { reconcile, MAX_PASSES, type LaunchAction, type LaunchOutcome, type TerminateAction } from '../services/act-loop.js';
import { CapacityError, type ComputeProvider } from './providers/types.js';
import { buildSnapshot, indexWorkers, workerOf } from './snapshot.js';
import { syncWithProvider } from './sync.js';
import { carryOutRequests } from './requests.js';
import { InterruptedInstances } from './interruptions.js';
import { launchRequest, type LaunchContext } from './launch.js';
import { newId } from '../store/tasks.js';
import { DEFAULT_TIMINGS } from '../domain/timings.js';
import { CostService } from '../services/costs.js';
import { priceOf } from '../domain/autoscaler/budget.js';
import { BudgetWatch, type BudgetWatchOptions } from './budget-watch.js';
import { LiveInstances } from '../store/live-instances.js';
import type { PriceQuote } from './prices.js';
import type { ResourceConfig } from '../domain/autoscaler/config.js';

export interface ReconcilerOptions extends LaunchContext {
  store: Store;
  /** Every change of a task or a worker's record goes through it. */
  queue: QueueService;
  provider: ComputeProvider;
  now?: () => number;
  log?: (msg: string) => void;
  /** How often to ask the provider what it runs (a cloud API call). */
  listEveryMs?: number;
  orphanGraceMs?: number;
  requestedGraceMs?: number;
  minGapMs?: number;
  /** The price of a launch on its offering (market and zone); absent = the resource's pricePerHour. */
  quote?: (r: ResourceConfig, offering: LaunchAction['offering']) => Promise<PriceQuote>;
  /** Where budget warnings go besides the journal and the metrics (the webhook). */
  budget?: BudgetWatchOptions;
}

const TERMINATE_KIND: Record<TerminateAction['reason'], DecisionKind> = {
  'idle': 'terminate', 'budget-reclaim': 'terminate', 'budget-exhausted': 'terminate', 'boot-timeout': 'boot-timeout',
  'worker-exited': 'worker-exited', 'worker-lost': 'worker-lost',
};

export class Reconciler {
  private failures: CapacityFailure[] = [];
  /** The last wait and the last refusal journaled per queue (`kind queue` → reason): a plan may give a queue both. */
  private lastNote = new Map<string, string>();
  private firstSeen = new Map<string, number>();
  private lastList = 0;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** What the last plan saw, for acting on its terminations. */
  private seen: { records: Map<string, InstanceRecord>; workers: Map<string, Worker> } = { records: new Map(), workers: new Map() };

  private readonly interrupted: InterruptedInstances;
  private readonly costs: CostService;
  private readonly budget: BudgetWatch;
  /** The app's live instance records, kept between passes; every instance write of this reconciler goes through it. */
  readonly live: LiveInstances;

  constructor(public cfg: AppConfig, private readonly o: ReconcilerOptions) {
    this.live = new LiveInstances(o.store.instances, cfg.name);
    this.interrupted = new InterruptedInstances(o.store, o.provider);
    this.costs = new CostService(o.store, () => this.now());
    this.budget = new BudgetWatch(o.store, this.costs, (k, q, r, d) => this.journal(k, q, r, d), { log: o.log, ...o.budget });
  }

  private now = () => (this.o.now ?? Date.now)();

  /** Runs a pass now, or right after the one in progress (wake-ups coalesce). */
  wake(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          const started = this.now();
          await this.pass();
          // Under a stream of events, passes come at most every minGapMs; one pass sees them all.
          const gap = (this.o.minGapMs ?? DEFAULT_TIMINGS.minGapMs) - (this.now() - started);
          if (this.again && gap > 0) await new Promise((r) => setTimeout(r, gap));
        } while (this.again);
      } catch (e) {
        this.o.clearml?.reset();
        this.o.log?.(`autoscaler ${this.cfg.name}: pass failed: ${(e as Error).message}`);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async pass(): Promise<void> {
    try {
      await this.passOnce();
    } catch (e) {
      // Whatever a pass that failed half way left, the next one reads the records whole.
      this.live.invalidate();
      throw e;
    }
  }

  private async passOnce(): Promise<void> {
    const { store } = this.o;
    // The workers are read only when a step needs them (an instance the cloud lost, a console request), as before.
    const lazily = () => {
      let workers: Promise<Map<string, Worker>> | undefined;
      return () => (workers ??= this.workers());
    };
    // The pass's one census of the stored records (live-instances.ts); the steps after it see what they wrote.
    const records = await this.live.records();
    if (this.now() - this.lastList >= (this.o.listEveryMs ?? DEFAULT_TIMINGS.listEveryMs)) {
      await syncWithProvider(this.o.provider, records, lazily(), this.firstSeen, {
        app: this.cfg.name, now: this.now(), requestedGraceMs: this.o.requestedGraceMs ?? DEFAULT_TIMINGS.requestedGraceMs,
        orphanGraceMs: this.o.orphanGraceMs ?? DEFAULT_TIMINGS.orphanGraceMs, journal: (k, r, d) => this.journal(k, null, r, d), queue: this.o.queue,
        instances: this.live,
      });
      this.lastList = this.now();
    }
    await carryOutRequests({ store, queue: this.o.queue, provider: this.o.provider, now: this.now(), instances: this.live,
      journal: (k, r, d) => this.journal(k, null, r, d) }, await this.live.held(), lazily());
    // The first plan uses that census; a plan again after a capacity error (the act loop) asks the store again.
    let plans = 0;
    await reconcile(() => this.planNow(plans++ > 0), {
      launch: (a) => this.launch(a),
      terminate: (a) => this.terminate(a),
    }, MAX_PASSES);
  }

  /** Reads the store, asks the policy, and journals why tasks wait. `census`: ask whether the records changed. */
  private async planNow(census: boolean): Promise<readonly Action[]> {
    const { store } = this.o;
    const now = this.now();
    const cooldownMs = this.cfg.timings.capacityCooldownS * 1000;
    this.failures = this.failures.filter((f) => now - f.at < cooldownMs);
    const records = census ? await this.live.records() : await this.live.held();
    const workers = await this.workers();
    await this.markReady(records, workers);
    // A spot interruption cools its offering down like a capacity error; its machine goes once its worker left.
    await this.interrupted.coolDown(this.cfg, records, this.failures, now);
    await this.interrupted.settle(records, workers, now, (k, q, r, d) => this.journal(k, q, r, d), this.live);
    const waiting = this.o.clearml ? await this.o.clearml.waiting(Object.keys(this.cfg.queues)) : undefined;
    const snapshot = await buildSnapshot(store, this.cfg, records, workers, this.failures, now, waiting);
    const budget = await this.budget.snapshot(this.cfg, now);
    if (budget) snapshot.budget = budget;
    const actions = plan(snapshot, this.cfg, now);
    await this.notes(actions, snapshot.queues);
    this.seen = { records: new Map(records.map((r) => [r.id, r])), workers };
    return actions;
  }

  private async workers(): Promise<Map<string, Worker>> {
    // A ClearML app's workers are the ClearML server's, named after the instances (src/clearml/source.ts).
    if (this.o.clearml) return indexWorkers(await this.o.clearml.workers(this.now()));
    return indexWorkers(await this.o.store.workers.forApp(this.cfg.name));
  }

  private async markReady(records: InstanceRecord[], workers: Map<string, Worker>) {
    for (const rec of records) {
      const w = workerOf(rec, workers);
      if (rec.state === 'booting' && w && w.status !== 'offline' && w.status !== 'stopped') {
        try {
          await this.live.move(rec.id, 'booting', 'ready', { workerId: w.id }, this.now());
          rec.state = 'ready';
        } catch (e) {
          // Its agent reported an interruption meanwhile (autoscaler/interruptions.ts): the next pass sees it.
          if (!(e instanceof InvalidTransitionError)) throw e;
        }
      }
    }
  }

  /**
   * Why tasks wait: journaled when a queue's reason changes, not on every pass. A plan may give a queue a wait (an
   * instance boots for it) and a refusal (a limit holds the rest back): each kind keeps its own last reason, or the
   * two took turns as "the last" and both were journaled again on every pass.
   */
  private async notes(actions: Action[], queues: Record<string, { waiting: number }>) {
    for (const q of Object.keys(queues)) if (!queues[q].waiting) this.forgetNotes(q);
    for (const a of actions) {
      if (a.kind !== 'refuse' && a.kind !== 'wait') continue;
      const key = `${a.kind} ${a.queue}`;
      if (this.lastNote.get(key) === a.reason) continue;
      this.lastNote.set(key, a.reason);
      await this.journal(a.kind, a.queue, a.reason, { waiting: queues[a.queue]?.waiting ?? 0 });
    }
  }

  private forgetNotes(queue: string) {
    this.lastNote.delete(`wait ${queue}`);
    this.lastNote.delete(`refuse ${queue}`);
  }

  private async launch(a: LaunchAction): Promise<LaunchOutcome> {
    const { store, provider } = this.o;
    const resource = this.cfg.resources.find((r) => r.name === a.resource)!;
    const id = `${this.cfg.name}-${newId(4)}`;
    // Billed at the price of the market and zone it really runs in (a spot launch: this hour's spot price there).
    let quote: PriceQuote | undefined;
    try {
      quote = this.o.quote ? await this.o.quote(resource, a.offering) : undefined;
    } catch (e) {
      await this.journal('launch-failed', a.queue, `launch of ${a.resource} on ${describeOffering(a.offering)} not sent: ${(e as Error).message}`, { offering: a.offering });
      return 'failed';
    }
    const pricePerHour = quote?.pricePerHour ?? priceOf(resource);
    await this.live.create({ id, app: this.cfg.name, resource: a.resource, causeQueue: a.queue,
      offering: a.offering, pricePerHour, launchedAt: this.now() });
    this.forgetNotes(a.queue);
    await this.journal('launch', a.queue, a.reason, { instance: id, resource: a.resource, offering: a.offering,
      pricePerHour, priceSource: quote?.source ?? 'config' });
    try {
      const req = await launchRequest(this.o, this.cfg, resource, id, a.offering);
      const got = await provider.launch(req);
      await this.live.move(id, 'requested', 'booting', { providerId: got.providerId }, this.now());
      return 'launched';
    } catch (e) {
      const msg = (e as Error).message;
      await this.live.move(id, 'requested', 'failed', { message: msg }, this.now());
      if (e instanceof CapacityError) {
        this.failures.push({ offering: a.offering, at: this.now() });
        await this.journal('capacity-error', a.queue, `capacity error for ${describeOffering(a.offering)}: ${msg}`,
          { instance: id, code: e.code, offering: a.offering });
        return 'capacity-error';
      }
      await this.journal('launch-failed', a.queue, `launch of ${a.resource} on ${describeOffering(a.offering)} failed: ${msg}`,
        { instance: id, offering: a.offering });
      return 'failed';
    }
  }

  private async terminate(a: TerminateAction): Promise<void> {
    const rec = this.seen.records.get(a.instanceId);
    if (!rec) return;
    const { store, provider } = this.o;
    const w = workerOf(rec, this.seen.workers);
    // A budget reached with onExhausted: terminate: the tasks on it go back to the head of their queues first.
    if (w && a.reason === 'budget-exhausted' && this.cfg.budget.onExhausted === 'terminate')
      await this.o.queue.reclaimWorker(w.id, `the budget of app ${this.cfg.name} is exhausted (onExhausted: terminate)`);
    // A ClearML server cannot be told to stop a worker: the snapshot's "idle" stands (docs/clearml.md).
    else if (w && !this.o.clearml && (a.reason === 'idle' || a.reason === 'budget-reclaim' || a.reason === 'budget-exhausted')) {
      // Re-check right before stopping: the worker may have taken a task since the snapshot.
      if (!(await this.o.queue.stopIfIdle(w.id))) {
        await this.journal('stop-skipped', null, `kept ${rec.id}: its worker took a task`, { instance: rec.id });
        return;
      }
    }
    try {
      await this.live.move(rec.id, rec.state, 'terminating', { message: a.detail }, this.now());
    } catch (e) {
      // Another writer (the sync, an app deletion) moved it first; its story wins.
      if (!(e instanceof InvalidTransitionError)) throw e;
      this.o.log?.(`autoscaler ${this.cfg.name}: ${e.message}`);
      return;
    }
    if (rec.providerId) await provider.terminate([rec.providerId]);
    await this.journal(TERMINATE_KIND[a.reason], null, `${rec.id}: ${a.detail}`, { instance: rec.id, reason: a.reason });
  }

  /** The app is gone: stop everything it runs; tasks on them go back to their queues. */
  async terminateAll(reason: string, waitMs = 0): Promise<void> {
    const { store, provider } = this.o;
    // No pass after this one, and a launch in flight lands in the records before they are read.
    this.stopped = true;
    await this.running;
    const records = await store.instances.live(this.cfg.name);
    const workers = await this.workers();
    const ids = records.map((r) => r.providerId).filter((p): p is string => !!p);
    if (ids.length) await provider.terminate(ids);
    // Give the agents time to hand their tasks back themselves. Wall time on purpose: this waits on real
    // processes and a real cloud, which the pass's (possibly hand-moved) clock does not drive.
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && (await provider.list(this.cfg.name)).some((p) => ids.includes(p.providerId)))
      await new Promise((r) => setTimeout(r, 100));
    for (const rec of records) {
      const w = workerOf(rec, workers);
      if (w) {
        await this.o.queue.workerGone(w.id, `${reason}; instance ${rec.id} stopped`);
      }
      await store.instances.move(rec.id, rec.state, 'terminated', { message: reason }, this.now());
    }
    await this.journal('terminate-all', null, reason, { instances: records.map((r) => r.id) });
  }

  private journal(kind: DecisionKind, queue: string | null, reason: string, detail: Record<string, unknown>) {
    this.o.log?.(`autoscaler ${this.cfg.name}: ${kind}${queue ? ` [${queue}]` : ''}: ${reason}`);
    return this.o.store.decisions.add({ at: this.now(), app: this.cfg.name, queue, kind, reason, detail });
  }
}
