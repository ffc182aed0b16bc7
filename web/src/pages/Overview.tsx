// Everything at a glance: queues and why they do not scale, apps and their money, workers, the latest decisions.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { get } from '../api';
import type { Overview as Data } from '../types';
import { duration, usd } from '../ui/format';
import { Decisions } from '../ui/Decisions';
import { ErrorLine } from '../ui/Field';

export function Overview() {
  const q = useQuery({ queryKey: ['overview'], queryFn: () => get<Data>('/overview') });
  if (q.isPending) return <p role="status">Loading…</p>;
  if (q.isError) return <ErrorLine error={q.error} />;
  const { queues, apps, workers, decisions } = q.data;
  return (
    <>
      <h1>Overview</h1>
      <div className="cards">
        <div className="card"><span className="big">{queues.reduce((s, x) => s + x.waiting, 0)}</span> tasks waiting</div>
        <div className="card"><span className="big">{queues.reduce((s, x) => s + x.running, 0)}</span> running</div>
        <div className="card"><span className="big">{workers.total}</span> workers: {workers.busy} busy, {workers.idle} idle</div>
        <div className="card"><span className="big">{usd(apps.reduce((s, a) => s + a.dollarsPerHour, 0))}</span> per hour</div>
      </div>
      <section aria-labelledby="ov-queues">
        <h2 id="ov-queues">Queues</h2>
        {queues.length === 0 ? <p className="muted">No queues yet. <Link to="/queues">Create one</Link>.</p> : (
          <div className="scroll">
            <table>
              <thead><tr><th scope="col">Queue</th><th scope="col">Waiting</th><th scope="col">Running</th><th scope="col">Oldest wait</th>
                <th scope="col">Wait p50 / p95 (1 h)</th><th scope="col">Not scaling because</th></tr></thead>
              <tbody>
                {queues.map((x) => (
                  <tr key={x.name}>
                    <td><Link to={`/tasks?queue=${encodeURIComponent(x.name)}`}>{x.name}</Link></td>
                    <td className="n">{x.waiting}</td>
                    <td className="n">{x.running}</td>
                    <td className="n">{duration(x.oldestWaitS)}</td>
                    <td className="n">{duration(x.waitP50S)} / {duration(x.waitP95S)}</td>
                    <td className={x.notScaling ? 'warn' : 'muted'}>{x.notScaling ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="ov-apps">
        <h2 id="ov-apps">Autoscaler apps</h2>
        {apps.length === 0 ? <p className="muted">No apps yet. <Link to="/apps/new">Create one</Link>.</p> : (
          <div className="scroll">
            <table>
              <thead><tr><th scope="col">App</th><th scope="col">Provider</th><th scope="col">Instances by state</th><th scope="col">$/h (cap)</th>
                <th scope="col">Today</th><th scope="col">This month</th><th scope="col">Month projection</th></tr></thead>
              <tbody>
                {apps.map((a) => (
                  <tr key={a.name}>
                    <td><Link to={`/apps/${encodeURIComponent(a.name)}`}>{a.name}</Link></td>
                    <td>{a.provider}</td>
                    <td><States byState={a.instancesByState} /></td>
                    <td className="n"><SpendBar rate={a.dollarsPerHour} cap={a.capPerHour} /></td>
                    <td className="n">{usd(a.spendToday)}</td>
                    <td className="n">{usd(a.spendMonth)}</td>
                    <td className="n">{usd(a.monthProjection)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="ov-decisions">
        <h2 id="ov-decisions">Latest decisions</h2>
        <Decisions rows={decisions} caption="The newest decisions of every app" />
      </section>
    </>
  );
}

export function States({ byState }: { byState: Record<string, number> }) {
  const entries = Object.entries(byState).filter(([, n]) => n > 0);
  if (!entries.length) return <span className="muted">none</span>;
  return <span className="states">{entries.map(([s, n]) => <span key={s} className={`state state-${s}`}>{s} {n}</span>)}</span>;
}

function SpendBar({ rate, cap }: { rate: number; cap: number | null }) {
  if (!cap) return <>{usd(rate)} <small className="muted">(no cap)</small></>;
  const pct = Math.min(100, (rate / cap) * 100);
  return (
    <span className="spend">
      {usd(rate)} / {usd(cap)}
      <meter min={0} max={cap} value={rate} aria-label={`${pct.toFixed(0)}% of the $/h cap`} />
    </span>
  );
}
