// A tiny kube-scheduler: filters nodes in the real plugin order (taints, node affinity/selector, resources) and
// writes the same Unschedulable message the real one does when no node fits.
import { termMatches } from './labels.js';
import { parseQuantity, podRequests, type Resources } from './quantity.js';

export interface NodeSpec {
  name: string;
  cpu?: string | number;
  memory?: string;
  gpu?: number;
  pods?: number;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule' }[];
}

export function nodeObject(spec: NodeSpec): any {
  const capacity: Record<string, string> = {
    cpu: String(spec.cpu ?? '4'),
    memory: spec.memory ?? '16Gi',
    pods: String(spec.pods ?? 110),
  };
  if (spec.gpu) capacity['nvidia.com/gpu'] = String(spec.gpu);
  return {
    metadata: { name: spec.name, labels: { 'kubernetes.io/hostname': spec.name, ...spec.labels } },
    spec: spec.taints?.length ? { taints: spec.taints } : {},
    status: {
      capacity,
      allocatable: { ...capacity },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    },
  };
}

export const isTerminal = (pod: any) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Requests of the live pods bound to each node. */
export function usage(pods: any[]): Map<string, Resources> {
  const used = new Map<string, Resources>();
  for (const p of pods) {
    if (!p.spec?.nodeName || isTerminal(p)) continue;
    const u = used.get(p.spec.nodeName) ?? { pods: 0 };
    for (const [k, v] of Object.entries(podRequests(p))) u[k] = (u[k] ?? 0) + v;
    u.pods += 1;
    used.set(p.spec.nodeName, u);
  }
  return used;
}

const tolerates = (tol: any, taint: any) =>
  (!tol.effect || tol.effect === taint.effect) &&
  (tol.operator === 'Exists' ? !tol.key || tol.key === taint.key : tol.key === taint.key && (tol.value ?? '') === (taint.value ?? ''));

/** Why the pod cannot go on this node; empty when it fits. */
export function misfits(pod: any, node: any, used: Resources): string[] {
  const untolerated = (node.spec?.taints ?? []).find(
    (t: any) => t.effect !== 'PreferNoSchedule' && !(pod.spec.tolerations ?? []).some((tol: any) => tolerates(tol, t)),
  );
  if (untolerated) return [`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`];
  const labels = node.metadata.labels ?? {};
  const selector = Object.entries(pod.spec.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
  const terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!selector || (terms?.length && !terms.some((t: any) => termMatches(t, labels))))
    return ["node(s) didn't match Pod's node affinity/selector"];
  const want: Resources = { ...podRequests(pod), pods: 1 };
  const reasons: string[] = [];
  for (const [res, amount] of Object.entries(want)) {
    if (amount <= 0) continue;
    const free = parseQuantity(node.status?.allocatable?.[res] ?? 0) - (used[res] ?? 0);
    if (amount > free + 1e-9) reasons.push(res === 'pods' ? 'Too many pods' : `Insufficient ${res}`);
  }
  return reasons;
}

/** "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient nvidia.com/gpu." as the scheduler words it. */
export function unschedulableMessage(nodeCount: number, reasons: string[][]): string {
  if (nodeCount === 0) return 'no nodes available to schedule pods';
  const counts = new Map<string, number>();
  for (const list of reasons) for (const r of list) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${nodeCount} nodes are available: ${parts.join(', ')}.`;
}

/** Orders pods the way the scheduling queue pops them: higher priority first, then first created. */
export function queueOrder(created: (pod: any) => number) {
  return (a: any, b: any) => (b.spec.priority ?? 0) - (a.spec.priority ?? 0) || created(a) - created(b);
}
