// One autoscaler app's loop: sync with the provider, build the snapshot, ask the policy, act,
// and write one journal row per action or refusal. The policy decides; this file only acts.
import type { Store } from '../store/index.js';
import type { QueueService } from '../services/queue.js';
import type { InstanceRecord } from '../store/apps.js';
import type { Worker } from '../domain/task.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import { plan, type Action, type CapacityFailure } from '../domain/autoscaler/policy.js';
import { describeOffering } from '../domain/autoscaler/offerings.js';
import { CapacityError, type ComputeProvider } from './providers/types.js';
import { buildSnapshot, indexWorkers, workerOf } from './snapshot.js';
import { syncWithProvider } from './sync.js';
import { launchRequest, type LaunchContext } from './launch.js';
import { newId } from '../store/tasks.js';

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
}

const MAX_REPLANS = 8;

export class Reconciler {
  private failures: CapacityFailure[] = [];
  private lastNote = new Map<string, string>();
  private firstSeen = new Map<string, number>();
  private lastList = 0;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(public cfg: AppConfig, private readonly o: ReconcilerOptions) {}

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
          const gap = (this.o.minGapMs ?? 100) - (this.now() - started);
          if (this.again && gap > 0) await new Promise((r) => setTimeout(r, gap));
        } while (this.again);
      } catch (e) {
        this.o.log?.(`autoscaler ${this.cfg.name}: pass failed: ${(e as Error).message}`);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async pass(): Promise<void> {
    const { store } = this.o;
    if (this.now() - this.lastList >= (this.o.listEveryMs ?? 5000)) {
      const records = await store.instances.live(this.cfg.name);
      await syncWithProvider(store, this.o.provider, records, await this.workers(), this.firstSeen, {
        app: this.cfg.name, now: this.now(), requestedGraceMs: this.o.requestedGraceMs ?? 120_000,
        orphanGraceMs: this.o.orphanGraceMs ?? 60_000, journal: (k, r, d) => this.journal(k, null, r, d), queue: this.o.queue,
      });
      this.lastList = this.now();
    }
    for (let i = 0; i < MAX_REPLANS; i++) if (!(await this.planAndAct())) break;
  }

  /** Returns true when a capacity error asks for another plan right away (the fallback). */
  private async planAndAct(): Promise<boolean> {
    const { store } = this.o;
    const now = this.now();
    const cooldownMs = this.cfg.timings.capacityCooldownS * 1000;
    this.failures = this.failures.filter((f) => now - f.at < cooldownMs);
    const records = await store.instances.live(this.cfg.name);
    const workers = await this.workers();
    await this.markReady(records, workers);
    const snapshot = await buildSnapshot(store, this.cfg, records, workers, this.failures);
    const actions = plan(snapshot, this.cfg, now);
    await this.notes(actions, snapshot.queues);
    const byId = new Map(records.map((r) => [r.id, r]));
    const results = await Promise.all(actions.map((a) =>
      a.kind === 'launch' ? this.launch(a) : a.kind === 'terminate' ? this.terminate(a, byId.get(a.instanceId), workers) : false));
    return results.some(Boolean);
  }

  private async workers(): Promise<Map<string, Worker>> {
    return indexWorkers((await this.o.store.workers.list()).filter((w) => w.app === this.cfg.name || w.instanceId));
  }

  private async markReady(records: InstanceRecord[], workers: Map<string, Worker>) {
    for (const rec of records) {
      const w = workerOf(rec, workers);
      if (rec.state === 'booting' && w && w.status !== 'offline' && w.status !== 'stopped') {
        await this.o.store.instances.update(rec.id, { state: 'ready', workerId: w.id });
        rec.state = 'ready';
      }
    }
  }

  /** Why tasks wait: journaled when the reason for a queue changes, not on every pass. */
  private async notes(actions: Action[], queues: Record<string, { waiting: number }>) {
    for (const q of Object.keys(queues)) if (!queues[q].waiting) this.lastNote.delete(q);
    for (const a of actions) {
      if (a.kind !== 'refuse' && a.kind !== 'wait') continue;
      if (this.lastNote.get(a.queue) === a.reason) continue;
      this.lastNote.set(a.queue, a.reason);
      await this.journal(a.kind, a.queue, a.reason, { waiting: queues[a.queue]?.waiting ?? 0 });
    }
  }

  private async launch(a: Extract<Action, { kind: 'launch' }>): Promise<boolean> {
    const { store, provider } = this.o;
    const resource = this.cfg.resources.find((r) => r.name === a.resource)!;
    const id = `${this.cfg.name}-${newId(4)}`;
    await store.instances.create({ id, app: this.cfg.name, resource: a.resource, state: 'requested',
      offering: a.offering, pricePerHour: resource.pricePerHour, launchedAt: this.now() });
    this.lastNote.delete(a.queue);
    await this.journal('launch', a.queue, a.reason, { instance: id, resource: a.resource, offering: a.offering });
    try {
      const req = await launchRequest(this.o, this.cfg, resource, id, a.offering);
      const got = await provider.launch(req);
      await store.instances.update(id, { state: 'booting', providerId: got.providerId });
      return false;
    } catch (e) {
      const msg = (e as Error).message;
      await store.instances.update(id, { state: 'failed', message: msg });
      if (e instanceof CapacityError) {
        this.failures.push({ offering: a.offering, at: this.now() });
        await this.journal('capacity-error', a.queue, `capacity error for ${describeOffering(a.offering)}: ${msg}`,
          { instance: id, code: e.code, offering: a.offering });
        return true;
      }
      await this.journal('launch-failed', a.queue, `launch of ${a.resource} failed: ${msg}`, { instance: id });
      return false;
    }
  }

  private async terminate(a: Extract<Action, { kind: 'terminate' }>, rec: InstanceRecord | undefined, workers: Map<string, Worker>) {
    if (!rec) return false;
    const { store, provider } = this.o;
    const w = workerOf(rec, workers);
    if (w && a.reason !== 'boot-timeout') {
      // Re-check right before stopping: the worker may have taken a task since the snapshot.
      if (!(await this.o.queue.stopIfIdle(w.id))) {
        await this.journal('stop-skipped', null, `kept ${rec.id}: its worker took a task`, { instance: rec.id });
        return false;
      }
    }
    await store.instances.update(rec.id, { state: 'terminating', message: a.detail });
    if (rec.providerId) await provider.terminate([rec.providerId]);
    await this.journal(a.reason === 'boot-timeout' ? 'boot-timeout' : 'terminate', null, `${rec.id}: ${a.detail}`,
      { instance: rec.id, reason: a.reason });
    return false;
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
    // Give the agents time to hand their tasks back themselves.
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && (await provider.list(this.cfg.name)).some((p) => ids.includes(p.providerId)))
      await new Promise((r) => setTimeout(r, 100));
    for (const rec of records) {
      const w = workerOf(rec, workers);
      if (w) {
        await this.o.queue.workerGone(w.id, `${reason}; instance ${rec.id} stopped`);
      }
      await store.instances.update(rec.id, { state: 'terminated', message: reason });
    }
    await this.journal('terminate-all', null, reason, { instances: records.map((r) => r.id) });
  }

  private journal(kind: string, queue: string | null, reason: string, detail: Record<string, unknown>) {
    this.o.log?.(`autoscaler ${this.cfg.name}: ${kind}${queue ? ` [${queue}]` : ''}: ${reason}`);
    return this.o.store.decisions.add({ at: this.now(), app: this.cfg.name, queue, kind, reason, detail });
  }
}
