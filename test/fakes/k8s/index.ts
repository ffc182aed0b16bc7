// An in-repo fake Kubernetes API server with the semantics the Flotilla glue relies on, for the real
// @kubernetes/client-node: pods with phases and conditions, a tiny scheduler over fake nodes, graceful deletion,
// eviction, logs, resourceVersion and watches. Tests drive the cluster side through the plain methods below.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { handler, type PodApi } from './http.js';
import * as kubelet from './kubelet.js';
import { isTerminal, misfits, nodeObject, queueOrder, unschedulableMessage, usage, type NodeSpec } from './scheduler.js';
import { badRequest, invalid, status } from './status.js';
import { nowIso, Store } from './store.js';

export type { NodeSpec } from './scheduler.js';
export type { Termination } from './kubelet.js';

export interface FakeOptions {
  nodes?: NodeSpec[];
  /** When set, requests must carry `Authorization: Bearer <token>` or get 401. */
  token?: string;
  /** How many changes the watch history keeps before older versions answer 410 Expired. */
  historyLimit?: number;
  /** Port to listen on (default: a free one). */
  port?: number;
}

/** "ns/name", or a bare pod name when it is unique across namespaces. */
export type PodRef = string;

export class FakeKubernetes implements PodApi {
  readonly store: Store;
  readonly token?: string;
  /** Every request the fake answered, in order: lets a test assert what the glue called. */
  readonly requests: { method: string; path: string }[] = [];
  url = '';
  private server: Server;
  private streams = new Set<ServerResponse>();
  private logs = new Map<string, string>();
  private pass: Promise<void> | undefined;
  private timers = new Set<NodeJS.Immediate>();

  private constructor(opts: FakeOptions) {
    this.store = new Store(opts.historyLimit);
    this.token = opts.token;
    for (const n of opts.nodes ?? []) this.addNode(n);
    const handle = handler(this);
    this.server = createServer((req, res) => {
      this.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/' });
      handle(req, res);
    });
  }

  /** Starts on loopback, on `opts.port` or a random free port. */
  static async start(opts: FakeOptions = {}): Promise<FakeKubernetes> {
    const fake = new FakeKubernetes(opts);
    await new Promise<void>((resolve, reject) => fake.server.once('error', reject).listen(opts.port ?? 0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** A KubeConfig for the real client pointing at this fake. */
  kubeConfig(namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: this.token ?? 'fake-token' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u', namespace }],
      currentContext: 'c',
    });
    return kc;
  }

  /** Ends every watch stream and stops listening. */
  async close(): Promise<void> {
    for (const t of this.timers) clearImmediate(t);
    for (const s of this.streams) s.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  openStream(res: ServerResponse): void {
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
  }

  /** Resolves once the scheduler and pending terminations have run (the fake's own asynchronous work). */
  async settled(): Promise<void> {
    while (this.pass || this.timers.size) {
      await this.pass;
      await new Promise((r) => setImmediate(r));
    }
  }

  // ---- pod semantics behind the HTTP API ----

  createPod(ns: string, body: any): any {
    const containers = body?.spec?.containers;
    const name = body?.metadata?.name ?? '';
    if (!Array.isArray(containers) || containers.length === 0)
      throw invalid('Pod', name, [{ field: 'spec.containers', message: 'Required value' }]);
    containers.forEach((c: any, i: number) => {
      if (!c?.name) throw invalid('Pod', name, [{ field: `spec.containers[${i}].name`, message: 'Required value' }]);
      if (!c?.image) throw invalid('Pod', name, [{ field: `spec.containers[${i}].image`, message: 'Required value' }]);
    });
    const pod = structuredClone(body);
    kubelet.newPodStatus(pod);
    const created = this.store.create('pods', ns, pod);
    this.kick();
    return created;
  }

  /** Graceful deletion: a pod on a node first gets deletionTimestamp (MODIFIED), then goes (DELETED). */
  deletePod(ns: string, name: string, gracePeriodSeconds?: number): any {
    const pod = this.store.get('pods', ns, name);
    const grace = gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    if (!pod.spec.nodeName || isTerminal(pod) || grace === 0) return this.removePod(ns, name);
    if (pod.metadata.deletionTimestamp) return pod;
    const marked = this.store.update('pods', ns, name, (p) => {
      p.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      p.metadata.deletionGracePeriodSeconds = grace;
    });
    const t = setImmediate(() => {
      this.timers.delete(t);
      if (this.store.find('pods', ns, name)) this.removePod(ns, name);
    });
    this.timers.add(t);
    return marked;
  }

  private removePod(ns: string, name: string): any {
    const gone = this.store.remove('pods', ns, name);
    this.logs.delete(`${ns}/${name}`);
    this.kick();
    return gone;
  }

  /** POST .../pods/NAME/eviction: marks the disruption, then deletes the pod gracefully (no PodDisruptionBudgets). */
  evictPod(ns: string, name: string, body: any): object {
    this.store.update('pods', ns, name, (p) => kubelet.markDisruption(p, 'EvictionByEvictionAPI', 'Eviction API: evicting'));
    this.deletePod(ns, name, body?.deleteOptions?.gracePeriodSeconds);
    return status('Success', 201, undefined, undefined);
  }

  readLog(ns: string, name: string, tailLines?: number): string {
    const pod = this.store.get('pods', ns, name);
    const waiting = pod.status.containerStatuses?.[0]?.state?.waiting?.reason ?? 'ContainerCreating';
    if (pod.status.phase === 'Pending')
      throw badRequest(`container "${pod.spec.containers[0].name}" in pod "${name}" is waiting to start: ${waiting}`);
    const text = this.logs.get(`${ns}/${name}`) ?? '';
    if (tailLines === undefined) return text;
    const lines = text.split('\n');
    const last = lines.at(-1) === '' ? lines.slice(0, -1) : lines;
    return last.slice(-tailLines).map((l) => l + '\n').join('');
  }

  // ---- test controls: what the cluster (nodes, kubelet, scheduler) does on its own ----

  addNode(spec: NodeSpec): any {
    const node = this.store.create('nodes', undefined, nodeObject(spec));
    this.kick();
    return node;
  }

  /** The node goes away; pods bound to it are deleted at once, as the pod garbage collector does. */
  removeNode(name: string): void {
    for (const p of this.store.list('pods', { fieldSelector: `spec.nodeName=${name}` }))
      this.removePod(p.metadata.namespace, p.metadata.name);
    this.store.remove('nodes', undefined, name);
  }

  pod(ref: PodRef): any {
    const [ns, name] = this.resolve(ref);
    return this.store.get('pods', ns, name);
  }

  /** Running, or Succeeded/Failed with the first container's exit code and reason (e.g. OOMKilled). */
  setPodPhase(ref: PodRef, phase: 'Running' | 'Succeeded' | 'Failed', t: kubelet.Termination = {}): any {
    return this.onNode(ref, (p) => (phase === 'Running' ? kubelet.run(p) : kubelet.terminate(p, phase, t)));
  }

  /** The kubelet cannot pull the image: the container waits with ErrImagePull or ImagePullBackOff. */
  imagePullBackOff(ref: PodRef, reason: 'ErrImagePull' | 'ImagePullBackOff' = 'ImagePullBackOff'): any {
    const pod = this.onNode(ref, (p) => kubelet.imagePullFailure(p, reason));
    this.event(pod, 'Warning', reason === 'ErrImagePull' ? 'Failed' : 'BackOff', pod.status.containerStatuses[0].state.waiting.message);
    return pod;
  }

  /** Node-pressure eviction by the kubelet: phase Failed, reason Evicted; the pod object stays. */
  evict(ref: PodRef, message = 'The node was low on resource: memory. '): any {
    const pod = this.onNode(ref, (p) => kubelet.evictByKubelet(p, message));
    this.event(pod, 'Warning', 'Evicted', message);
    return pod;
  }

  /** The scheduler preempts the pod for a higher-priority one: DisruptionTarget condition, then graceful deletion. */
  preempt(ref: PodRef): any {
    const [ns, name] = this.resolve(ref);
    const msg = 'default-scheduler: preempting to accommodate a higher priority pod';
    const pod = this.store.update('pods', ns, name, (p) => kubelet.markDisruption(p, 'PreemptionByScheduler', msg));
    this.event(pod, 'Normal', 'Preempted', `Preempted by a higher priority pod on node ${pod.spec.nodeName}`);
    return this.deletePod(ns, name);
  }

  appendLog(ref: PodRef, text: string): void {
    const key = this.resolve(ref).join('/');
    this.logs.set(key, (this.logs.get(key) ?? '') + text);
  }

  /** Ends every open watch stream, as an API server restart or a load balancer timeout does. */
  dropWatches(): void {
    for (const s of this.streams) s.end();
  }

  /** Forgets the watch history (as etcd compaction): a watch from an older resourceVersion then gets 410. */
  compact(): void {
    this.store.compact();
  }

  private onNode(ref: PodRef, mutate: (pod: any) => void): any {
    const [ns, name] = this.resolve(ref);
    const pod = this.store.get('pods', ns, name);
    if (!pod.spec.nodeName) throw new Error(`pod ${ns}/${name} is not scheduled on a node yet`);
    const next = this.store.update('pods', ns, name, mutate);
    if (isTerminal(next)) this.kick();
    return next;
  }

  private resolve(ref: PodRef): [string, string] {
    if (ref.includes('/')) return ref.split('/', 2) as [string, string];
    const found = this.store.list('pods', { fieldSelector: `metadata.name=${ref}` });
    if (found.length !== 1) throw new Error(`pod "${ref}": ${found.length} pods have that name; say "namespace/name"`);
    return [found[0].metadata.namespace, ref];
  }

  private event(pod: any, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const ts = nowIso();
    this.store.create('events', pod.metadata.namespace, {
      metadata: { generateName: `${pod.metadata.name}.` },
      involvedObject: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
      type,
      reason,
      message,
      source: { component: reason === 'Scheduled' || reason === 'FailedScheduling' || reason === 'Preempted' ? 'default-scheduler' : 'kubelet' },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    });
  }

  /** Runs a scheduling pass soon (not inside the request), as the real scheduler reacts after the write. */
  private kick(): void {
    this.pass ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.pass = undefined;
        if (this.server.listening || !this.url) this.schedule();
        resolve();
      }),
    );
  }

  private schedule(): void {
    const nodes = this.store.list('nodes');
    const pods = this.store.list('pods');
    const used = usage(pods);
    const waiting = pods
      .filter((p) => !p.spec.nodeName && p.status.phase === 'Pending' && !p.metadata.deletionTimestamp)
      .sort(queueOrder(this.store.createdOrder));
    for (const pod of waiting) {
      const reasons = nodes.map((n) => misfits(pod, n, used.get(n.metadata.name) ?? {}));
      const i = reasons.findIndex((r) => r.length === 0);
      const { namespace: ns, name } = pod.metadata;
      if (i < 0) {
        const message = unschedulableMessage(nodes.length, reasons);
        const before = pod.status.conditions?.find((c: any) => c.type === 'PodScheduled')?.message;
        this.store.update('pods', ns, name, (p) => kubelet.markUnschedulable(p, message));
        if (before !== message) this.event(pod, 'Warning', 'FailedScheduling', message);
        continue;
      }
      const node = nodes[i].metadata.name;
      const bound = this.store.update('pods', ns, name, (p) => kubelet.bind(p, node));
      this.event(bound, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${node}`);
      used.clear();
      for (const [k, v] of usage(this.store.list('pods'))) used.set(k, v);
    }
  }
}

