// npm run bench:sim — replays ElasticFlow GPU traces cluster01..05 through our policy and the
// ClearML baseline, with the example config's $/h cap and without it, and checks issue 4's targets.
// Prints a table; it is a benchmark, not a test (exit code 0 unless something crashes).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { table } from '../src/cli/output.js';
import { loadAppConfig, loadTrace } from '../src/sim/load.js';
import { replay, type PolicyName, type SimResult } from '../src/sim/run.js';
import type { AppConfig } from '../src/domain/autoscaler/config.js';
import { FRONTIER_COLUMNS, spotComparison, warmFrontier, type FrontierRow } from '../src/sim/frontier.js';

const TRACES = ['cluster01', 'cluster02', 'cluster03', 'cluster04', 'cluster05'];

function traceDir(): string {
  const candidates = [process.env.FLOTILLA_TRACES, '../shared/traces/elasticflow', '/work/shared/traces/elasticflow'];
  for (const c of candidates) if (c && existsSync(join(c, 'cluster01.csv'))) return resolve(c);
  throw new Error('ElasticFlow traces not found: set FLOTILLA_TRACES to the folder holding cluster01.csv');
}

interface Row {
  trace: string;
  cap: string;
  policy: PolicyName;
  r: SimResult;
  bound: boolean;
}

function main(): void {
  const dir = traceDir();
  const capped = loadAppConfig('deploy/examples/sim-gpu.yaml');
  const cap = capped.budget.maxPerHour!;
  const uncapped: AppConfig = { ...capped, budget: { ...capped.budget, maxPerHour: undefined } };
  const boot = capped.simulation?.bootTime.seconds ?? 120;
  const rows: Row[] = [];
  for (const name of TRACES) {
    const jobs = loadTrace(join(dir, `${name}.csv`));
    for (const [label, config] of [['none', uncapped], [`$${cap}/h`, capped]] as const)
      for (const policy of ['flotilla', 'clearml'] as const) {
        const { result, peakUsdPerHour } = replay({ jobs, config, policy, seed: 1 });
        // Our policy's peak under no cap tells whether the cap would bind on this trace.
        rows.push({ trace: name, cap: label, policy, r: result, bound: false });
        if (label === 'none' && policy === 'flotilla') rows.at(-1)!.bound = peakUsdPerHour > cap;
      }
  }
  for (const row of rows) row.bound = rows.find((x) => x.trace === row.trace && x.cap === 'none' && x.policy === 'flotilla')!.bound;
  process.stdout.write(table(rows, [
    { header: 'trace', value: (x) => x.trace },
    { header: 'cap', value: (x) => (x.cap === 'none' ? 'none' : `${x.cap}${x.bound ? ' (binds)' : ' (not reached)'}`) },
    { header: 'policy', value: (x) => x.policy },
    { header: 'jobs', value: (x) => x.r.jobs },
    { header: 'skipped', value: (x) => x.r.skipped_jobs },
    { header: 'cost $', value: (x) => x.r.cost_usd.toFixed(0) },
    { header: 'floor $', value: (x) => x.r.cost_floor_usd.toFixed(0) },
    { header: 'ratio', value: (x) => x.r.cost_ratio.toFixed(4) },
    { header: 'p50 s', value: (x) => x.r.wait_s.p50 },
    { header: 'p95 s', value: (x) => x.r.wait_s.p95 },
    { header: 'p99 s', value: (x) => x.r.wait_s.p99 },
    { header: 'max s', value: (x) => x.r.wait_s.max },
    { header: 'idle h', value: (x) => x.r.idle_instance_hours.toFixed(0) },
    { header: 'launches', value: (x) => x.r.launches },
    { header: 'max inst', value: (x) => x.r.max_instances },
    { header: 'violations', value: (x) => x.r.budget_violations },
    { header: 'replay ms', value: (x) => x.r.replay_ms },
  ]) + '\n\n');
  for (const line of targets(rows, boot)) process.stdout.write(line + '\n');
  if (process.env.FLOTILLA_BENCH_FRONTIER !== '0') frontiers(dir, uncapped, cap);
}

/**
 * Issue 17: the warm pool's wait/cost frontier and what spot saves, per trace, without the $/h cap (so the
 * boot is the whole wait); auto's budget shares are of the example's $1000/h.
 */
function frontiers(dir: string, uncapped: AppConfig, cap: number): void {
  const warm: (FrontierRow & { trace: string })[] = [];
  const spot: (FrontierRow & { trace: string })[] = [];
  for (const name of TRACES) {
    const jobs = loadTrace(join(dir, `${name}.csv`));
    for (const row of warmFrontier(jobs, uncapped, 1, cap)) warm.push({ trace: name, ...row });
    for (const row of spotComparison(jobs, uncapped, 1)) spot.push({ trace: name, ...row });
  }
  const cols = [{ header: 'trace', value: (x: FrontierRow & { trace: string }) => x.trace }, ...FRONTIER_COLUMNS];
  process.stdout.write('\nwarm capacity, no $/h cap (auto shares of $' + cap + '/h):\n' + table(warm, cols.slice(0, 10)) + '\n');
  process.stdout.write('\nspot with on-demand fallback (price 0.35 x on-demand, checkpoint every 30 min), no $/h cap:\n' + table(spot, cols) + '\n\n');
  for (const t of ['cluster02', 'cluster04']) {
    const ok = warm.filter((x) => x.trace === t && x.result.wait_s.p50 <= 60 && x.result.cost_ratio <= 1.05);
    const best = ok.sort((a, b) => a.result.cost_ratio - b.result.cost_ratio)[0];
    process.stdout.write(`${best ? 'PASS' : 'FAIL'}  ${t}: a warm setting with wait p50 <= 60 s at cost <= 1.05 x floor` +
      `${best ? ` (${best.setting}: p50 ${best.result.wait_s.p50} s, ratio ${best.result.cost_ratio.toFixed(4)})` : ''}\n`);
  }
}

function targets(rows: Row[], boot: number): string[] {
  const get = (t: string, cap: string, p: PolicyName) => rows.find((x) => x.trace === t && (cap === 'none' ? x.cap === 'none' : x.cap !== 'none') && x.policy === p)!.r;
  const check = (ok: boolean, what: string) => `${ok ? 'PASS' : 'FAIL'}  ${what}`;
  const beats = TRACES.every((t) => ['none', 'cap'].every((c) => {
    const ours = get(t, c, 'flotilla');
    const theirs = get(t, c, 'clearml');
    return ours.cost_usd < theirs.cost_usd && ours.wait_s.p95 < theirs.wait_s.p95;
  }));
  const noCap = TRACES.map((t) => get(t, 'none', 'flotilla'));
  const largest = rows.filter((x) => x.trace === 'cluster04' && x.policy === 'flotilla').map((x) => x.r.replay_ms);
  return [
    check(beats, 'ours cheaper and lower p95 wait than ClearML on every trace, with and without the cap'),
    check(noCap.every((r) => r.cost_ratio <= 1.03), `no cap: cost_ratio <= 1.03 (worst ${Math.max(...noCap.map((r) => r.cost_ratio)).toFixed(4)})`),
    check(noCap.every((r) => r.wait_s.p95 <= boot + 10), `no cap: p95 wait <= boot + 10 s = ${boot + 10} s (worst ${Math.max(...noCap.map((r) => r.wait_s.p95))} s)`),
    check(rows.every((x) => x.r.budget_violations === 0), 'zero budget violations'),
    check(Math.max(...largest) <= 2000, `largest trace (cluster04) replayed in <= 2 s (${largest.join(' ms, ')} ms)`),
  ];
}

main();
