// "What would it cost": a trace replayed through the edited app, the running one and ClearML's policy, with the
// simulator the CLI uses (src/sim). The trace is a CSV or the app's own ended tasks of the last days. The replays run
// in a worker thread (they are synchronous), bounded in input (jobs, days) and in time.
import type { Store } from '../store/index.js';
import type { AppConfig } from '../domain/autoscaler/config.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { replay, type PolicyName } from '../sim/run.js';
import { parseColumnMap, parseTrace, type TraceJob } from '../sim/trace.js';
import { ValidationError } from './route.js';

export const SIM_MAX_JOBS = 20_000;
export const SIM_MAX_DAYS = 14;
/** Three replays of the largest trace allowed take a few seconds on a busy 2-core machine. */
export const SIM_TIMEOUT_MS = 30_000;

/** The app's tasks that ran in the last `days`, as trace jobs (submitted at creation, lasting start → end). */
export async function traceFromApp(store: Store, cfg: AppConfig, days: number, now = Date.now()): Promise<TraceJob[]> {
  const since = now - days * 86_400_000;
  const rows = await store.tasks.endedSince(Object.keys(cfg.queues), since, SIM_MAX_JOBS + 1);
  if (rows.length > SIM_MAX_JOBS)
    throw new ValidationError([{ field: 'body.trace.days', message: `more than ${SIM_MAX_JOBS} tasks in ${days} days: ask for fewer days` }]);
  const t0 = rows.length ? Math.min(...rows.map((r) => r.createdAt)) : now;
  return rows.map((r, i) => ({ id: r.id, line: i + 1, queue: r.queue, submitS: (r.createdAt - t0) / 1000, durationS: Math.max(0, (r.endedAt - r.startedAt) / 1000) }));
}

export function traceFromCsv(csv: string, columns: string | undefined): TraceJob[] {
  try {
    const jobs = parseTrace(csv, parseColumnMap(columns), 'trace.csv');
    if (jobs.length > SIM_MAX_JOBS) throw new Error(`the trace has ${jobs.length} jobs; at most ${SIM_MAX_JOBS} here (use flotilla simulate for more)`);
    return jobs;
  } catch (e) {
    throw new ValidationError([{ field: 'body.trace.csv', message: (e as Error).message }]);
  }
}

/** A trace with no queue column on a one-queue app: every job goes to that queue. */
function routed(jobs: TraceJob[], cfg: AppConfig): TraceJob[] {
  const queues = Object.keys(cfg.queues);
  if (queues.length !== 1 || cfg.simulation?.route.length) return jobs;
  return jobs.map((j) => (j.queue === undefined ? { ...j, queue: queues[0] } : j));
}

export interface ReplayInput {
  jobs: TraceJob[];
  runs: { config: AppConfig; policy: PolicyName; field: string }[];
}

/** One replay's figures for the console (the worker thread runs it). */
export function replayFigures(jobs: TraceJob[], cfg: AppConfig, policy: PolicyName) {
  const { result, series } = replay({ jobs: routed(jobs, cfg), config: cfg, policy, series: true });
  return {
    policy, cost: result.cost_usd, floor: result.cost_floor_usd, costRatio: result.cost_ratio,
    waitP50: result.wait_s.p50, waitP95: result.wait_s.p95, waitP99: result.wait_s.p99,
    idleInstanceHours: result.idle_instance_hours, launches: result.launches, jobs: result.jobs, skippedJobs: result.skipped_jobs,
    replayMs: result.replay_ms, series,
  };
}

export type ReplayFigures = ReturnType<typeof replayFigures>;

/**
 * The worker's file next to this one when built (.js). Run from source under tsx (the tests), a worker does not get
 * tsx's loader on Node 20, so a small module registers it first and then imports the .ts file.
 */
function workerFile(): URL {
  const js = new URL('./simulate-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return js;
  const ts = new URL('./simulate-worker.ts', import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(ts)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/**
 * Replays off the event loop, in a worker thread that is stopped after `timeoutMs`: a 400 naming the field of the run
 * that failed (a trace the config cannot route), a 503 when the replays take too long.
 */
export function replayAll(input: ReplayInput, timeoutMs = SIM_TIMEOUT_MS): Promise<ReplayFigures[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile(), { workerData: input });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(Object.assign(new Error(`the replays took longer than ${timeoutMs / 1000} s: use a shorter trace, or flotilla simulate`), { statusCode: 503 }));
    }, timeoutMs);
    worker.once('message', (m: { ok: true; results: ReplayFigures[] } | { ok: false; message: string; index: number }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.ok) resolve(m.results);
      else reject(new ValidationError([{ field: input.runs[m.index]?.field ?? 'body.config', message: m.message }]));
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
