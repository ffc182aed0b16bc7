// An autoscaler app whose queues are a ClearML server's (source: {kind: clearml}): what waits comes from the
// server's queues, and an instance's worker is the ClearML worker named CLEARML_WORKER_ID=<app>:<resource>:<instance>,
// the id the app gives each agent it starts. The policy, budgets, journal and providers are the same as for
// Flotilla's own queues; only these two readings change.
import type { Worker } from '../domain/task.js';
import type { ClearmlSourceConfig } from '../domain/autoscaler/source.js';
import { ClearmlClient } from './client.js';
import { renderClearmlConf, type ClearmlCredentials } from './conf.js';

/** How often a ClearML app looks at its server: nothing there wakes it (ClearML's own autoscaler looks every 60 s). */
export const CLEARML_POLL_MS = 2_000;

export const clearmlWorkerId = (app: string, resource: string, instanceId: string) => `${app}:${resource}:${instanceId}`;

/** The start of an agent the app launches: its worker id, its clearml.conf (a file, never argv), its queues. */
export interface ClearmlLaunch {
  workerId: string;
  /** The clearml.conf text with the key pair: the provider writes it to a 0600 file. */
  conf(workDir?: string): string;
  queues: string[];
}

export class ClearmlSource {
  private client: ClearmlClient | undefined;
  private creds: ClearmlCredentials | undefined;
  /** Since when each worker has been seen without a task: ClearML keeps no idle time. */
  private readonly idleSince = new Map<string, number>();

  constructor(
    private readonly app: string,
    private readonly cfg: ClearmlSourceConfig,
    /** The decrypted secret named by credentialsSecret (read on first use, again after a failure). */
    private readonly credentials: () => Promise<{ accessKey: string; secretKey: string }>,
  ) {}

  private async connect(): Promise<ClearmlClient> {
    if (!this.client) {
      const { accessKey, secretKey } = await this.credentials();
      this.creds = { apiServer: this.cfg.apiServer, accessKey, secretKey };
      this.client = new ClearmlClient(this.creds);
    }
    return this.client;
  }

  /** What waits in each of the app's queues, and since when (a queue the server does not have waits nothing). */
  async waiting(queues: string[]): Promise<Record<string, { waiting: number; oldestAt?: number }>> {
    const got = await (await this.connect()).queues(queues);
    const out: Record<string, { waiting: number; oldestAt?: number }> = {};
    for (const name of queues) {
      const entries = got.get(name)?.entries ?? [];
      const times = entries.map((e) => (e.added ? Date.parse(e.added) : NaN)).filter((t) => !Number.isNaN(t));
      out[name] = { waiting: entries.length, ...(times.length ? { oldestAt: Math.min(...times) } : {}) };
    }
    return out;
  }

  /** The app's ClearML workers as Flotilla workers (idle or busy: the server lists live ones only). */
  async workers(now: number): Promise<Worker[]> {
    const prefix = `${this.app}:`;
    const out: Worker[] = [];
    const live = new Set<string>();
    for (const w of await (await this.connect()).workers()) {
      if (!w.id.startsWith(prefix)) continue;
      const [, resource, instanceId] = w.id.split(':');
      if (!resource || !instanceId) continue;
      live.add(w.id);
      const task = w.task?.id ?? null;
      if (task) this.idleSince.delete(w.id);
      else if (!this.idleSince.has(w.id)) this.idleSince.set(w.id, now);
      const seen = w.last_activity_time ? Date.parse(w.last_activity_time) : now;
      out.push({
        id: w.id, queues: (w.queues ?? []).map((q) => q.name ?? q.id), app: this.app, resource, instanceId,
        currentTask: task, registeredAt: w.register_time ? Date.parse(w.register_time) : now, lastSeen: seen,
        idleSince: task ? null : this.idleSince.get(w.id)!, status: task ? 'busy' : 'idle',
      });
    }
    for (const id of this.idleSince.keys()) if (!live.has(id)) this.idleSince.delete(id);
    return out;
  }

  async launch(resource: string, instanceId: string, queues: string[]): Promise<ClearmlLaunch> {
    await this.connect();
    const creds = this.creds!;
    return { workerId: clearmlWorkerId(this.app, resource, instanceId), queues, conf: (workDir) => renderClearmlConf(creds, { workDir }) };
  }

  /** A failed pass (wrong secret, server down) reads the secret and connects again next time. */
  reset(): void {
    this.client = undefined;
    this.creds = undefined;
  }
}
