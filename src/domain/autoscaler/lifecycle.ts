// The instance state machine and the journal's vocabulary. Every write of an instance's state goes
// through `checkTransition` (InstanceRepo.move does, with a compare-and-set on the from-state), so a
// record can only tell a story this table allows.
import { InvalidTransitionError } from '../errors.js';

// No `draining`: the policy only ever stops an instance whose worker holds no task (idle, never
// registered, or gone), and the race where a worker takes a task after the plan is settled by
// keeping the instance (stop-skipped). Draining would also need the dequeue path to refuse a
// draining worker, which it does not; a state nothing sets would only mislead.
// `interrupted`: the cloud announced it takes the machine back (a spot notice, reported by its agent). It
// still costs money until it is gone, but it is no capacity and does not count against the maxes: its task
// is being handed back and needs a machine elsewhere now.
export type InstanceState = 'requested' | 'booting' | 'ready' | 'interrupted' | 'terminating' | 'terminated' | 'failed';

/** States that cost money or may still: counted by the reconciler, listed by `live`. */
export const LIVE_STATES: readonly InstanceState[] = ['requested', 'booting', 'ready', 'interrupted', 'terminating'];
/** States that count against the maxes and the $/h cap. */
export const BILLED_STATES: readonly InstanceState[] = ['requested', 'booting', 'ready'];
export const ENDED_STATES: readonly InstanceState[] = ['terminated', 'failed'];

/**
 * Every move the product makes, and why:
 * - requested → booting: the launch call returned, or a restart adopted the machine the cloud lists
 * - requested → failed: the launch call failed, or it never produced a machine
 * - requested → terminating: the boot timeout ran out before a restarted reconciler saw the machine
 * - booting → ready: its worker registered
 * - booting → terminating: boot timeout, or its worker came and went before the pass saw it ready
 * - ready → terminating: idle, budget reclaim, worker exited or lost
 * - requested|booting|ready → terminated: the cloud lost it (spot reclaim) or the app was deleted
 * - terminating → terminated: the cloud no longer lists it, or the app was deleted
 * - booting|ready → interrupted: its agent reported the cloud's interruption notice (spot)
 * - interrupted → terminating: its worker handed its task back and left; the reconciler stops it
 * - interrupted → terminated: the cloud took it, as announced, or the app was deleted
 */
export const TRANSITIONS: Readonly<Record<InstanceState, readonly InstanceState[]>> = {
  requested: ['booting', 'failed', 'terminating', 'terminated'],
  booting: ['ready', 'interrupted', 'terminating', 'terminated'],
  ready: ['interrupted', 'terminating', 'terminated'],
  interrupted: ['terminating', 'terminated'],
  terminating: ['terminated'],
  terminated: [],
  failed: [],
};

export function canMove(from: InstanceState, to: InstanceState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws InvalidTransitionError ("instance X cannot go from terminated to ready") unless the table allows it. */
export function checkTransition(id: string, from: InstanceState, to: InstanceState): void {
  if (!canMove(from, to)) throw new InvalidTransitionError(`instance ${id}`, from, to);
}

export function isInstanceState(s: string): s is InstanceState {
  return s in TRANSITIONS;
}

/** What the decision journal records; one row per action, refusal or thing noticed. */
export type DecisionKind =
  | 'launch' // an instance was requested for a queue
  | 'capacity-error' // the offering had no capacity; the next plan falls back
  | 'launch-failed' // the launch failed for another reason
  | 'terminate' // stopped: idle, or its budget went to a waiting task
  | 'boot-timeout' // its worker never registered in time
  | 'worker-exited' // its worker registered, ran, and signed off
  | 'worker-lost' // its worker registered and then went offline
  | 'refuse' // tasks wait: a limit holds them
  | 'wait' // tasks wait: capacity is on its way
  | 'adopt' // an instance launched before a restart was found and kept
  | 'orphan-terminated' // a tagged machine no record owns was stopped
  | 'instance-lost' // the cloud no longer runs it (spot reclaim, machine lost)
  | 'task-recovered' // a task of a lost instance went back to its queue
  | 'stop-skipped' // a stop was called off: the worker took a task meanwhile
  | 'terminate-all' // the app was deleted: everything it ran was stopped
  | 'drain' // a person asked (console) to drain an instance: its task finishes, it takes no new one
  | 'interrupted' // the cloud announced it takes the instance back (spot): its offering cools down
  | 'rebalance' // the cloud recommends leaving the instance (spot at risk): its agent takes no new task
  | 'budget-warning' // a day or month budget crossed a warning fraction
  | 'app-not-started'; // the app cannot run: a price could not be had

export const DECISION_KINDS: readonly DecisionKind[] = [
  'launch', 'capacity-error', 'launch-failed', 'terminate', 'boot-timeout', 'worker-exited', 'worker-lost', 'refuse',
  'wait', 'adopt', 'orphan-terminated', 'instance-lost', 'task-recovered', 'stop-skipped', 'terminate-all',
  'drain',
  'interrupted', 'rebalance',
  'budget-warning', 'app-not-started',
];
