// Shared steps of the autoscaler end-to-end tests.
import type { FlotillaClient } from '../../src/client/index.js';
import type { AppConfigInput } from '../../src/domain/autoscaler/config.js';
import { LocalProvider } from '../../src/autoscaler/providers/local/index.js';

export interface StatusView {
  instances: { id: string; providerId: string | null; state: string; busy: boolean; worker: string | null }[];
  instancesByState: Record<string, number>;
  spendRatePerHour: number;
  idleWorkers: number;
}
export interface DecisionView { kind: string; reason: string; queue: string | null; detail: Record<string, unknown> }

export const applyApp = (c: FlotillaClient, cfg: AppConfigInput) =>
  c.request('PUT', `/api/v1/autoscalers/${cfg.name}`, cfg);
export const status = (c: FlotillaClient, app: string) =>
  c.request<StatusView>('GET', `/api/v1/autoscalers/${app}/status`);
export const decisions = async (c: FlotillaClient, app: string) =>
  (await c.request<{ decisions: DecisionView[] }>('GET', `/api/v1/autoscalers/${app}/decisions?limit=1000`)).decisions;

export function localApp(name: string, queue: string, o: { max: number; idleS: number; price?: number; cap?: number }): AppConfigInput {
  return {
    name,
    provider: { kind: 'local' },
    resources: [{ name: 'cpu', instanceType: 'local-process', pricePerHour: o.price ?? 0, maxInstances: o.max }],
    queues: { [queue]: ['cpu'] },
    budget: { maxInstances: o.max, ...(o.cap ? { maxPerHour: o.cap } : {}) },
    timings: { idleTimeoutS: o.idleS, bootTimeoutS: 60, capacityCooldownS: 60 },
  };
}

/** Agent processes on this machine carrying the app's tags (what a leak would leave behind). */
export async function localWorkerProcesses(app: string): Promise<string[]> {
  const p = new LocalProvider({ logDir: '/tmp/flotilla-test-unused' });
  return (await p.list(app)).map((i) => i.providerId);
}

/** Kills whatever worker processes the app left (cleanup only; tests assert there are none). */
export async function killLocalWorkers(app: string): Promise<void> {
  for (const pid of await localWorkerProcesses(app)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
