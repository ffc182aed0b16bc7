// The wait/cost frontier of warm capacity: the same trace replayed with the warm pool off, fixed at 1 and
// 2 on every resource, and auto at two budget shares. `flotilla simulate --frontier` and bench:sim print it.
import type { AppConfig } from '../domain/autoscaler/config.js';
import type { WarmConfig } from '../domain/autoscaler/warm-config.js';
import { runSimulation, type SimResult } from './run.js';
import type { TraceJob } from './trace.js';

export interface FrontierSetting {
  label: string;
  warm: WarmConfig | undefined;
}

export const FRONTIER: readonly FrontierSetting[] = [
  { label: 'off', warm: undefined },
  { label: 'fixed 1', warm: { mode: 'fixed', size: 1, budgetShare: 0.05 } },
  { label: 'fixed 2', warm: { mode: 'fixed', size: 2, budgetShare: 0.05 } },
  { label: 'auto 2 %', warm: { mode: 'auto', budgetShare: 0.02 } },
  { label: 'auto 5 %', warm: { mode: 'auto', budgetShare: 0.05 } },
];

export interface FrontierRow {
  setting: string;
  result: SimResult;
}

/** The config with one warm setting on every resource (the others' settings replaced). */
export function withWarm(cfg: AppConfig, warm: WarmConfig | undefined): AppConfig {
  return { ...cfg, resources: cfg.resources.map((r) => ({ ...r, warm })) };
}

export function frontier(jobs: readonly TraceJob[], cfg: AppConfig, seed = 1, settings = FRONTIER): FrontierRow[] {
  return settings.map((s) => ({ setting: s.label, result: runSimulation({ jobs, config: withWarm(cfg, s.warm), seed }) }));
}
