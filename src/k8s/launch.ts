// Creating one task's pod: a task-scoped agent token in a Secret, then the pod that reads it, then the pod made the
// Secret's owner.
import type { V1Pod } from '@kubernetes/client-node';
import type { FlotillaClient } from '../client/index.js';
import type { Task } from '../domain/task.js';
import type { ResolvedGlueConfig, ResolvedQueue } from './config.js';
import { apiCode, apiMessage, type Kube } from './kube.js';
import { podName, renderPod, renderTokenSecret } from './pod.js';

/** Annotation carrying the id (not the value) of the pod's agent token, so the glue can revoke it when the pod ends. */
export const TOKEN_ID_ANNOTATION = 'flotilla.io/token-id';

export interface LaunchDeps {
  cfg: ResolvedGlueConfig;
  kube: Kube;
  client: FlotillaClient;
  namespace: string;
  tokenTtlS: number;
  log?: (message: string) => void;
}

export type LaunchResult =
  | { ok: true; pod: V1Pod }
  /** Kubernetes refused this pod (bad template or image name): the task cannot run as configured. */
  | { ok: false; refused: true; message: string }
  /** Kubernetes could not be asked (down, forbidden, no such namespace): try again later. */
  | { ok: false; refused: false; message: string };

/** Status codes that say the pod itself is wrong, not the cluster or the glue's rights. */
const POD_REFUSED = new Set([400, 422]);

export async function launchPod(d: LaunchDeps, task: Task, q: ResolvedQueue, firstAttempt: number): Promise<LaunchResult> {
  const namespace = q.namespace ?? d.namespace;
  const { token, id: tokenId } = await d.client.k8sTaskToken(task.id, d.tokenTtlS);
  let attempt = firstAttempt;
  for (let tries = 0; ; tries++) {
    const pod = renderPod(q.podTemplate, task, {
      namespace, serverUrl: d.cfg.server, defaultImage: d.cfg.defaultImage, attempt, agentArgs: d.cfg.agentArgs, overrides: q,
    });
    pod.metadata!.annotations![TOKEN_ID_ANNOTATION] = tokenId;
    const secret = renderTokenSecret(task, token, { namespace, attempt });
    let made = false;
    try {
      await d.kube.createSecret(namespace, secret);
      made = true;
      const created = await d.kube.createPod(namespace, pod);
      // Owned by its pod, the Secret goes with it even when nobody is left to delete it: the pod deleted by someone
      // else while no glue runs. Without the right (an older Role has no patch on secrets) the glue's own deletes
      // still take it on every path the glue sees, as before.
      await d.kube.ownSecret(namespace, secret.metadata!.name!, created).catch((e) =>
        d.log?.(`could not make pod ${namespace}/${created.metadata?.name} own its token Secret (${apiMessage(e)}): the glue deletes it itself`));
      return { ok: true, pod: created };
    } catch (e) {
      if (made) await d.kube.deleteSecret(namespace, secret.metadata!.name!).catch(() => undefined);
      // That attempt's Secret or pod exists (made before a restart, not yet seen): the next attempt number is free.
      if (apiCode(e) === 409 && tries < 3) {
        attempt++;
        continue;
      }
      await d.client.revokeToken(tokenId).catch(() => undefined);
      const refused = POD_REFUSED.has(apiCode(e) ?? 0);
      return { ok: false, refused, message: `Kubernetes ${refused ? 'refused' : 'could not create'} pod ${namespace}/${podName(task.id, attempt)}: ${apiMessage(e)}` };
    }
  }
}
