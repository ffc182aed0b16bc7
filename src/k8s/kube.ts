// The glue's side of the Kubernetes API: the official client, object-style calls, and the few calls it makes.
import { readFileSync } from 'node:fs';
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod, type V1PodList, type V1Secret } from '@kubernetes/client-node';

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** A kubeconfig file when given, else the in-cluster service account, else KUBECONFIG or ~/.kube/config. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** The namespace pods go to when the config names none: the in-cluster one, else the context's, else "default". */
export function defaultNamespace(kc: KubeConfig, readFile = (p: string) => readFileSync(p, 'utf8')): string {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  if (ctx?.namespace) return ctx.namespace;
  try {
    return readFile(SA_NAMESPACE).trim() || 'default';
  } catch {
    return 'default';
  }
}

/** The HTTP status of a Kubernetes API error, or undefined for anything else (network, bugs). */
export const apiCode = (e: unknown): number | undefined => (e instanceof ApiException ? e.code : undefined);

/** The Status message of a Kubernetes API error, e.g. 'pods "x" is forbidden: ...'. */
export function apiMessage(e: unknown): string {
  if (!(e instanceof ApiException)) return (e as Error)?.message ?? String(e);
  try {
    return JSON.parse(String(e.body)).message ?? `HTTP ${e.code}`;
  } catch {
    return `HTTP ${e.code}: ${String(e.body).slice(0, 200)}`;
  }
}

/** Ignores 404: deleting what is already gone is success. */
async function gone<T>(p: Promise<T>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (apiCode(e) !== 404) throw e;
  }
}

export class Kube {
  readonly core: CoreV1Api;
  constructor(readonly kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  createPod = (namespace: string, body: V1Pod) => this.core.createNamespacedPod({ namespace, body });
  createSecret = (namespace: string, body: V1Secret) => this.core.createNamespacedSecret({ namespace, body });
  listPods = (namespace: string, labelSelector: string): Promise<V1PodList> => this.core.listNamespacedPod({ namespace, labelSelector });
  deletePod = (namespace: string, name: string, gracePeriodSeconds?: number) =>
    gone(this.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds }));
  deleteSecret = (namespace: string, name: string) => gone(this.core.deleteNamespacedSecret({ namespace, name }));
  /** Makes the pod the Secret's owner: Kubernetes' garbage collector then deletes the Secret with the pod, whoever deletes it. */
  ownSecret = (namespace: string, name: string, pod: V1Pod) => this.core.patchNamespacedSecret(
    { namespace, name, body: { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! }] } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}
