// Finished pods stay for diagnosis (kubectl logs/describe) for keepFinishedPodsS, then go with their token Secret.
import type { V1Pod } from '@kubernetes/client-node';
import { finishedAt } from './verdict.js';

export interface Kept {
  namespace: string;
  name: string;
  deleteAt: number;
}

export class FinishedPods {
  private kept = new Map<string, Kept>();

  constructor(private readonly keepMs: number) {}

  /** Starts the pod's keep time from when it ended (or from now, when the pod does not say). */
  keep(pod: V1Pod, now: number): void {
    const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    if (this.kept.has(key)) return;
    const end = Math.min(finishedAt(pod) ?? now, now);
    this.kept.set(key, { namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, deleteAt: end + this.keepMs });
  }

  forget(namespace: string, name: string): void {
    this.kept.delete(`${namespace}/${name}`);
  }

  /** Pods whose keep time is over; they stay listed until forget() (after their deletion went through). */
  due(now: number): Kept[] {
    return [...this.kept.values()].filter((k) => k.deleteAt <= now);
  }

  /** When the next keep time ends, to wake up for it. */
  next(): number | undefined {
    let min: number | undefined;
    for (const k of this.kept.values()) min = min === undefined ? k.deleteAt : Math.min(min, k.deleteAt);
    return min;
  }
}
