// runSimulation: a trace and an app config in, the figures issue 4 names out.
import type { BudgetEvents } from './budget-books.js';
import { performance } from 'node:perf_hooks';
import type { AppConfig } from '../domain/autoscaler/config.js';
import { SimulationSchema, type SimulationConfig } from '../domain/autoscaler/simulation-config.js';
import { spotRatePerHour } from '../domain/autoscaler/spot-model.js';
import { SimCloud } from '../autoscaler/providers/simulated/cloud.js';
import { percentile, seriesOf } from './books.js';
import { ClearMlDriver } from './clearml.js';
import { Engine, type Driver, type SimJob } from './engine.js';
import { FlotillaDriver } from './flotilla.js';
import { routeJob, type TraceJob } from './trace.js';

export type PolicyName = 'flotilla' | 'clearml';

export interface SimulateOptions {
  jobs: readonly TraceJob[];
  config: AppConfig;
  policy?: PolicyName;
  seed?: number;
  /** Called now and then with the share of jobs that have arrived (0..1). */
  onProgress?: (fraction: number) => void;
  /** Also return a series of $/h and instances for a chart. */
  series?: boolean;
}

export interface SimResult {
  policy: PolicyName;
  jobs: number;
  skipped_jobs: number;
  cost_usd: number;
  cost_floor_usd: number;
  cost_ratio: number;
  wait_s: { p50: number; p95: number; p99: number; max: number };
  idle_instance_hours: number;
  launches: number;
  max_instances: number;
  budget_violations: number;
  /** Spot instances reclaimed; run time lost since their jobs' last checkpoints; time those jobs waited to run again. */
  interruptions: number;
  /** On-demand launches of resources set to spot: the fallback after a capacity error or an interruption. */
  on_demand_fallbacks: number;
  work_lost_hours: number;
  extra_wait_hours: number;
  /** Only for an app with a day or month budget: when each limit was reached and what waited because of it. */
  budget?: BudgetEvents;
  replay_ms: number;
}

export function simulationOf(cfg: AppConfig): SimulationConfig {
  return cfg.simulation ?? SimulationSchema.parse({});
}

export function runSimulation(opts: SimulateOptions): SimResult {
  return replay(opts).result;
}

/** The result plus the peak spend rate (the benchmark uses it to say whether the $/h cap bound). */
export function replay(opts: SimulateOptions): { result: SimResult; peakUsdPerHour: number; series?: ReturnType<typeof seriesOf> } {
  const t0 = performance.now();
  const policy = opts.policy ?? 'flotilla';
  const sim = simulationOf(opts.config);
  const { jobs, skipped } = routeJobs(opts.jobs, opts.config, sim);
  const cloud = new SimCloud(opts.seed ?? 1, sim.bootTime, sim.faults, spotRates(opts.config, sim));
  const driver: Driver = policy === 'clearml' ? new ClearMlDriver(opts.config) : new FlotillaDriver(opts.config);
  const engine = new Engine(opts.config, cloud, jobs, driver, opts.onProgress);
  if (opts.series) engine.books.steps = [];
  engine.run();
  const b = engine.books;
  const waits = Float64Array.from(b.waits).sort();
  const result: SimResult = {
    policy,
    jobs: jobs.length,
    skipped_jobs: skipped,
    cost_usd: round(b.cost, 2),
    cost_floor_usd: round(b.floor, 2),
    cost_ratio: b.floor > 0 ? round(b.cost / b.floor, 4) : 0,
    wait_s: {
      p50: round(percentile(waits, 50), 1),
      p95: round(percentile(waits, 95), 1),
      p99: round(percentile(waits, 99), 1),
      max: round(waits.length ? waits[waits.length - 1]! : 0, 1),
    },
    idle_instance_hours: round(b.idleMs / 3_600_000, 2),
    launches: b.launches,
    max_instances: b.maxInstances,
    budget_violations: b.violations,
    interruptions: b.interruptions,
    on_demand_fallbacks: b.fallbacks,
    work_lost_hours: round(b.workLostMs / 3_600_000, 2),
    extra_wait_hours: round(b.waitedAgainMs / 3_600_000, 2),
    ...(engine.budget ? { budget: { ...engine.budget.events, wait_job_hours: round(engine.budget.events.wait_job_hours, 2) } } : {}),
    replay_ms: Math.round(performance.now() - t0),
  };
  return { result, peakUsdPerHour: b.peakRate, ...(b.steps ? { series: seriesOf(b.steps, engine.now) } : {}) };
}

function spotRates(cfg: AppConfig, sim: SimulationConfig): Map<string, number> {
  const names = new Set(cfg.resources.map((r) => r.name));
  const rates = new Map<string, number>();
  for (const [name, m] of Object.entries(sim.spot)) {
    if (!names.has(name)) throw new Error(`simulation.spot: resource "${name}" is not under resources; name one of ${[...names].join(', ')}`);
    rates.set(name, spotRatePerHour(m));
  }
  return rates;
}

function routeJobs(trace: readonly TraceJob[], cfg: AppConfig, sim: SimulationConfig): { jobs: SimJob[]; skipped: number } {
  const queues = new Set(Object.keys(cfg.queues));
  for (const r of sim.route)
    if (!queues.has(r.queue)) throw new Error(`simulation.route: queue "${r.queue}" is not under queues; add it there or fix the rule`);
  if (sim.route.length === 0 && trace.some((j) => j.queue === undefined))
    throw new Error('simulation.route is empty and the trace has no queue column: add routing rules (e.g. {queue: gpu1, minGpus: 1, maxGpus: 1})');
  const jobs: SimJob[] = [];
  let skipped = 0;
  for (const j of trace) {
    const queue = routeJob(j, sim.route, queues);
    if (queue === undefined) skipped++;
    else jobs.push({ id: j.id, queue, submit: j.submitS * 1000, duration: j.durationS * 1000 });
  }
  return { jobs, skipped };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
