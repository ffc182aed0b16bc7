// The Kubernetes glue against a real control plane and the fake API server, for tests: start it with a test clock,
// and play the part of a pod's agent (the fake runs no containers) with the token from the pod's own Secret.
import { Buffer } from 'node:buffer';
import { FlotillaClient, type Dequeued } from '../../src/client/index.js';
import { parseGlueConfig, resolveTemplates, type GlueConfigInput } from '../../src/k8s/config.js';
import { Glue } from '../../src/k8s/glue.js';
import { Kube } from '../../src/k8s/kube.js';
import type { FakeKubernetes } from '../fakes/k8s/index.js';
import { waitFor } from './wait.js';

export const NS = 'jobs';

export interface TestGlue {
  glue: Glue;
  clock: { now: number };
  /** Moves the glue's clock and runs a pass. */
  advance(ms: number): Promise<void>;
}

/** `kube`: the glue's Kubernetes calls (a test may wrap one to stop the glue at a chosen point). */
export async function startGlue(fake: FakeKubernetes, admin: FlotillaClient, cfg: Partial<GlueConfigInput> & Pick<GlueConfigInput, 'queues'>,
  clock = { now: Date.now() }, kube = new Kube(fake.kubeConfig(NS))): Promise<TestGlue> {
  const config = await resolveTemplates(parseGlueConfig({ server: admin.server, defaultImage: 'flotilla:test', maxPods: 10, ...cfg }), '.');
  const glue = new Glue({ config, kube, client: admin, namespace: NS, clock: { now: () => clock.now },
    log: process.env.GLUE_LOG ? (m) => process.stderr.write(`[glue] ${m}\n`) : () => undefined });
  await glue.start();
  return {
    glue, clock,
    advance: async (ms) => {
      clock.now += ms;
      await glue.runPass();
    },
  };
}

/** Task pods in creation order (the fake's resourceVersion order). */
export function taskPods(fake: FakeKubernetes): any[] {
  return fake.store.list('pods', { namespace: NS, labelSelector: 'app.kubernetes.io/managed-by=flotilla' })
    .sort((a, b) => fake.store.createdOrder(a) - fake.store.createdOrder(b));
}

export const taskOf = (pod: any): string => pod.metadata.annotations['flotilla.io/task-id'];

export async function podOf(fake: FakeKubernetes, taskId: string, attempt?: number): Promise<any> {
  return waitFor(`a pod for task ${taskId}${attempt ? ` (attempt ${attempt})` : ''}`, () =>
    taskPods(fake).find((p) => taskOf(p) === taskId && (!attempt || p.metadata.labels['flotilla.io/attempt'] === String(attempt))));
}

/** The agent token the glue put in the pod's Secret (the fake keeps stringData as written; a real server has data). */
export function podToken(fake: FakeKubernetes, pod: any): string {
  const env = pod.spec.containers[0].env.find((e: any) => e.name === 'FLOTILLA_TOKEN');
  const secret = fake.store.get('secrets', NS, env.valueFrom.secretKeyRef.name);
  return secret.stringData?.token ?? Buffer.from(secret.data.token, 'base64').toString('utf8');
}

/** What the pod's agent does when its container starts: register, take its one task. The pod goes Running. */
export async function podAgentStarts(fake: FakeKubernetes, server: string, pod: any): Promise<{ client: FlotillaClient; d: Dequeued }> {
  const client = new FlotillaClient(server, podToken(fake, pod));
  const workerId = `pod-${pod.metadata.name}`;
  await waitFor('the pod bound to a node', () => fake.pod(`${NS}/${pod.metadata.name}`).spec.nodeName);
  fake.setPodPhase(`${NS}/${pod.metadata.name}`, 'Running');
  await client.register({ id: workerId, queues: [pod.metadata.annotations['flotilla.io/queue']] });
  const d = await client.dequeue(workerId, { taskId: taskOf(pod), waitMs: 0 });
  if (!d) throw new Error(`the agent of pod ${pod.metadata.name} got no task`);
  return { client, d };
}

/** The whole life of a pod whose task succeeds: agent starts, reports completion, container exits 0. */
export async function podRunsTask(fake: FakeKubernetes, server: string, pod: any): Promise<void> {
  const { client, d } = await podAgentStarts(fake, server, pod);
  await client.finish(d.task.id, d.lease.id, { status: 'completed', exitCode: 0 });
  fake.setPodPhase(`${NS}/${pod.metadata.name}`, 'Succeeded');
}
