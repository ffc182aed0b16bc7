// The fake Kubernetes API server, driven by the real @kubernetes/client-node as the glue will drive it.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApiException, CoreV1Api, makeInformer, PatchStrategy, setHeaderOptions, Watch, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../support/wait.js';
import { FakeKubernetes } from './index.js';

const NS = 'jobs';
const pod = (name: string, extra: any = {}, labels: Record<string, string> = { app: 'flotilla' }) => ({
  metadata: { name, labels },
  spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: 'busybox', ...extra.container }], ...extra.spec },
});
const gpuPod = (name: string, spec: any = {}) =>
  pod(name, { container: { resources: { limits: { 'nvidia.com/gpu': 1 } } }, spec });

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiException, `expected ApiException, got ${e}`);
    const text = String(e.body);
    return { code: e.code, body: text.startsWith('{') ? JSON.parse(text) : text };
  }
  assert.fail('expected the call to fail');
}

describe('fake Kubernetes API server with the real client', () => {
  let fake: FakeKubernetes;
  let api: CoreV1Api;
  beforeEach(async () => {
    await fake?.close();
    fake = await FakeKubernetes.start({ nodes: [{ name: 'cpu-1' }, { name: 'cpu-2' }], token: 'secret-t' });
    api = fake.kubeConfig(NS).makeApiClient(CoreV1Api);
  });
  after(() => fake?.close());

  it('merge-patches a Secret (other patch types: 415), and deletes it with the pod that owns it', async () => {
    const p = await api.createNamespacedPod({ namespace: NS, body: pod('owner') });
    await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'owned' }, stringData: { token: 't' } } });
    await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'free' }, stringData: { token: 't' } } });
    const owner = { apiVersion: 'v1', kind: 'Pod', name: 'owner', uid: p.metadata!.uid! };
    const patched = await api.patchNamespacedSecret({ namespace: NS, name: 'owned', body: { metadata: { ownerReferences: [owner] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.deepEqual(JSON.parse(JSON.stringify(patched.metadata?.ownerReferences)), [owner]);
    assert.equal(patched.metadata?.name, 'owned');
    const json = await apiError(api.patchNamespacedSecret({ namespace: NS, name: 'free', body: [{ op: 'add', path: '/metadata/labels', value: {} }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)));
    assert.equal(json.code, 415);
    await api.deleteNamespacedPod({ namespace: NS, name: 'owner', gracePeriodSeconds: 0 });
    assert.equal((await apiError(api.readNamespacedSecret({ namespace: NS, name: 'owned' }))).code, 404, 'collected with its owner');
    assert.equal((await api.readNamespacedSecret({ namespace: NS, name: 'free' })).metadata?.name, 'free', 'a Secret nobody owns stays');
  });

  it('creates, reads, lists by label and deletes pods, with a resourceVersion on each', async () => {
    const a = await api.createNamespacedPod({ namespace: NS, body: pod('a') });
    await api.createNamespacedPod({ namespace: NS, body: pod('b', {}, { app: 'other' }) });
    assert.equal(a.status?.phase, 'Pending');
    assert.ok(Number(a.metadata?.resourceVersion) > 0);
    const list = await api.listNamespacedPod({ namespace: NS, labelSelector: 'app=flotilla' });
    assert.deepEqual(list.items.map((p) => p.metadata?.name), ['a']);
    assert.ok(Number(list.metadata?.resourceVersion) >= Number(a.metadata?.resourceVersion));
    const read = await api.readNamespacedPodStatus({ name: 'a', namespace: NS });
    assert.equal(read.metadata?.uid, a.metadata?.uid);
    await api.deleteNamespacedPod({ name: 'a', namespace: NS, gracePeriodSeconds: 0 });
    const gone = await apiError(api.readNamespacedPod({ name: 'a', namespace: NS }));
    assert.equal(gone.code, 404);
    assert.equal(gone.body.reason, 'NotFound');
    assert.equal(gone.body.message, 'pods "a" not found');
  });

  it('answers a duplicate name with 409 AlreadyExists and a bad pod with 422 naming the field', async () => {
    await api.createNamespacedPod({ namespace: NS, body: pod('dup') });
    const dup = await apiError(api.createNamespacedPod({ namespace: NS, body: pod('dup') }));
    assert.equal(dup.code, 409);
    assert.deepEqual([dup.body.kind, dup.body.reason, dup.body.details.name], ['Status', 'AlreadyExists', 'dup']);
    const bad = await apiError(api.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'c' }] } } }));
    assert.equal(bad.code, 422);
    assert.match(bad.body.message, /spec\.containers\[0\]\.image: Required value/);
  });

  it('refuses a wrong token with 401', async () => {
    const other = await FakeKubernetes.start({ token: 'right' });
    try {
      const kc = fake.kubeConfig(NS);
      kc.clusters[0] = { ...kc.clusters[0], server: other.url };
      const e = await apiError(kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS }));
      assert.equal(e.code, 401);
    } finally {
      await other.close();
    }
  });

  it('leaves a pod no node fits Pending/Unschedulable with the scheduler message, then binds it to a new node', async () => {
    await api.createNamespacedPod({ namespace: NS, body: gpuPod('train') });
    const cond = await waitFor('unschedulable', async () => {
      const p = await api.readNamespacedPodStatus({ name: 'train', namespace: NS });
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    });
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, '0/2 nodes are available: 2 Insufficient nvidia.com/gpu.');
    fake.addNode({ name: 'gpu-1', gpu: 1 });
    const bound = await waitFor('bound', async () => (await api.readNamespacedPod({ name: 'train', namespace: NS })).spec?.nodeName);
    assert.equal(bound, 'gpu-1');
    const p = await api.readNamespacedPodStatus({ name: 'train', namespace: NS });
    assert.equal(p.status?.containerStatuses?.[0].state?.waiting?.reason, 'ContainerCreating');
    const events = await api.listNamespacedEvent({ namespace: NS });
    assert.deepEqual(events.items.map((e) => e.reason), ['FailedScheduling', 'Scheduled']);
  });

  it('counts capacity: a second GPU pod waits until the first one ends', async () => {
    fake.addNode({ name: 'gpu-1', gpu: 1 });
    await api.createNamespacedPod({ namespace: NS, body: gpuPod('one') });
    await fake.settled();
    await api.createNamespacedPod({ namespace: NS, body: gpuPod('two') });
    await fake.settled();
    assert.equal(fake.pod('two').status.conditions[0].message, '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.');
    fake.setPodPhase('one', 'Running');
    fake.setPodPhase('one', 'Succeeded');
    await fake.settled();
    assert.equal(fake.pod('two').spec.nodeName, 'gpu-1');
  });

  it('honours node selectors and taints, and words each refusal as the scheduler does', async () => {
    fake.addNode({ name: 'gpu-1', gpu: 2, labels: { accel: 'a100' }, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] });
    await api.createNamespacedPod({ namespace: NS, body: gpuPod('no-tol', { nodeSelector: { accel: 'a100' } }) });
    await fake.settled();
    assert.equal(
      fake.pod('no-tol').status.conditions[0].message,
      "0/3 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: present}, 2 node(s) didn't match Pod's node affinity/selector.",
    );
    const tolerations = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
    await api.createNamespacedPod({ namespace: NS, body: gpuPod('tol', { nodeSelector: { accel: 'a100' }, tolerations }) });
    await fake.settled();
    assert.equal(fake.pod('tol').spec.nodeName, 'gpu-1');
  });

  it('streams ADDED/MODIFIED/DELETED from a resourceVersion, with graceful deletion in two steps', async () => {
    const list = await api.listNamespacedPod({ namespace: NS });
    const seen: string[] = [];
    const req = await new Watch(fake.kubeConfig(NS)).watch(
      `/api/v1/namespaces/${NS}/pods`,
      { resourceVersion: list.metadata?.resourceVersion, labelSelector: 'app=flotilla' },
      (type, obj) => seen.push(`${type} ${obj.status?.phase}${obj.metadata?.deletionTimestamp ? ' terminating' : ''}`),
      () => {},
    );
    await api.createNamespacedPod({ namespace: NS, body: pod('w') });
    await fake.settled();
    fake.setPodPhase('w', 'Running');
    await api.deleteNamespacedPod({ name: 'w', namespace: NS, gracePeriodSeconds: 30 });
    await waitFor('DELETED event', () => seen.some((s) => s.startsWith('DELETED')));
    req.abort();
    assert.deepEqual(seen, ['ADDED Pending', 'MODIFIED Pending', 'MODIFIED Running', 'MODIFIED Running terminating', 'DELETED Running terminating']);
  });

  it('answers a watch from a compacted resourceVersion with an ERROR event carrying 410 Expired', async () => {
    const first = await api.createNamespacedPod({ namespace: NS, body: pod('old') });
    fake.compact();
    const events: any[] = [];
    let ended = false;
    await new Watch(fake.kubeConfig(NS)).watch(`/api/v1/namespaces/${NS}/pods`, { resourceVersion: first.metadata?.resourceVersion },
      (type, obj) => events.push({ type, obj }), () => (ended = true));
    await waitFor('stream end', () => ended);
    assert.equal(events.length, 1);
    assert.deepEqual([events[0].type, events[0].obj.code, events[0].obj.reason], ['ERROR', 410, 'Expired']);
  });

  it('keeps a client informer in step across dropped watches and a 410 relist', async () => {
    const kc = fake.kubeConfig(NS);
    const informer = makeInformer<V1Pod>(kc, `/api/v1/namespaces/${NS}/pods`, () => api.listNamespacedPod({ namespace: NS, labelSelector: 'app=flotilla' }), 'app=flotilla');
    const names = () => informer.list(NS).map((p) => p.metadata?.name).sort().join();
    await api.createNamespacedPod({ namespace: NS, body: pod('before') });
    await informer.start();
    try {
      await waitFor('initial list', () => names() === 'before');
      await api.createNamespacedPod({ namespace: NS, body: pod('live') });
      await waitFor('watched add', () => names() === 'before,live');
      fake.dropWatches();
      await api.deleteNamespacedPod({ name: 'before', namespace: NS, gracePeriodSeconds: 0 });
      await waitFor('resumed watch', () => names() === 'live');
      await api.createNamespacedPod({ namespace: NS, body: pod('unwatched', {}, { app: 'other' }) });
      fake.compact(); // the informer's last version is now older than the history
      fake.dropWatches();
      await api.createNamespacedPod({ namespace: NS, body: pod('after') });
      await waitFor('relisted after 410', () => names() === 'after,live');
      const lists = fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith(`/api/v1/namespaces/${NS}/pods?labelSelector`));
      assert.equal(lists.length, 2, 'one list at start, one after the 410');
    } finally {
      await informer.stop();
    }
  });

  it('reports exit codes and reasons: OOMKilled, image pull back-off, kubelet eviction', async () => {
    for (const n of ['oom', 'pull', 'evicted']) await api.createNamespacedPod({ namespace: NS, body: pod(n) });
    await fake.settled();
    fake.setPodPhase('oom', 'Running');
    fake.setPodPhase('oom', 'Failed', { reason: 'OOMKilled' });
    const oom = await api.readNamespacedPodStatus({ name: 'oom', namespace: NS });
    assert.equal(oom.status?.phase, 'Failed');
    assert.deepEqual([oom.status?.containerStatuses?.[0].state?.terminated?.reason, oom.status?.containerStatuses?.[0].state?.terminated?.exitCode], ['OOMKilled', 137]);
    fake.imagePullBackOff('pull');
    const pull = await api.readNamespacedPodStatus({ name: 'pull', namespace: NS });
    assert.deepEqual({ ...pull.status?.containerStatuses?.[0].state?.waiting }, { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox"' });
    const noLog = await apiError(api.readNamespacedPodLog({ name: 'pull', namespace: NS }));
    assert.equal(noLog.code, 400);
    assert.match(noLog.body.message, /is waiting to start: ImagePullBackOff/);
    fake.setPodPhase('evicted', 'Running');
    fake.evict('evicted');
    const ev = await api.readNamespacedPodStatus({ name: 'evicted', namespace: NS });
    assert.deepEqual([ev.status?.phase, ev.status?.reason], ['Failed', 'Evicted']);
  });

  it('evicts through the eviction subresource and preempts, both ending in deletion with a DisruptionTarget', async () => {
    for (const n of ['e', 'p']) await api.createNamespacedPod({ namespace: NS, body: pod(n) });
    await fake.settled();
    const reasons: string[] = [];
    const req = await new Watch(fake.kubeConfig(NS)).watch(`/api/v1/namespaces/${NS}/pods`, { resourceVersion: String(fake.store.rv) },
      (type, obj) => type === 'MODIFIED' && reasons.push(obj.status.conditions.find((c: any) => c.type === 'DisruptionTarget')?.reason ?? ''), () => {});
    fake.setPodPhase('e', 'Running');
    await api.createNamespacedPodEviction({ name: 'e', namespace: NS, body: { metadata: { name: 'e' } } });
    fake.preempt('p');
    await fake.settled();
    req.abort();
    assert.deepEqual((await api.listNamespacedPod({ namespace: NS })).items, []);
    assert.ok(reasons.includes('EvictionByEvictionAPI') && reasons.includes('PreemptionByScheduler'), reasons.join());
  });

  it('serves pod logs with tailLines', async () => {
    await api.createNamespacedPod({ namespace: NS, body: pod('l') });
    await fake.settled();
    fake.setPodPhase('l', 'Running');
    fake.appendLog('l', 'one\ntwo\nthree\n');
    assert.equal(await api.readNamespacedPodLog({ name: 'l', namespace: NS }), 'one\ntwo\nthree\n');
    assert.equal(await api.readNamespacedPodLog({ name: 'l', namespace: NS, tailLines: 2 }), 'two\nthree\n');
  });

  it('stores secrets (create, read, delete) for per-task tokens', async () => {
    await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'tok' }, stringData: { token: 'x' } } });
    assert.equal((await api.readNamespacedSecret({ name: 'tok', namespace: NS })).metadata?.name, 'tok');
    await api.deleteNamespacedSecret({ name: 'tok', namespace: NS });
    assert.equal((await apiError(api.readNamespacedSecret({ name: 'tok', namespace: NS }))).code, 404);
  });
});
