// The one act loop of the autoscaler: plan, act, and plan again after a capacity error, at most
// maxPasses times. The reconciler drives it against a cloud (async, launches of a batch at once) and
// the trace simulator drives it against its engine (sync, one after another); both run the same steps,
// so a replay is the product's behaviour and not only its policy's.
import type { Action } from '../domain/autoscaler/policy.js';

export type LaunchAction = Extract<Action, { kind: 'launch' }>;
export type TerminateAction = Extract<Action, { kind: 'terminate' }>;
export type LaunchOutcome = 'launched' | 'capacity-error' | 'failed';

/** What the loop asks its driver to do next. Launches of one step may run concurrently. */
export type ActStep =
  | { op: 'plan' }
  | { op: 'terminate'; actions: TerminateAction[] }
  | { op: 'launch'; actions: LaunchAction[] };

type Answer = readonly Action[] | readonly LaunchOutcome[] | undefined;

export interface ActSummary {
  passes: number;
  launched: number;
  capacityErrors: number;
  failed: number;
  /** Launches planned on an offering that had just failed in the same pass: not sent, re-planned. */
  held: number;
}

/** Each round marks at least one more offering as cooling down, so a few rounds reach any fallback. */
export const MAX_PASSES = 8;

const key = (o: LaunchAction['offering']) => `${o.instanceType}\u0000${o.zone ?? ''}\u0000${o.market}`;

/**
 * The steps of one reconciliation. Terminations go first: a budget reclaim frees its share of the cap
 * before the launch that needs it. Then one launch per offering (a probe); only offerings whose probe
 * launched get the rest of their launches. An offering whose probe failed gets no more calls this pass:
 * after a capacity error the next plan sees it cooling down and falls back; after another failure
 * (bad image, quota) the next tick tries again, one call and one journal row instead of N.
 */
export function* actLoop(maxPasses = MAX_PASSES): Generator<ActStep, ActSummary, Answer> {
  const sum: ActSummary = { passes: 0, launched: 0, capacityErrors: 0, failed: 0, held: 0 };
  while (sum.passes < maxPasses) {
    sum.passes++;
    const actions = (yield { op: 'plan' }) as readonly Action[];
    let terminations: TerminateAction[] | undefined;
    let launches: LaunchAction[] | undefined;
    for (const a of actions) {
      if (a.kind === 'terminate') (terminations ??= []).push(a);
      else if (a.kind === 'launch') (launches ??= []).push(a);
    }
    if (terminations) yield { op: 'terminate', actions: terminations };
    if (!launches) break;
    let probes = launches;
    let rest: LaunchAction[] = [];
    if (launches.length > 1) {
      const seen = new Set<string>();
      probes = [];
      for (const a of launches) {
        const k = key(a.offering);
        if (seen.has(k)) rest.push(a);
        else {
          seen.add(k);
          probes.push(a);
        }
      }
    }
    let capacity = false;
    const dead = new Set<string>();
    const tally = (batch: LaunchAction[], outcomes: readonly LaunchOutcome[]) => {
      outcomes.forEach((o, i) => {
        if (o === 'launched') return void sum.launched++;
        if (o === 'capacity-error') {
          sum.capacityErrors++;
          capacity = true;
        } else sum.failed++;
        dead.add(key(batch[i]!.offering));
      });
    };
    tally(probes, (yield { op: 'launch', actions: probes }) as readonly LaunchOutcome[]);
    if (rest.length && dead.size) {
      const send = rest.filter((a) => !dead.has(key(a.offering)));
      sum.held += rest.length - send.length;
      rest = send;
    }
    if (rest.length) tally(rest, (yield { op: 'launch', actions: rest }) as readonly LaunchOutcome[]);
    if (!capacity) break;
  }
  return sum;
}

export interface SyncActuator {
  launch(a: LaunchAction): LaunchOutcome;
  terminate(a: TerminateAction): void;
}

export interface Actuator {
  launch(a: LaunchAction): Promise<LaunchOutcome>;
  terminate(a: TerminateAction): Promise<unknown>;
}

/** Drives the loop synchronously, one action after another (the trace simulator). */
export function reconcileSync(plan: () => readonly Action[], act: SyncActuator, maxPasses = MAX_PASSES): ActSummary {
  const g = actLoop(maxPasses);
  let r = g.next();
  while (!r.done) {
    const step = r.value;
    let answer: Answer;
    if (step.op === 'plan') answer = plan();
    else if (step.op === 'terminate') for (const a of step.actions) act.terminate(a);
    else {
      const out: LaunchOutcome[] = [];
      for (const a of step.actions) out.push(act.launch(a));
      answer = out;
    }
    r = g.next(answer);
  }
  return r.value;
}

/** Drives the loop against a cloud: the actions of one step run concurrently. */
export async function reconcile(
  plan: () => Promise<readonly Action[]> | readonly Action[], act: Actuator, maxPasses = MAX_PASSES,
): Promise<ActSummary> {
  const g = actLoop(maxPasses);
  let r = g.next();
  while (!r.done) {
    const step = r.value;
    let answer: Answer;
    if (step.op === 'plan') answer = await plan();
    else if (step.op === 'terminate') await Promise.all(step.actions.map((a) => act.terminate(a)));
    else answer = await Promise.all(step.actions.map((a) => act.launch(a)));
    r = g.next(answer);
  }
  return r.value;
}
