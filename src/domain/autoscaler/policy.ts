// The autoscaler policy: a pure function from what is (snapshot) to what to do (actions).
// No I/O, no clock, no randomness: the reconciler and the trace simulator both call it, so the
// simulator's figures are the product's behaviour. O(instances + queues x resources) per call.
import type { Offering } from './offering.js';
import type { AppConfig, ResourceConfig } from './config.js';
import { coolingDown, coolingUntil, describeOffering, offeringsFor, type CapacityFailure } from './offerings.js';
import type { InstanceState } from './lifecycle.js';
import { planWarm, type ArrivalHistory } from './warm.js';
import { BudgetGuard, priceOf as price, type BudgetSnapshot } from './budget.js';

export type { CapacityFailure } from './offerings.js';
export type { InstanceState } from './lifecycle.js';

export interface InstanceView {
  id: string;
  resource: string;
  state: InstanceState;
  offering: Offering;
  launchedAt: number; // ms
  busy: boolean; // its worker holds a task
  idleSince?: number; // ms, set while registered and not busy
  registered: boolean; // its worker is up now (idle or busy)
  /** Its worker registered once and has since signed off (exited) or stopped heartbeating (lost). */
  workerGone?: 'exited' | 'lost';
}

export interface QueueView {
  waiting: number; // queued and held by no worker
  oldestAt?: number; // ms the oldest waiting task was queued; older queues are served first
}

export interface Snapshot {
  queues: Readonly<Record<string, QueueView>>;
  instances: readonly InstanceView[];
  capacityFailures: readonly CapacityFailure[];
  /** Recent arrivals per queue: the warm pool's forecast (warm.ts); needed only when a resource is warm: auto. */
  arrivals?: ArrivalHistory;
  /** Spend so far per budget period (services/costs.ts); absent = no day or month budget is checked. */
  budget?: BudgetSnapshot;
}

export type TerminateReason = 'idle' | 'boot-timeout' | 'budget-reclaim' | 'budget-exhausted' | 'worker-exited' | 'worker-lost';

export type Action =
  | { kind: 'launch'; resource: string; offering: Offering; queue: string; reason: string }
  | { kind: 'terminate'; instanceId: string; reason: TerminateReason; detail: string }
  | { kind: 'refuse'; queue: string; reason: string } // tasks wait: a limit holds them
  | { kind: 'wait'; queue: string; reason: string }; // tasks wait: capacity is on its way

interface Index {
  byName: Map<string, ResourceConfig>;
  offerings: Map<string, Offering[]>;
  queueOrder: string[];
}

const indexes = new WeakMap<AppConfig, Index>();

// Memoised per config object: the simulator calls plan per event with the same config.
function indexOf(cfg: AppConfig): Index {
  let ix = indexes.get(cfg);
  if (!ix) {
    ix = {
      byName: new Map(cfg.resources.map((r) => [r.name, r])),
      offerings: new Map(cfg.resources.map((r) => [r.name, offeringsFor(r)])),
      queueOrder: Object.keys(cfg.queues),
    };
    indexes.set(cfg, ix);
  }
  return ix;
}

interface Tally {
  active: number; // requested, booting or ready: what counts against maxes and $/h
  idle: number; // registered, ready, no task
  pending: number; // launched, worker not registered yet
  firstPending?: string;
}

interface State {
  cfg: AppConfig;
  ix: Index;
  s: Snapshot;
  now: number;
  tally: Map<string, Tally>;
  total: number;
  rate: number;
  actions: Action[];
  reclaimable: InstanceView[]; // idle instances no waiting task can use, oldest idle last
  reclaimableRate: number; // their $/h
  reclaimed: Set<string>;
  idleLeft: Map<string, number>; // per resource, idle instances no waiting task claimed
  pendingLeft: Map<string, number>; // per resource, booting instances no waiting task claimed
  kept: Set<string>; // idle instances the warm pool keeps
  budget: BudgetGuard;
}

export function plan(s: Snapshot, cfg: AppConfig, now: number): Action[] {
  const ix = indexOf(cfg);
  const st: State = {
    cfg, ix, s, now, tally: new Map(), total: 0, rate: 0, actions: [], reclaimable: [], reclaimableRate: 0, reclaimed: new Set(),
    budget: budgetGuard(cfg, s, now),
    idleLeft: new Map(), pendingLeft: new Map(), kept: new Set(),
  };
  for (const r of cfg.resources) st.tally.set(r.name, { active: 0, idle: 0, pending: 0 });
  const idle = countInstances(st);
  const needed = neededResources(st);
  for (const inst of idle) {
    if (needed.has(inst.resource)) continue;
    st.reclaimable.push(inst);
    st.reclaimableRate += price(ix.byName.get(inst.resource)!);
  }
  st.reclaimable.sort((a, b) => (b.idleSince ?? now) - (a.idleSince ?? now));
  budgetStops(st);
  launchForQueues(st);
  shedOverBudget(st);
  keepWarm(st, idle);
  stopIdle(st, idle, needed);
  return st.actions;
}

/**
 * Tallies instances per resource; terminates those whose worker never registered in time, and those
 * whose worker registered and went away (a worker that ran tasks did not time out booting).
 */
function countInstances(st: State): InstanceView[] {
  const bootMs = st.cfg.timings.bootTimeoutS * 1000;
  const idle: InstanceView[] = [];
  for (const inst of st.s.instances) {
    const r = st.ix.byName.get(inst.resource);
    if (!r || inst.state === 'terminating') continue; // not ours to count, or already going
    const t = st.tally.get(r.name)!;
    const unregistered = !inst.registered;
    if (unregistered && inst.workerGone) {
      st.actions.push(inst.workerGone === 'exited'
        ? { kind: 'terminate', instanceId: inst.id, reason: 'worker-exited', detail: 'its worker exited (signed off); nothing runs there any more' }
        : { kind: 'terminate', instanceId: inst.id, reason: 'worker-lost', detail: 'its worker was lost (went offline: no heartbeat)' });
      continue;
    }
    if (unregistered && st.now - inst.launchedAt >= bootMs) {
      st.actions.push({
        kind: 'terminate', instanceId: inst.id, reason: 'boot-timeout',
        detail: `worker did not register within the boot timeout of ${st.cfg.timings.bootTimeoutS} s`,
      });
      continue;
    }
    t.active++;
    st.total++;
    st.rate += price(r);
    if (unregistered) {
      t.pending++;
      t.firstPending ??= inst.id;
    } else if (inst.state === 'ready' && !inst.busy) {
      t.idle++;
      idle.push(inst);
    }
  }
  return idle;
}

function neededResources(st: State): Set<string> {
  const needed = new Set<string>();
  for (const [q, list] of Object.entries(st.cfg.queues))
    if ((st.s.queues[q]?.waiting ?? 0) > 0) for (const r of list) needed.add(r);
  return needed;
}

/** Queues with the oldest waiting task first, so a big task is not starved by a stream of small ones. */
function queueOrder(st: State): string[] {
  const order = st.ix.queueOrder.filter((q) => (st.s.queues[q]?.waiting ?? 0) > 0);
  const at = (q: string) => st.s.queues[q]?.oldestAt ?? Number.POSITIVE_INFINITY;
  return order.sort((a, b) => at(a) - at(b));
}

function launchForQueues(st: State): void {
  const { idleLeft, pendingLeft } = st;
  for (const [name, t] of st.tally) {
    idleLeft.set(name, t.idle);
    pendingLeft.set(name, t.pending);
  }
  let budgetBlocked = false;
  for (const q of queueOrder(st)) {
    const list = st.cfg.queues[q]!;
    let w = st.s.queues[q]!.waiting;
    let bootingFor: string | undefined;
    // Shared capacity is consumed once: a resource listed by two queues serves whichever asks first.
    for (const r of list) {
      const fromIdle = Math.min(w, idleLeft.get(r) ?? 0);
      idleLeft.set(r, (idleLeft.get(r) ?? 0) - fromIdle);
      w -= fromIdle;
      const fromPending = Math.min(w, pendingLeft.get(r) ?? 0);
      pendingLeft.set(r, (pendingLeft.get(r) ?? 0) - fromPending);
      w -= fromPending;
      if (fromPending > 0) bootingFor ??= st.tally.get(r)?.firstPending;
    }
    if (bootingFor) st.actions.push({ kind: 'wait', queue: q, reason: `waiting for instance ${bootingFor} to boot` });
    if (w === 0) continue;
    if (budgetBlocked) {
      st.actions.push({ kind: 'refuse', queue: q, reason: 'older tasks of other queues wait for the budget first' });
      continue;
    }
    budgetBlocked = launchFor(st, q, list, w);
  }
}

interface Choice {
  resource?: ResourceConfig;
  offering?: Offering;
  fallback?: string;
  refusal?: string;
  budget: boolean;
}

/** Launches up to `w` instances for queue q. Returns true when the app-wide budget stopped it. */
function launchFor(st: State, q: string, list: readonly string[], w: number): boolean {
  for (let launched = 0; launched < w; launched++) {
    const c = choose(st, list);
    if (!c.resource || !c.offering) {
      st.actions.push({ kind: 'refuse', queue: q, reason: c.refusal ?? `no resource can run ${q}` });
      return c.budget;
    }
    const t = st.tally.get(c.resource.name)!;
    t.active++;
    st.total++;
    st.rate += price(c.resource);
    st.budget.add({ ...c.resource, pricePerHour: price(c.resource) });
    const why = `${w - launched} task(s) waiting on ${q}`;
    st.actions.push({
      kind: 'launch', resource: c.resource.name, offering: c.offering, queue: q,
      reason: c.fallback ? `${why}; ${c.fallback}` : why,
    });
  }
  return false;
}

/**
 * The first resource of the queue's list, and its first offering, that every limit allows. When none is
 * allowed, the refusal names every limit that holds each resource back (each checked on its own), app-wide
 * limits first: "small at its max of 2" alone would hide a $/h cap that also binds.
 */
function choose(st: State, list: readonly string[]): Choice {
  const wide: string[] = [];
  const own: string[] = [];
  let budget = false;
  const cooldownMs = st.cfg.timings.capacityCooldownS * 1000;
  for (const name of list) {
    const r = st.ix.byName.get(name);
    if (!r) continue;
    const mine: string[] = [];
    if (st.tally.get(name)!.active >= r.maxInstances) mine.push(`${name} at its max of ${r.maxInstances}`);
    const appWide = appLimits(st, r);
    const offers = st.ix.offerings.get(name)!;
    const ok = offers.find((o) => !coolingDown(o, st.s.capacityFailures, st.now, cooldownMs));
    if (!ok) mine.push(cooldownRefusal(st, r, offers, cooldownMs));
    if (mine.length === 0 && appWide.length === 0) {
      reclaimFor(st, r);
      const refused = [...wide, ...own];
      const cooled = offers.slice(0, offers.indexOf(ok!));
      let fallback: string | undefined;
      if (cooled.length) fallback = `capacity error for ${cooled.map(describeOffering).join(', ')}; next: ${describeOffering(ok!)}`;
      else if (refused.length) fallback = `${refused.join('; ')}; next: ${name}`;
      return { resource: r, offering: ok, fallback, budget };
    }
    if (mine.length === 0) budget = true; // only the app's budget holds this one back
    for (const w of appWide) if (!wide.includes(w)) wide.push(w);
    own.push(...mine);
  }
  const all = [...wide, ...own];
  return { refusal: all.length ? all.join('; ') : undefined, budget };
}

/** The app-wide limits that forbid one more r even after stopping every idle instance nobody needs. Pure. */
function appLimits(st: State, r: ResourceConfig): string[] {
  const { maxInstances, maxPerHour } = st.cfg.budget;
  const out: string[] = [];
  if (maxInstances !== undefined && st.total - st.reclaimable.length + 1 > maxInstances)
    out.push(`app at its max of ${maxInstances} instances`);
  if (maxPerHour !== undefined && st.rate - st.reclaimableRate + price(r) > maxPerHour + 1e-9)
    out.push(capRefusal(st, r, maxPerHour));
  const period = st.budget.refusal({ ...r, pricePerHour: price(r) });
  if (period) out.push(period);
  return out;
}

const usd = (x: number) => `$${x.toFixed(2)}`;


/** The day and month budgets of this plan (budget.ts); nothing to weigh when the snapshot carries no spend. */
function budgetGuard(cfg: AppConfig, s: Snapshot, now: number): BudgetGuard {
  const byName = indexOf(cfg).byName;
  const views = !s.budget ? [] : s.instances.filter((i) => i.state !== 'terminating' && byName.has(i.resource))
    .map((i) => ({ ...i, pricePerHour: price(byName.get(i.resource)!) }));
  return new BudgetGuard(cfg.budget, s.budget, views, cfg.timings.idleTimeoutS * 1000, now);
}

/** A day or month limit is reached: idle instances stop (drain), or all of them (terminate). */
function budgetStops(st: State): void {
  for (const stop of st.budget.stops()) {
    if (st.actions.some((a) => a.kind === 'terminate' && a.instanceId === stop.id)) continue;
    st.reclaimed.add(stop.id);
    const inst = st.s.instances.find((i) => i.id === stop.id)!;
    if (inst.registered && !inst.busy && inst.state === 'ready') st.tally.get(inst.resource)!.idle--; // no task goes to it now
    st.actions.push({ kind: 'terminate', instanceId: stop.id, reason: 'budget-exhausted', detail: stop.detail });
  }
}

/** "$/h cap: 2 × $1.50 running = $3.00 of $3.00", and what one more would add when there is room left. */
function capRefusal(st: State, r: ResourceConfig, cap: number): string {
  const parts: string[] = [];
  for (const res of st.cfg.resources) {
    const n = st.tally.get(res.name)!.active;
    if (n > 0 && price(res) > 0) parts.push(`${n} × ${usd(price(res))}`);
  }
  const running = parts.length ? `${parts.join(' + ')} running = ${usd(st.rate)}` : `${usd(st.rate)} running`;
  const room = st.rate < cap - 1e-9 ? `; one more ${r.name} adds ${usd(price(r))}` : '';
  return `$/h cap: ${running} of ${usd(cap)}${room}`;
}

function cooldownRefusal(st: State, r: ResourceConfig, offers: readonly Offering[], cooldownMs: number): string {
  let until = Number.POSITIVE_INFINITY;
  for (const o of offers) until = Math.min(until, coolingUntil(o, st.s.capacityFailures, st.now, cooldownMs) ?? until);
  return `every offering of ${r.instanceType} had a capacity error; capacity cool-down until ${new Date(until).toISOString()}`;
}

/** Stops idle instances nobody needs, oldest idle first, until one more r fits the app's limits. */
function reclaimFor(st: State, r: ResourceConfig): void {
  const { maxInstances, maxPerHour } = st.cfg.budget;
  const over = () => {
    if (maxInstances !== undefined && st.total + 1 > maxInstances) return `app at its max of ${maxInstances} instances`;
    if (maxPerHour !== undefined && st.rate + price(r) > maxPerHour + 1e-9) return `$/h cap of ${usd(maxPerHour)} reached`;
    return undefined;
  };
  for (let why = over(); why && st.reclaimable.length > 0; why = over())
    reclaim(st, `idle and no waiting task can use it; its budget goes to a waiting task (${why})`);
}

/** Stops the idle instance nobody needs that has been idle longest; its share of every limit is free again. */
function reclaim(st: State, detail: string): void {
  const inst = st.reclaimable.pop()!;
  const r = st.ix.byName.get(inst.resource)!;
  st.tally.get(r.name)!.active--;
  st.idleLeft.set(r.name, (st.idleLeft.get(r.name) ?? 1) - 1);
  st.total--;
  st.rate -= price(r);
  st.reclaimableRate -= price(r);
  st.reclaimed.add(inst.id);
  st.actions.push({ kind: 'terminate', instanceId: inst.id, reason: 'budget-reclaim', detail });
}

function stopIdle(st: State, idle: readonly InstanceView[], needed: Set<string>): void {
  const idleMs = st.cfg.timings.idleTimeoutS * 1000;
  for (const inst of idle) {
    if (st.reclaimed.has(inst.id) || st.kept.has(inst.id) || needed.has(inst.resource) || inst.idleSince === undefined) continue;
    if (st.now - inst.idleSince < idleMs) continue;
    st.actions.push({
      kind: 'terminate', instanceId: inst.id, reason: 'idle',
      detail: `idle for ${Math.round((st.now - inst.idleSince) / 1000)} s (idle timeout ${st.cfg.timings.idleTimeoutS} s)`,
    });
  }
}

/**
 * The warm pool (warm.ts): after every waiting task had its launch, top up each resource's idle ready
 * instances to its target, under every limit and without stopping anything for it.
 */
function keepWarm(st: State, idle: readonly InstanceView[]): void {
  if (!st.cfg.resources.some((r) => r.warm && r.warm.mode !== 'off')) return;
  const refusedQueues = new Set(st.actions.filter((a) => a.kind === 'refuse').map((a) => a.queue));
  const cooldownMs = st.cfg.timings.capacityCooldownS * 1000;
  const byIdle = idle.filter((i) => !st.reclaimed.has(i.id)).sort((a, b) => (a.idleSince ?? 0) - (b.idleSince ?? 0));
  st.kept = planWarm({
    cfg: st.cfg, now: st.now, arrivals: st.s.arrivals, idle: byIdle,
    spare: (r) => (st.idleLeft.get(r) ?? 0) + (st.pendingLeft.get(r) ?? 0),
    refused: (r) => Object.keys(st.cfg.queues).some((q) => refusedQueues.has(q) && st.cfg.queues[q]!.includes(r)),
    launch: (r, queue, reason) => {
      const { maxInstances, maxPerHour } = st.cfg.budget;
      if (st.tally.get(r.name)!.active >= r.maxInstances) return false;
      if (maxInstances !== undefined && st.total + 1 > maxInstances) return false;
      if (maxPerHour !== undefined && st.rate + price(r) > maxPerHour + 1e-9) return false;
      const offering = st.ix.offerings.get(r.name)!.find((o) => !coolingDown(o, st.s.capacityFailures, st.now, cooldownMs));
      if (!offering) return false;
      st.tally.get(r.name)!.active++;
      st.total++;
      st.rate += price(r);
      st.actions.push({ kind: 'launch', resource: r.name, offering, queue, reason });
      return true;
    },
  });
}

/**
 * A budget lowered below what runs (the config changed): idle instances no waiting task can use, warm
 * ones included, stop first, oldest idle first, until the app is within its caps again.
 */
function shedOverBudget(st: State): void {
  const { maxInstances, maxPerHour } = st.cfg.budget;
  const over = () => {
    if (maxInstances !== undefined && st.total > maxInstances) return `app over its max of ${maxInstances} instances`;
    if (maxPerHour !== undefined && st.rate > maxPerHour + 1e-9) return `${usd(st.rate)}/h running is over the $/h cap of ${usd(maxPerHour)}`;
    return undefined;
  };
  for (let why = over(); why && st.reclaimable.length > 0; why = over())
    reclaim(st, `idle (warm pool included) and no waiting task can use it; the budget tightened: ${why}`);
}
