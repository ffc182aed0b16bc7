// What the agent does with the cloud's interruption signals (interruption.ts watches for them): on a
// rebalance recommendation it takes no new task; on a notice it tells the control plane (which marks the
// instance interrupted), stops its task with SIGTERM and the grace the machine's deadline leaves, and hands
// the task back to the head of its queue as a "spot interruption".
import type { FlotillaClient } from '../client/index.js';
import { DEFAULT_GRACE_MS, graceFor, watchInterruptions, type InterruptionWatch } from './interruption.js';

export type { InterruptionWatch } from './interruption.js';

/** What a task reads to know how long it has to checkpoint after SIGTERM on an interruption. */
export const GRACE_ENV = 'FLOTILLA_INTERRUPTION_GRACE_S';

export function interruptionEnv(w: InterruptionWatch | undefined): Record<string, string> {
  return w ? { [GRACE_ENV]: String(Math.floor((w.graceMs ?? DEFAULT_GRACE_MS[w.source]) / 1000)) } : {};
}

export interface InterruptionHooks {
  log(msg: string): void;
  client: FlotillaClient;
  workerId: string;
  /** The agent's bounded retry of a report. */
  report(fn: () => Promise<unknown>, tries?: number): Promise<void>;
  noNewTask(why: string): void;
  /** Stops the task with `graceMs` and hands it back with `why`; `reported` settles once the control plane knows. */
  interrupted(why: string, reported: Promise<unknown>, graceMs: number): Promise<void>;
}

export function watchForInterruptions(w: InterruptionWatch, signal: AbortSignal, h: InterruptionHooks): void {
  const tell = (body: Parameters<FlotillaClient['reportInterruption']>[1]) =>
    h.report(() => h.client.reportInterruption(h.workerId, body), 3).catch((e) =>
      h.log(`could not report the ${body.kind} to the control plane: ${(e as Error).message}`));
  h.log(`watching ${w.source === 'aws' ? 'EC2' : 'Compute Engine'} interruption notices at ${w.metadataUrl}`);
  void watchInterruptions(w, {
    log: h.log,
    onRebalance: () => {
      h.log('the cloud recommends leaving this machine (rebalance recommendation): no new task');
      h.noNewTask('rebalance recommendation');
      void tell({ kind: 'rebalance', source: w.source });
    },
    onNotice: (n) => {
      const graceMs = graceFor(w, n, Date.now());
      const why = `spot interruption: the cloud will ${n.action} this machine at ${new Date(n.at).toISOString()}`;
      h.log(`${why}; the task gets SIGTERM and ${Math.round(graceMs / 1000)} s, then goes back to the head of its queue`);
      void h.interrupted(why, tell({ kind: 'notice', source: w.source, action: n.action, at: n.at }), graceMs);
    },
  }, signal);
}
