// The wait/cost frontier of warm capacity, and what spot saves: the same trace replayed with the warm
// pool off, fixed at 1 and 2 (every resource, and 1 on the cheapest alone), auto at two budget shares;
// then on-demand against spot with fallback at two interruption rates. `flotilla simulate --frontier`
// prints both for one trace, `npm run bench:sim` for every dev trace.
import type { AppConfig } from '../domain/autoscaler/config.js';
import type { WarmConfig } from '../domain/autoscaler/warm-config.js';
import { SimulationSchema } from '../domain/autoscaler/simulation-config.js';
import { SpotModelSchema } from '../domain/autoscaler/spot-model.js';
import { runSimulation, type SimResult } from './run.js';
import type { TraceJob } from './trace.js';
import { priceOf } from '../domain/autoscaler/budget.js';

export interface FrontierRow {
  setting: string;
  result: SimResult;
}

const SHARES = [0.02, 0.05];

/**
 * The warm settings, each applied to every resource unless it names one. Auto's share is of the app's
 * $/h cap; with no cap, of `shareOf` USD/h when given (set as the pool's maxPerHour), else unbounded.
 */
function warmSettings(cfg: AppConfig, shareOf: number | undefined): { label: string; warm?: WarmConfig; only?: string }[] {
  const cheapest = [...cfg.resources].sort((a, b) => priceOf(a) - priceOf(b))[0]!.name;
  const cap = cfg.budget.maxPerHour;
  const auto = SHARES.map((share) => {
    const base = cap ?? shareOf;
    const label = base === undefined ? `auto (no cap to share)` : `auto ${share * 100} % of $${base}/h`;
    const warm: WarmConfig = { mode: 'auto', budgetShare: share, ...(cap === undefined && shareOf !== undefined ? { maxPerHour: share * shareOf } : {}) };
    return { label, warm };
  });
  return [
    { label: 'off' },
    { label: 'fixed 1', warm: { mode: 'fixed', size: 1, budgetShare: 0 } },
    { label: 'fixed 2', warm: { mode: 'fixed', size: 2, budgetShare: 0 } },
    { label: `fixed 1 on ${cheapest}`, warm: { mode: 'fixed', size: 1, budgetShare: 0 }, only: cheapest },
    ...(cap === undefined && shareOf === undefined ? auto.slice(0, 1) : auto),
  ];
}

export function warmFrontier(jobs: readonly TraceJob[], cfg: AppConfig, seed = 1, shareOf?: number): FrontierRow[] {
  return warmSettings(cfg, shareOf).map((s) => {
    const config = { ...cfg, resources: cfg.resources.map((r) => ({ ...r, warm: !s.only || s.only === r.name ? s.warm : undefined })) };
    return { setting: s.label, result: runSimulation({ jobs, config, seed }) };
  });
}

/** Two interruption rates: the Advisor's worst band, and a stress rate a hundred times higher than its best. */
export const SPOT_RATES: readonly { label: string; model: Record<string, unknown> }[] = [
  { label: 'spot, band >20%', model: { interruptionFrequency: '>20%' } },
  { label: 'spot, 0.05 / instance-hour', model: { interruptionsPerHour: 0.05 } },
];

/**
 * On-demand, then every resource on spot with the on-demand fallback at each interruption rate. A resource's
 * own simulation.spot model gives its price fraction and checkpoint interval; otherwise the defaults here.
 */
export function spotComparison(jobs: readonly TraceJob[], cfg: AppConfig, seed = 1, priceFraction = 0.35, checkpointIntervalS = 1800): FrontierRow[] {
  const onDemand = { ...cfg, resources: cfg.resources.map((r) => ({ ...r, spot: false })) };
  const rows: FrontierRow[] = [{ setting: 'on-demand', result: runSimulation({ jobs, config: onDemand, seed }) }];
  const sim = cfg.simulation ?? SimulationSchema.parse({});
  for (const s of SPOT_RATES) {
    const spot = Object.fromEntries(cfg.resources.map((r) => {
      const own = sim.spot[r.name] ?? SpotModelSchema.parse({ priceFraction, checkpointIntervalS });
      return [r.name, SpotModelSchema.parse({ priceFraction: own.priceFraction, checkpointIntervalS: own.checkpointIntervalS, ...s.model })];
    }));
    const config: AppConfig = {
      ...cfg,
      resources: cfg.resources.map((r) => ({ ...r, spot: true, onDemandFallback: true })),
      simulation: { ...sim, spot },
    };
    rows.push({ setting: s.label, result: runSimulation({ jobs, config, seed }) });
  }
  return rows;
}

/** The columns both printers show. */
export const FRONTIER_COLUMNS: { header: string; value: (r: FrontierRow) => string | number }[] = [
  { header: 'setting', value: (x) => x.setting },
  { header: 'cost $', value: (x) => x.result.cost_usd.toFixed(0) },
  { header: 'floor $', value: (x) => x.result.cost_floor_usd.toFixed(0) },
  { header: 'ratio', value: (x) => x.result.cost_ratio.toFixed(4) },
  { header: 'p50 s', value: (x) => x.result.wait_s.p50 },
  { header: 'p95 s', value: (x) => x.result.wait_s.p95 },
  { header: 'p99 s', value: (x) => x.result.wait_s.p99 },
  { header: 'idle h', value: (x) => x.result.idle_instance_hours.toFixed(0) },
  { header: 'launches', value: (x) => x.result.launches },
  { header: 'interruptions', value: (x) => x.result.interruptions },
  { header: 'fallbacks', value: (x) => x.result.on_demand_fallbacks },
  { header: 'lost h', value: (x) => x.result.work_lost_hours.toFixed(1) },
  { header: 'extra wait h', value: (x) => x.result.extra_wait_hours.toFixed(1) },
];
