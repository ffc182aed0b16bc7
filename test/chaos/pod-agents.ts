// The kubelet's part for the chaos suite's Kubernetes round: the fake API server runs no containers, so for every task
// pod it binds to a node this starts a real `flotilla agent --task-id ID --once` process with the token from the pod's
// own Secret (as the pod's container would), marks the pod Running, and ends the pod with the agent's exit code
// (SIGKILL: Failed, exit code 137). A pod deleted from the API has its agent killed, as the kubelet would.
import type { FakeKubernetes } from '../fakes/k8s/index.js';
import { spawnAgent, killAgents, type AgentProc } from '../support/agents.js';

const ended = (pod: any) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

export class PodAgents {
  /** Agents by pod uid (a name may come back as another pod), while they run. */
  private readonly agents = new Map<string, { name: string; agent: AgentProc }>();
  /** Pods (uids) that got their agent (a pod runs its container once: restartPolicy Never). */
  private readonly started = new Set<string>();
  private readonly unwatch: () => void;
  private readonly timer: NodeJS.Timeout;
  /** Most task pods at once that had not ended (being deleted counts), seen at every change of a pod. */
  maxLive = 0;
  /** The pods at that moment (to tell what went over a cap). */
  atMax: string[] = [];
  /** Seconds from each agent's start to its exit (an agent process per pod is most of a round's time). */
  readonly lifetimes: number[] = [];
  /** Pods whose agent was killed by kill(); their task ends failed unless it was reported first. */
  readonly killed = new Map<string, string>();

  constructor(private readonly fake: FakeKubernetes, private readonly ns: string, private readonly server: string) {
    const count = () => {
      const live = fake.store.list('pods', { namespace: ns }).filter((p) => !ended(p));
      if (live.length > this.maxLive) {
        this.maxLive = live.length;
        this.atMax = live.map((p) => `${p.metadata.name} ${p.status.phase}${p.metadata.deletionTimestamp ? ' (deleting)' : ''}`);
      }
    };
    // The store tells its watchers inside each write, so no pod count between two changes is missed.
    this.unwatch = fake.store.watch('pods', { namespace: ns }, String(fake.store.rv), count);
    count();
    // Starting and stopping agents happens outside the store's write (and again when a Secret shows up late).
    this.timer = setInterval(() => this.sync(), 50);
  }

  /** Pods whose agent runs (the ones a kill can hit). */
  running(): string[] {
    return [...this.agents.values()].map((a) => a.name);
  }

  /** Task id of a pod's agent. */
  taskOf(pod: string): string | undefined {
    return this.fake.store.find('pods', this.ns, pod)?.metadata?.annotations?.['flotilla.io/task-id'];
  }

  /** kill -9 the pod's agent (the container dies; the pod ends Failed with exit code 137). */
  kill(pod: string): boolean {
    const a = [...this.agents.values()].find((x) => x.name === pod);
    if (!a) return false;
    this.killed.set(pod, this.taskOf(pod) ?? '');
    a.agent.kill('SIGKILL');
    return true;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unwatch();
    await killAgents([...this.agents.values()].map((a) => a.agent));
  }

  private sync(): void {
    const pods = new Map<string, any>(this.fake.store.list('pods', { namespace: this.ns }).map((p) => [p.metadata.uid, p]));
    for (const [uid, a] of this.agents) {
      const pod = pods.get(uid);
      if (!pod || pod.metadata.deletionTimestamp) a.agent.kill('SIGKILL');
    }
    for (const [uid, pod] of pods) {
      const name: string = pod.metadata.name;
      if (this.started.has(uid) || ended(pod) || pod.metadata.deletionTimestamp || !pod.spec.nodeName) continue;
      const ref = pod.spec.containers[0].env.find((e: any) => e.name === 'FLOTILLA_TOKEN')?.valueFrom?.secretKeyRef?.name;
      const secret = ref && this.fake.store.find('secrets', this.ns, ref);
      if (!secret) continue; // the kubelet waits for the Secret (CreateContainerConfigError) and tries again
      this.started.add(uid);
      const cmd: string[] = pod.spec.containers[0].command;
      const arg = (flag: string) => cmd[cmd.indexOf(flag) + 1];
      const agent = spawnAgent(this.server, secret.stringData.token, [arg('--queue')], {
        workerId: `pod-${name}`, args: ['--task-id', arg('--task-id'), '--once'],
      });
      this.agents.set(uid, { name, agent });
      const born = Date.now();
      this.fake.setPodPhase(`${this.ns}/${name}`, 'Running');
      void agent.exited.then(({ code, signal }) => {
        this.agents.delete(uid);
        this.lifetimes.push((Date.now() - born) / 1000);
        const now = this.fake.store.find('pods', this.ns, name);
        if (!now || now.metadata.uid !== uid || ended(now) || now.metadata.deletionTimestamp) return;
        const exitCode = code ?? (signal === 'SIGKILL' ? 137 : 143);
        this.fake.setPodPhase(`${this.ns}/${name}`, exitCode === 0 ? 'Succeeded' : 'Failed', { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' });
      });
    }
  }
}
