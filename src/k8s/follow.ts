// Follows the glue's pods in one namespace: list, then watch from the list's resourceVersion; a dropped watch resumes
// from the last version seen, and a 410 Expired (history compacted) lists again and reports what changed meanwhile.
import { Watch, type V1Pod } from '@kubernetes/client-node';
import type { Kube } from './kube.js';
import { Backoff } from '../domain/backoff.js';
import { BACKOFF, DEFAULT_TIMINGS } from '../domain/timings.js';

export type PodEvent = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface FollowOptions {
  kube: Kube;
  namespace: string;
  labelSelector: string;
  onEvent: (type: PodEvent, pod: V1Pod) => void;
  log: (msg: string) => void;
  /** The server ends each watch after this long (it is then resumed); keeps half-dead connections from lingering. */
  watchTimeoutS?: number;
}

export class PodFollower {
  /** The pods as last seen, by name (to tell what changed when listing again). */
  private readonly pods = new Map<string, V1Pod>();
  private rv = '';
  private stopped = false;
  private request?: AbortController;
  private retryTimer?: NodeJS.Timeout;
  private readonly backoff = new Backoff(BACKOFF.podWatch);
  private syncedOnce!: () => void;
  /** Resolves after the first complete list: before that the glue must not create pods (it would not see its own). */
  readonly synced = new Promise<void>((r) => (this.syncedOnce = r));

  constructor(private readonly o: FollowOptions) {}

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.request?.abort();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const list = await this.o.kube.listPods(this.o.namespace, this.o.labelSelector);
      if (this.stopped) return;
      this.replace(list.items);
      this.rv = list.metadata?.resourceVersion ?? '';
      this.backoff.reset();
      this.syncedOnce();
      await this.watch();
    } catch (e) {
      this.retry(`listing pods in ${this.o.namespace} failed: ${(e as Error).message}`, () => this.relist());
    }
  }

  /** Installs a fresh list, reporting the differences as events (a pod gone meanwhile is DELETED). */
  private replace(items: V1Pod[]): void {
    const seen = new Set<string>();
    for (const pod of items) {
      const name = pod.metadata!.name!;
      seen.add(name);
      const had = this.pods.get(name);
      this.pods.set(name, pod);
      if (had?.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.o.onEvent(had ? 'MODIFIED' : 'ADDED', pod);
    }
    for (const [name, pod] of this.pods) {
      if (seen.has(name)) continue;
      this.pods.delete(name);
      this.o.onEvent('DELETED', pod);
    }
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    let expired = false;
    const query = { resourceVersion: this.rv, labelSelector: this.o.labelSelector, timeoutSeconds: this.o.watchTimeoutS ?? DEFAULT_TIMINGS.podWatchTimeoutS, allowWatchBookmarks: true };
    this.request = await new Watch(this.o.kube.kc).watch(`/api/v1/namespaces/${this.o.namespace}/pods`, query,
      (type: string, obj: any) => {
        if (type === 'ERROR') {
          expired ||= obj?.code === 410;
          return;
        }
        if (obj?.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
        if (type === 'BOOKMARK') return;
        this.apply(type as PodEvent, obj as V1Pod);
      },
      (err: unknown) => {
        if (this.stopped) return;
        if (expired || (err as { statusCode?: number })?.statusCode === 410) return void this.relist();
        if (err) return this.retry(`watching pods in ${this.o.namespace} ended: ${(err as Error).message ?? err}`, () => this.watch());
        this.backoff.reset();
        void this.watch();
      });
  }

  private apply(type: PodEvent, pod: V1Pod): void {
    const name = pod.metadata!.name!;
    if (type === 'DELETED') this.pods.delete(name);
    else this.pods.set(name, pod);
    this.o.onEvent(type, pod);
  }

  /** Backs off 0.2 s, 0.4 s ... up to 5 s between failed attempts (BACKOFF.podWatch). */
  private retry(msg: string, again: () => Promise<void>): void {
    if (this.stopped) return;
    this.o.log(msg);
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => void again().catch((e) => this.o.log(String(e))), delay);
  }
}
