// What one kill -9 soak round measures, and the pieces every kind of round shares: bursts of enqueues with
// kills at random points between them, and a watcher of the money actually running.
import { UnreachableError, type FlotillaClient } from '../../src/client/index.js';
import type { CreateTask } from '../../src/domain/task.js';
import type { Rng } from './rng.js';

export type Dialect = 'sqlite' | 'postgres';

export interface RoundFigures {
  kind: string;
  dialect: Dialect;
  kills: number;
  acked: number;
  /** Acknowledged tasks that are gone or never ended (local rounds: must complete; cloud rounds: must still exist). */
  lost: number;
  /** Tasks whose side effect (a marker line) is there twice. */
  twice: number;
  /** Agents killed after their task's side effect and before its report: the one window where a rerun is expected. */
  killedAfterEffect: number;
  /** Machines the provider lists that no live record owns once adoption had its passes. */
  orphans: number;
  /** Records (decisions) that launched more than one machine. */
  doubleLaunch: number;
  /** Highest $/h actually running (from the provider's own list) and the app's cap. */
  maxSpend: number;
  cap: number;
  seconds: number;
  /** Kills by what was killed (glue, control plane, agent, pod...). */
  killsByKind?: Record<string, number>;
  /** Kubernetes rounds: most task pods at once that had not ended, and the queue's maxPods. */
  maxPods?: number;
  podCap?: number;
  /** Kubernetes rounds: tasks that ended failed because their pod's agent was killed before it reported (by design). */
  failedByKill?: number;
  /** Kubernetes rounds: token Secrets left with no pod at the end (a glue killed between the Secret and its pod). */
  secretsLeft?: number;
  /** Kubernetes rounds: tasks that had two pods not ended at the same moment. */
  doublePods?: number;
}

/** Samples the spend of what the provider really runs, every 100 ms, until stopped. */
export function watchSpend(sample: () => Promise<number>): { stop(): Promise<number> } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        max = Math.max(max, await sample());
      } catch { /* the provider is briefly unreachable: the next sample counts */ }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { stop: async () => { running = false; await loop; return max; } };
}

/**
 * Enqueues `bursts` bursts of tasks concurrently; in each, after a random delay, runs one kill chosen by `kill`.
 * Returns the ids the API acknowledged (a create whose answer was lost to a kill is not acknowledged).
 */
export async function burstsWithKills(r: Rng, o: {
  client: () => FlotillaClient; queue: string; bursts: number; command: string; kill: () => Promise<void>;
  /** More fields of each task (e.g. maxAttempts). */
  task?: Partial<CreateTask>;
  /** Tasks per burst, drawn between these (default 4 to 10). */
  size?: [number, number];
}): Promise<string[]> {
  const acked: string[] = [];
  for (let b = 0; b < o.bursts; b++) {
    const n = r.int(...(o.size ?? [4, 10]));
    const creates = Array.from({ length: n }, (_, i) => (async () => {
      await new Promise((res) => setTimeout(res, r.int(0, 600)));
      // As a user would: retry while the control plane cannot be reached. A create whose answer was lost to a
      // kill is not acknowledged (its task may exist and run: it is not counted as lost, nor as a duplicate).
      for (const end = Date.now() + 120_000; Date.now() < end;) {
        try {
          acked.push((await o.client().createTask({ ...o.task, queue: o.queue, command: o.command, name: `b${b}-${i}` })).id);
          return;
        } catch (e) {
          if (!(e instanceof UnreachableError) || /socket|reset|closed/i.test(e.reason)) return;
          await new Promise((res) => setTimeout(res, 250));
        }
      }
    })());
    const killing = (async () => {
      await new Promise((res) => setTimeout(res, r.int(0, 900)));
      await o.kill();
    })();
    await Promise.all([...creates, killing]);
  }
  return acked;
}

/** Marker lines per task id. */
export function counts(lines: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}
