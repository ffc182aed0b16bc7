// The replay engine: a discrete-event simulation on a virtual clock. Jobs arrive on their queues,
// instances boot on the simulated cloud, each instance's agent runs one task at a time and takes
// the next waiting task as soon as it is free. A Driver (our policy, or the ClearML baseline)
// decides launches and terminations; the engine only does what it is told and keeps the books.
import { priceOf } from '../domain/autoscaler/budget.js';
import type { AppConfig, ResourceConfig } from '../domain/autoscaler/config.js';
import type { CapacityFailure } from '../domain/autoscaler/policy.js';
import type { SimCloud } from '../autoscaler/providers/simulated/cloud.js';
import { CapacityError, type Offering } from '../autoscaler/providers/types.js';
import { EventHeap, type Timed } from './heap.js';
import { Fifo } from './fifo.js';
import { Books } from './books.js';
import { BudgetBooks } from './budget-books.js';
import type { SimInstance, SimJob } from './sim-types.js';
import { ArrivalLog } from './arrivals.js';

export type { SimInstance, SimJob } from './sim-types.js';

export interface Driver {
  /** Agents poll their queues this often when idle (0: they are woken at once). */
  readonly pollMs: number;
  start(e: Engine): void;
  /** After every instant at which anything happened. */
  afterEvents(e: Engine): void;
  onWake(e: Engine, tag: string): void;
  onIdle?(e: Engine, inst: SimInstance): void;
}

const STALL_MS = 7 * 86_400_000; // a week of virtual time with no machine able to start

type Ev = Timed &
  ({ kind: 'boot' | 'interrupt'; inst: SimInstance } | { kind: 'done'; inst: SimInstance; job: SimJob } | { kind: 'wake'; tag: string });

export class Engine {
  now = 0;
  readonly live: SimInstance[] = [];
  readonly byId = new Map<string, SimInstance>();
  readonly waiting = new Map<string, Fifo<SimJob>>();
  readonly failures: CapacityFailure[] = [];
  readonly books: Books;
  /** Day and month budgets, when the app has them. */
  readonly budget?: BudgetBooks;
  readonly resources: Map<string, ResourceConfig>;
  readonly queuesOf = new Map<string, string[]>();
  readonly arrivals: ArrivalLog;
  private readonly heap = new EventHeap<Ev>();
  private readonly idle = new Map<string, [SimInstance, number][]>();
  private seq = 0;
  private launchSeq = 0;
  private instants = 0;
  private progressAt = 0; // last arrival, launch or job start
  private next = 0; // cursor into jobs

  constructor(
    readonly cfg: AppConfig,
    readonly cloud: SimCloud,
    private readonly jobs: readonly SimJob[],
    private readonly driver: Driver,
    private readonly onProgress?: (fraction: number) => void,
  ) {
    this.resources = new Map(cfg.resources.map((r) => [r.name, r]));
    for (const r of cfg.resources) {
      this.queuesOf.set(r.name, Object.keys(cfg.queues).filter((q) => cfg.queues[q]!.includes(r.name)));
      this.idle.set(r.name, []);
    }
    for (const q of Object.keys(cfg.queues)) this.waiting.set(q, new Fifo());
    this.books = new Books(cfg);
    this.arrivals = new ArrivalLog(Object.keys(cfg.queues));
    if (BudgetBooks.wanted(cfg)) this.budget = new BudgetBooks(cfg);
  }

  run(): void {
    this.driver.start(this);
    for (;;) {
      const top = this.heap.peek();
      const arrival = this.jobs[this.next];
      const t = Math.min(top?.t ?? Infinity, arrival?.submit ?? Infinity);
      if (t === Infinity || this.stalled(t)) break;
      this.now = t;
      while (this.jobs[this.next]?.submit === t) this.arrive(this.jobs[this.next++]!);
      while (this.heap.peek()?.t === t) this.handle(this.heap.pop()!);
      this.driver.afterEvents(this);
      if (this.onProgress && (++this.instants & 4095) === 0) this.onProgress(this.next / Math.max(1, this.jobs.length));
    }
    for (const inst of [...this.live]) if (!inst.busy) this.remove(inst); // a driver that never stops them pays to the end
    // Jobs that never started (no capacity, ever) count their wait up to the end of the replay.
    for (const f of this.waiting.values()) for (let j = f.shift(); j; j = f.shift()) this.books.waited(this.now - j.submit);
  }

  /** Nothing left but wake-ups that achieve nothing: no machine, no arrival, no progress for a long while. */
  private stalled(t: number): boolean {
    return this.live.length === 0 && this.next >= this.jobs.length && t - this.progressAt > STALL_MS;
  }

  /** Jobs still to arrive, waiting or running: what a warm pool may still be kept for. */
  jobsLeft(): boolean {
    return this.next < this.jobs.length || this.live.some((i) => i.busy) || [...this.waiting.values()].some((f) => f.length > 0);
  }

  hasWork(): boolean {
    return this.next < this.jobs.length || this.live.length > 0 || [...this.waiting.values()].some((f) => f.length > 0);
  }

  wakeAt(t: number, tag: string): void {
    this.push({ kind: 'wake', tag, t: Math.max(t, this.now), prio: 1, seq: 0 });
  }

  /** Launches through the simulated cloud; a capacity error is recorded and returned, as a cloud answers. */
  launch(resource: string, offering: Offering): SimInstance | CapacityError {
    const r = this.resources.get(resource)!;
    const id = `i-${++this.launchSeq}`;
    let m;
    try {
      m = this.cloud.launch({ appId: this.cfg.name, resource, clientToken: id, offering }, this.now);
    } catch (err) {
      if (!(err instanceof CapacityError)) throw err;
      this.failures.push({ offering, at: this.now });
      return err;
    }
    this.cloud.forget(id); // the engine keeps its own record; the cloud need not grow with the trace
    const spot = offering.market === 'spot' ? this.cfg.simulation?.spot[resource] : undefined;
    const inst: SimInstance = {
      id, resource, state: 'booting', offering, launchedAt: this.now, busy: false, registered: false,
      price: priceOf(r) * (spot?.priceFraction ?? 1), live: true, job: null, readyAt: m.readyAt, serves: this.queuesOf.get(resource)!, idleSeq: 0,
    };
    this.live.push(inst);
    this.progressAt = this.now;
    this.byId.set(id, inst);
    this.books.launched(inst, this.live);
    this.push({ kind: 'boot', inst, t: m.readyAt, prio: 0, seq: 0 });
    if (m.interruptAt !== undefined) this.push({ kind: 'interrupt', inst, t: m.interruptAt, prio: 0, seq: 0 });
    return inst;
  }

  terminate(inst: SimInstance): void {
    if (!inst.live) return;
    if (inst.busy) throw new Error(`policy bug: asked to stop ${inst.id} while its worker holds task ${inst.job?.id}`);
    this.remove(inst);
  }

  /** Capacity errors younger than the cool-down; older ones are dropped so the list stays short. */
  recentFailures(cooldownMs: number): CapacityFailure[] {
    while (this.failures.length > 0 && this.now - this.failures[0]!.at >= cooldownMs) this.failures.shift();
    return this.failures;
  }

  private push(e: Ev): void {
    e.seq = ++this.seq;
    this.heap.push(e);
  }

  private handle(ev: Ev): void {
    if (ev.kind === 'wake') return this.driver.onWake(this, ev.tag);
    const inst = ev.inst;
    if (!inst.live) return;
    if (ev.kind === 'boot') {
      inst.state = 'ready';
      inst.registered = true;
      this.free(inst);
    } else if (ev.kind === 'done') {
      if (inst.job !== ev.job) return;
      this.books.jobDone(ev.job, inst);
      this.budget?.jobDone(ev.job.duration);
      inst.job = null;
      inst.busy = false;
      this.free(inst);
    } else {
      const job = inst.job;
      if (job) {
        this.loseWork(inst, job);
        this.waiting.get(job.queue)!.unshift(job); // back at the head, at once
      }
      inst.job = null;
      inst.busy = false;
      this.books.interrupted();
      // The product treats an interrupted (type, zone, spot) like a capacity error: it cools down, and the
      // next launch falls back (another zone, on-demand) until the cool-down ends.
      this.failures.push({ offering: inst.offering, at: this.now });
      this.wakeAt(this.now + this.cfg.timings.capacityCooldownS * 1000, 'capacity-cooldown');
      this.remove(inst);
    }
  }

  private arrive(job: SimJob): void {
    this.progressAt = this.now;
    this.arrivals.record(job.queue, this.now);
    this.waiting.get(job.queue)!.push(job);
    for (const r of this.cfg.queues[job.queue]!) {
      const inst = this.popIdle(r);
      if (inst) return this.assign(inst, this.waiting.get(job.queue)!.shift()!, this.nextPoll(inst));
    }
  }

  /** The instance's agent is free: it takes the oldest waiting task of its queues, or sits idle. */
  private free(inst: SimInstance): void {
    let best: Fifo<SimJob> | undefined;
    for (const q of inst.serves) {
      const f = this.waiting.get(q)!;
      if (f.length > 0 && (!best || f.peek()!.submit < best.peek()!.submit)) best = f;
    }
    if (best) return this.assign(inst, best.shift()!, this.now);
    inst.idleSince = this.now;
    inst.idleSeq++;
    this.idle.get(inst.resource)!.push([inst, inst.idleSeq]);
    this.driver.onIdle?.(this, inst);
  }

  private assign(inst: SimInstance, job: SimJob, start: number): void {
    if (inst.idleSince !== undefined) this.books.idleEnded(this.now - inst.idleSince);
    inst.idleSince = undefined;
    inst.busy = true;
    inst.job = job;
    if (job.started === undefined) {
      job.started = start;
      this.books.waited(start - job.submit);
    }
    if (job.interruptedAt !== undefined) {
      this.books.waitedAgain(start - job.interruptedAt);
      job.interruptedAt = undefined;
    }
    job.runStart = start;
    this.push({ kind: 'done', inst, job, t: start + job.duration - (job.saved ?? 0), prio: 0, seq: 0 });
  }

  /** An interruption: the job keeps the work up to its last checkpoint and loses the rest. */
  private loseWork(inst: SimInstance, job: SimJob): void {
    const ran = Math.max(0, this.now - (job.runStart ?? this.now));
    const every = (inst.offering.market === 'spot' ? this.cfg.simulation?.spot[inst.resource]?.checkpointIntervalS ?? 0 : 0) * 1000;
    const kept = every > 0 ? Math.floor(ran / every) * every : 0;
    job.saved = (job.saved ?? 0) + kept;
    job.interruptedAt = this.now;
    this.books.lost(ran - kept);
  }

  /** An idle agent that polls picks a new task at its next poll; one woken at once, now. */
  private nextPoll(inst: SimInstance): number {
    const p = this.driver.pollMs;
    if (p <= 0 || inst.idleSince === undefined) return this.now;
    return inst.idleSince + Math.ceil((this.now - inst.idleSince) / p) * p;
  }

  /** Most recently idle first: the others' idle timers keep running, so fewer machines stay up. */
  private popIdle(resource: string): SimInstance | undefined {
    const stack = this.idle.get(resource)!;
    while (stack.length > 0) {
      const [inst, seq] = stack.pop()!;
      if (inst.live && !inst.busy && inst.idleSeq === seq) return inst;
    }
    return undefined;
  }

  private remove(inst: SimInstance): void {
    inst.live = false;
    if (inst.idleSince !== undefined) this.books.idleEnded(this.now - inst.idleSince);
    inst.idleSince = undefined;
    const i = this.live.indexOf(inst);
    const last = this.live.pop()!;
    if (last !== inst) this.live[i] = last;
    this.byId.delete(inst.id);
    this.books.stopped(inst, this.now);
    this.budget?.stopped(inst, this.now);
  }
}
