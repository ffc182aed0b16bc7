// The app `flotilla up` runs: local worker processes for queue "default", no cloud account needed.
import type { Store } from '../store/index.js';
import { AppConfigSchema, type AppConfig } from '../domain/autoscaler/config.js';

export function defaultAppConfig(o: { maxWorkers: number; idleTimeoutS: number }): AppConfig {
  return AppConfigSchema.parse({
    name: 'local',
    provider: { kind: 'local' },
    resources: [{ name: 'worker', instanceType: 'local-process', pricePerHour: 0, maxInstances: o.maxWorkers }],
    queues: { default: ['worker'] },
    budget: { maxInstances: o.maxWorkers },
    timings: { idleTimeoutS: o.idleTimeoutS, bootTimeoutS: 60, capacityCooldownS: 60 },
  });
}

export async function applyDefaultApp(store: Store, o: { maxWorkers: number; idleTimeoutS: number }): Promise<AppConfig> {
  const cfg = defaultAppConfig(o);
  await store.queues.ensure('default');
  await store.apps.put(cfg);
  return cfg;
}
