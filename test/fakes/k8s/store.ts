// The fake API server's storage: objects by resource, one cluster-wide resourceVersion counter (as etcd's revision),
// a bounded history of changes so a watch can resume from a version, and the live watchers.
import { randomUUID } from 'node:crypto';
import { matches, parseSelector } from './labels.js';
import { alreadyExists, badRequest, expired, invalid, notFound } from './status.js';

export const RESOURCES = {
  pods: { kind: 'Pod', namespaced: true },
  nodes: { kind: 'Node', namespaced: false },
  secrets: { kind: 'Secret', namespaced: true },
  configmaps: { kind: 'ConfigMap', namespaced: true },
  events: { kind: 'Event', namespaced: true },
} as const;
export type Resource = keyof typeof RESOURCES;

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent {
  type: EventType | 'ERROR';
  object: any;
}
export interface Filter {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}
interface Change {
  rv: number;
  resource: Resource;
  type: EventType;
  object: any;
}
interface Watcher {
  resource: Resource;
  test: (obj: any) => boolean;
  send: (e: WatchEvent) => void;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class Store {
  rv = 0;
  private objects = new Map<string, any>();
  private history: Change[] = [];
  private compactedAt = 0;
  private watchers = new Set<Watcher>();
  private seq = new Map<string, number>();

  constructor(private historyLimit = 1000) {}

  get(resource: Resource, ns: string | undefined, name: string): any {
    const obj = this.objects.get(key(resource, ns, name));
    if (!obj) throw notFound(resource, name);
    return structuredClone(obj);
  }

  find(resource: Resource, ns: string | undefined, name: string): any | undefined {
    const obj = this.objects.get(key(resource, ns, name));
    return obj && structuredClone(obj);
  }

  list(resource: Resource, filter: Filter = {}): any[] {
    const test = filterTest(filter);
    const out: any[] = [];
    for (const [k, obj] of this.objects) if (k.startsWith(`${resource}/`) && test(obj)) out.push(structuredClone(obj));
    return out;
  }

  create(resource: Resource, ns: string | undefined, input: any): any {
    const { kind, namespaced } = RESOURCES[resource];
    const obj = structuredClone(input ?? {});
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomUUID().slice(0, 5);
    if (!meta.name || meta.name.length > 253 || !NAME.test(meta.name))
      throw invalid(kind, meta.name ?? '', [
        { field: 'metadata.name', message: `Invalid value: "${meta.name ?? ''}": a lowercase RFC 1123 subdomain` },
      ]);
    if (namespaced) {
      if (meta.namespace && meta.namespace !== ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = ns;
    }
    if (this.objects.has(key(resource, ns, meta.name))) throw alreadyExists(resource, meta.name);
    Object.assign(obj, { apiVersion: 'v1', kind });
    Object.assign(meta, { uid: randomUUID(), creationTimestamp: nowIso(), generation: 1 });
    this.seq.set(meta.uid, this.rv + 1);
    return this.commit(resource, 'ADDED', obj);
  }

  /** Applies `mutate` to a copy; a change bumps resourceVersion and tells the watchers, no change is a no-op. */
  update(resource: Resource, ns: string | undefined, name: string, mutate: (obj: any) => void): any {
    const before = this.get(resource, ns, name);
    const obj = structuredClone(before);
    mutate(obj);
    if (JSON.stringify(obj) === JSON.stringify(before)) return before;
    return this.commit(resource, 'MODIFIED', obj);
  }

  remove(resource: Resource, ns: string | undefined, name: string): any {
    const obj = this.get(resource, ns, name);
    this.objects.delete(key(resource, ns, name));
    const gone = this.commit(resource, 'DELETED', obj);
    this.collectDependents(obj.metadata.uid);
    return gone;
  }

  /**
   * Kubernetes' garbage collector: an object whose metadata.ownerReferences names a deleted owner's uid is deleted
   * too (background propagation, the default; here at once rather than a moment later).
   */
  private collectDependents(uid: string): void {
    for (const [k, obj] of [...this.objects]) {
      if (!obj.metadata.ownerReferences?.some((r: { uid?: string }) => r.uid === uid)) continue;
      const resource = k.slice(0, k.indexOf('/')) as Resource;
      if (this.objects.has(k)) this.remove(resource, obj.metadata.namespace, obj.metadata.name);
    }
  }

  /** Creation order (timestamps have one-second precision, so ties need this). */
  createdOrder = (obj: any): number => this.seq.get(obj.metadata.uid) ?? 0;

  /** Subscribes; replays what happened after `since` (or every current object as ADDED when there is no version). */
  watch(resource: Resource, filter: Filter, since: string | undefined, send: (e: WatchEvent) => void): () => void {
    const test = filterTest(filter);
    if (since === undefined || since === '' || since === '0') {
      for (const obj of this.list(resource, filter)) send({ type: 'ADDED', object: obj });
    } else {
      const from = Number(since);
      if (!Number.isInteger(from)) throw badRequest(`invalid resource version "${since}"`);
      if (from < this.compactedAt) throw expired(since, this.rv);
      for (const c of this.history)
        if (c.rv > from && c.resource === resource && test(c.object))
          send({ type: c.type, object: structuredClone(c.object) });
    }
    const w: Watcher = { resource, test, send };
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  /** Forgets all history, as etcd compaction does: any watch from an older version then gets 410 Expired. */
  compact(): void {
    this.history = [];
    this.compactedAt = this.rv;
  }

  private commit(resource: Resource, type: EventType, obj: any): any {
    obj.metadata.resourceVersion = String(++this.rv);
    if (type !== 'DELETED') this.objects.set(key(resource, obj.metadata.namespace, obj.metadata.name), obj);
    this.history.push({ rv: this.rv, resource, type, object: structuredClone(obj) });
    while (this.history.length > this.historyLimit) this.compactedAt = this.history.shift()!.rv;
    for (const w of this.watchers)
      if (w.resource === resource && w.test(obj)) w.send({ type, object: structuredClone(obj) });
    return structuredClone(obj);
  }
}

function key(resource: Resource, ns: string | undefined, name: string): string {
  return RESOURCES[resource].namespaced ? `${resource}/${ns}/${name}` : `${resource}//${name}`;
}

const FIELDS: Record<string, (o: any) => string | undefined> = {
  'metadata.name': (o) => o.metadata?.name,
  'metadata.namespace': (o) => o.metadata?.namespace,
  'status.phase': (o) => o.status?.phase,
  'spec.nodeName': (o) => o.spec?.nodeName ?? '',
};

function filterTest(filter: Filter): (obj: any) => boolean {
  const labels = parseSelector(filter.labelSelector);
  const fields = (filter.fieldSelector ? filter.fieldSelector.split(',') : []).map((f) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(f.trim());
    if (!m || !FIELDS[m[1]]) throw badRequest(`field label not supported: ${f}`);
    return { get: FIELDS[m[1]], neg: m[2] === '!=', value: m[3] };
  });
  return (obj) =>
    (filter.namespace === undefined || obj.metadata?.namespace === filter.namespace) &&
    matches(labels, obj.metadata?.labels) &&
    fields.every((f) => (f.get(obj) === f.value) !== f.neg);
}
