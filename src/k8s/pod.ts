// Renders one task's pod from its queue's template. Pure: the same task, attempt and options give the same pod.
import { createHash } from 'node:crypto';
import type { V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { PodOverrides, PodTemplate } from './config.js';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  taskId: 'flotilla.io/task-id',
  queue: 'flotilla.io/queue',
  attempt: 'flotilla.io/attempt',
} as const;
/** Selects every pod and Secret the glue made (the glue adopts its pods by this after a restart). */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=flotilla`;
export const TOKEN_KEY = 'token';
const TASK_CONTAINER = 'task';

export interface PodTask {
  id: string;
  queue: string;
  spec: { image?: string };
}

export interface RenderOptions {
  namespace: string;
  /** The control plane URL the pod's agent reports to. */
  serverUrl: string;
  defaultImage: string;
  /** Which attempt this pod runs (part of the pod name: a retried task gets a new pod). */
  attempt: number;
  agentArgs?: string[];
  overrides?: PodOverrides;
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** A DNS-1123 label from the task id and attempt, e.g. `flotilla-3f2a...-1`; long or odd ids get a hash suffix. */
export function podName(taskId: string, attempt: number): string {
  const slug = taskId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const tail = `-${attempt}`;
  const exact = slug === taskId && `flotilla-${slug}${tail}`.length <= 63;
  const base = exact ? slug : `${slug.slice(0, 63 - 'flotilla-'.length - tail.length - 9).replace(/-+$/, '')}-${hash(taskId)}`;
  return `flotilla-${base.replace(/^-/, '')}${tail}`;
}

/** The Secret holding this pod's short-lived agent token. */
export const tokenSecretName = (taskId: string, attempt: number) => `${podName(taskId, attempt)}-token`;

/** A valid label value (63 chars, alphanumeric ends); anything altered gets a hash so values stay distinct. */
export function labelValue(v: string): string {
  if (/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/.test(v)) return v;
  const clean = v.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 54).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return clean ? `${clean}-${hash(v)}` : hash(v);
}

export function taskLabels(task: PodTask, attempt: number): Record<string, string> {
  return {
    [LABELS.managedBy]: 'flotilla',
    [LABELS.taskId]: labelValue(task.id),
    [LABELS.queue]: labelValue(task.queue),
    [LABELS.attempt]: String(attempt),
  };
}

export function renderPod(template: PodTemplate, task: PodTask, opts: RenderOptions): V1Pod {
  const tpl = structuredClone(template) as { metadata?: any; spec: any };
  const spec = tpl.spec;
  const o = opts.overrides ?? {};
  const containers: V1Container[] = spec.containers?.length ? spec.containers : [{ name: TASK_CONTAINER }];
  const i = Math.max(0, containers.findIndex((c) => c.name === TASK_CONTAINER));
  containers[i] = taskContainer(containers[i], task, opts);
  const name = podName(task.id, opts.attempt);
  return stripUndefined({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.namespace,
      labels: { ...tpl.metadata?.labels, ...taskLabels(task, opts.attempt) },
      annotations: { ...tpl.metadata?.annotations, [LABELS.taskId]: task.id, [LABELS.queue]: task.queue },
    },
    spec: {
      ...spec,
      containers,
      // A restarted container would run the task again; the glue decides about retries, not the kubelet.
      restartPolicy: 'Never',
      // Task code has no business with the Kubernetes API unless the template says so.
      automountServiceAccountToken: spec.automountServiceAccountToken ?? false,
      nodeSelector: merged(spec.nodeSelector, o.nodeSelector),
      tolerations: unique([...(spec.tolerations ?? []), ...(o.tolerations ?? [])]),
      affinity: o.affinity ?? spec.affinity,
      priorityClassName: o.priorityClassName ?? spec.priorityClassName,
    },
  });
}

function taskContainer(c: V1Container, task: PodTask, opts: RenderOptions): V1Container {
  const o = opts.overrides ?? {};
  const limits = { ...c.resources?.limits, ...strings(o.resources?.limits) };
  if (o.gpu) limits['nvidia.com/gpu'] = String(o.gpu);
  const requests = { ...c.resources?.requests, ...strings(o.resources?.requests) };
  const ours = new Set(['FLOTILLA_TOKEN', 'FLOTILLA_SERVER', 'FLOTILLA_TASK_ID']);
  return {
    ...c,
    image: task.spec.image ?? c.image ?? opts.defaultImage,
    // --queue: the agent registers as a worker of the task's queue (registration needs one).
    command: ['flotilla', 'agent', '--server', opts.serverUrl, '--queue', task.queue, '--task-id', task.id, '--once', ...(opts.agentArgs ?? [])],
    args: undefined,
    env: [
      ...(c.env ?? []).filter((e) => !ours.has(e.name)),
      { name: 'FLOTILLA_SERVER', value: opts.serverUrl },
      { name: 'FLOTILLA_TASK_ID', value: task.id },
      // The token comes from this task's own Secret, never the command line and never the admin token.
      { name: 'FLOTILLA_TOKEN', valueFrom: { secretKeyRef: { name: tokenSecretName(task.id, opts.attempt), key: TOKEN_KEY } } },
    ],
    resources: Object.keys(limits).length || Object.keys(requests).length ? dropEmpty({ limits, requests }) : c.resources,
  };
}

/** The Secret the glue creates before the pod: the agent token scoped to this one task. */
export function renderTokenSecret(task: PodTask, token: string, opts: Pick<RenderOptions, 'namespace' | 'attempt'>): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: tokenSecretName(task.id, opts.attempt), namespace: opts.namespace, labels: taskLabels(task, opts.attempt) },
    stringData: { [TOKEN_KEY]: token },
  };
}

const stripUndefined = <T>(o: T): T => JSON.parse(JSON.stringify(o));

const strings = (r: Record<string, string | number> | undefined) =>
  Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, String(v)]));

function merged(a?: Record<string, string>, b?: Record<string, string>) {
  return a || b ? { ...a, ...b } : undefined;
}

function unique<T>(list: T[]): T[] | undefined {
  const out = [...new Map(list.map((x) => [JSON.stringify(x), x])).values()];
  return out.length ? out : undefined;
}

function dropEmpty<T extends Record<string, Record<string, string>>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => Object.keys(v).length)) as Partial<T>;
}
