// The human form of a replay's result: the same figures as --json, one per line.
import type { SimResult } from './run.js';

export function resultRows(r: SimResult): { figure: string; value: string }[] {
  const s = (x: number) => `${x.toLocaleString('en-US')} s`;
  const usd = (x: number) => `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return [
    ['policy', r.policy],
    ['jobs', String(r.jobs)],
    ['skipped jobs (fit no queue)', String(r.skipped_jobs)],
    ['cost', usd(r.cost_usd)],
    ['cost floor (job time x price)', usd(r.cost_floor_usd)],
    ['cost ratio', r.cost_ratio.toFixed(4)],
    ['wait p50', s(r.wait_s.p50)],
    ['wait p95', s(r.wait_s.p95)],
    ['wait p99', s(r.wait_s.p99)],
    ['wait max', s(r.wait_s.max)],
    ['idle instance hours', r.idle_instance_hours.toFixed(2)],
    ['launches', String(r.launches)],
    ['max instances at once', String(r.max_instances)],
    ['budget violations', String(r.budget_violations)],
    ['spot interruptions', String(r.interruptions)],
    ['on-demand fallbacks (spot resources)', String(r.on_demand_fallbacks)],
    ['work lost (since checkpoints)', `${r.work_lost_hours.toFixed(2)} h`],
    ['extra wait after interruptions', `${r.extra_wait_hours.toFixed(2)} h`],
    ...(r.budget ? [
      ['budget limits reached', r.budget.reached.map((x) => `${x.period} at ${s(x.at_s)}`).join(', ') || 'none'],
      ['waited for the budget', `${r.budget.wait_job_hours.toFixed(2)} job-hours (${r.budget.refusals} refusals)`],
    ] : []),
    ['replay time', `${r.replay_ms} ms`],
  ].map(([figure, value]) => ({ figure: figure!, value: value! }));
}
