// "What would it cost": replay a trace (an uploaded CSV, or this app's own last 7 days of tasks) through the
// edited config, the running one and ClearML's policy, with the simulator the CLI uses.
import { useState } from 'react';
import { errorText, post } from '../api';
import type { PolicyFigures, Simulation } from '../types';
import { Chart, type Series } from '../ui/Chart';
import { ErrorLine, Field } from '../ui/Field';
import { duration, num, usd } from '../ui/format';

const POLICIES = [
  { key: 'edited', label: 'Edited config', color: '#1565c0' },
  { key: 'running', label: 'Running config', color: '#6a1b9a' },
  { key: 'clearml', label: "ClearML's policy", color: '#c62828' },
] as const;

export function CostReplay({ config, app }: { config: unknown; app?: string }) {
  const [source, setSource] = useState<'csv' | 'app'>(app ? 'app' : 'csv');
  const [csv, setCsv] = useState<{ name: string; text: string }>();
  const [result, setResult] = useState<Simulation>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const trace = source === 'app' ? { fromApp: app, days: 7 } : { csv: csv?.text ?? '' };
      setResult(await post<Simulation>('/simulate', { config, trace }));
    } catch (e) {
      setResult(undefined);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" aria-labelledby="replay">
      <h2 id="replay">What would it cost?</h2>
      <p className="help">Replays a trace of tasks through this config (as edited), the running one and ClearML&apos;s policy, with the same simulator as <code>flotilla simulate</code>.</p>
      <fieldset className="inline">
        <legend>Trace</legend>
        <label><input type="radio" name="trace" checked={source === 'csv'} onChange={() => setSource('csv')} /> Upload a CSV</label>
        <label><input type="radio" name="trace" checked={source === 'app'} disabled={!app} onChange={() => setSource('app')} /> This app&apos;s last 7 days{app ? '' : ' (after it is applied)'}</label>
      </fieldset>
      {source === 'csv' && (
        <Field label="Trace file (CSV)" help="Columns job_id, submission_time (s), duration (s), num_gpu, and optionally queue: what `flotilla simulate` reads">
          {(id, d) => <input id={id} aria-describedby={d} type="file" accept=".csv,text/csv"
            onChange={async (e) => { const f = e.target.files?.[0]; setCsv(f ? { name: f.name, text: await f.text() } : undefined); }} />}
        </Field>
      )}
      <button type="button" onClick={() => void run()} disabled={busy || (source === 'csv' && !csv)}>{busy ? 'Replaying…' : 'Replay'}</button>
      <ErrorLine error={error} />
      {result && <p className="muted">{result.jobs ?? result.edited.jobs ?? '?'} jobs replayed{result.edited.skippedJobs ? `, ${result.edited.skippedJobs} skipped (no queue of this app takes them)` : ''}.</p>}
      {result && <Figures result={result} />}
    </section>
  );
}

function Figures({ result }: { result: Simulation }) {
  const rows: [string, (f: PolicyFigures) => string][] = [
    ['Cost', (f) => usd(f.cost)],
    ['Floor (the least any policy could pay)', (f) => usd(f.floor)],
    ['Cost / floor', (f) => `${num(f.costRatio, 2)}×`],
    ['Wait p50', (f) => duration(f.waitP50)],
    ['Wait p95', (f) => duration(f.waitP95)],
    ['Wait p99', (f) => duration(f.waitP99)],
    ['Idle instance-hours', (f) => num(f.idleInstanceHours)],
    ['Launches', (f) => String(f.launches)],
  ];
  const shown = POLICIES.filter((p) => result[p.key]);
  const withSeries = shown.filter((p) => result[p.key]!.series?.length);
  const x = withSeries.length ? result[withSeries[0].key]!.series!.map((s) => s.t / 3600) : [];
  const series: Series[] = withSeries.flatMap((p) => [
    { label: `${p.label}: instances`, color: p.color, scale: 'instances', values: x.map((_, i) => result[p.key]!.series![i]?.instances ?? null) },
    { label: `${p.label}: $/h`, color: p.color, dash: true, scale: '$/h', values: x.map((_, i) => result[p.key]!.series![i]?.dollarsPerHour ?? null) },
  ]);
  return (
    <>
      <div className="scroll">
        <table className="figures" data-testid="replay-figures">
          <caption>Replay results</caption>
          <thead><tr><th scope="col">Figure</th>{shown.map((p) => <th scope="col" key={p.key}>{p.label}</th>)}</tr></thead>
          <tbody>
            {rows.map(([label, f]) => <tr key={label}><th scope="row">{label}</th>{shown.map((p) => <td key={p.key} className="n">{f(result[p.key]!)}</td>)}</tr>)}
          </tbody>
        </table>
      </div>
      {x.length > 0 && <Chart title="Instances (solid) and $/h (dashed) over the replay" x={x} series={series} xLabel="hours into the trace" />}
    </>
  );
}
