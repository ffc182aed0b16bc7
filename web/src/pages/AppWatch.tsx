// Watch an app: its instances (drain, terminate, stop the idle ones), a chart of instances by state, waiting
// tasks and $/h over the last hour or day, and its decision journal with filters.
import { useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { enc, get, post } from '../api';
import type { Decision, HistoryPoint, Instance } from '../types';
import { Chart, type Series } from '../ui/Chart';
import { Decisions } from '../ui/Decisions';
import { ErrorLine, Field } from '../ui/Field';
import { duration, usd } from '../ui/format';

const STATE_COLORS: Record<string, string> = {
  requested: '#607d8b', booting: '#b26a00', ready: '#2e7d32', terminating: '#6d4c41', failed: '#c62828',
};
/** The journal's filters, as a person thinks of them, over the reconciler's decision kinds. */
const FILTERS: Record<string, string[]> = {
  launch: ['launch', 'adopt'],
  stop: ['drain', 'terminate', 'terminate-all', 'orphan-terminated', 'boot-timeout', 'worker-exited', 'worker-lost', 'instance-lost'],
  refuse: ['refuse', 'wait', 'stop-skipped'],
  'capacity errors': ['capacity-error', 'launch-failed'],
};

export default function AppWatch() {
  const { name = '' } = useParams();
  const client = useQueryClient();
  const instances = useQuery({ queryKey: ['instances', name], queryFn: () => get<{ instances: Instance[] }>(`/autoscalers/${enc(name)}/instances`) });
  const act = useMutation({
    mutationFn: ({ path }: { path: string }) => post(`/autoscalers/${enc(name)}${path}`),
    onSuccess: () => client.invalidateQueries({ queryKey: ['instances', name] }),
  });
  return (
    <>
      <p className="crumbs"><Link to="/apps">Autoscaler apps</Link></p>
      <h1>{name}</h1>
      <div className="actions">
        <Link className="button" to={`/apps/${enc(name)}/edit`}>Edit</Link>
        <button type="button" onClick={() => act.mutate({ path: '/stop-idle' })}>Stop idle instances now</button>
      </div>
      <ErrorLine error={act.error} />
      <section aria-labelledby="instances">
        <h2 id="instances">Instances</h2>
        <ErrorLine error={instances.error} />
        {instances.data && (instances.data.instances.length === 0 ? <p className="muted" data-testid="no-instances">No instances: nothing waits, or the app has not launched yet.</p> : (
          <div className="scroll">
            <table data-testid="instances">
              <thead><tr>{['Instance', 'State', 'Resource', 'Zone', 'Market', '$/h', 'Age', 'Worker', 'Task', 'Idle stop in', 'Cost so far'].map((h) => <th scope="col" key={h}>{h}</th>)}<th scope="col"><span className="sr">Actions</span></th></tr></thead>
              <tbody>
                {instances.data.instances.map((i) => (
                  <tr key={i.id}>
                    <td><code>{i.id}</code></td>
                    <td><span className={`state state-${i.state}`}>{i.state}</span>{i.draining ? ' draining' : i.requested ? ` (${i.requested} requested)` : ''}</td>
                    <td>{i.resource}</td>
                    <td>{i.zone ?? '—'}</td>
                    <td>{i.market ?? '—'}</td>
                    <td className="n">{usd(i.price ?? i.pricePerHour, 3)}</td>
                    <td className="n">{duration(i.ageS ?? (i.launchedAt ? (Date.now() - i.launchedAt) / 1000 : null))}</td>
                    <td>{i.worker ?? '—'}</td>
                    <td>{i.task ? <Link to={`/tasks/${enc(i.task)}`}>{i.task.slice(0, 8)}</Link> : '—'}</td>
                    <td className="n">{duration(i.idleCountdownS)}</td>
                    <td className="n">{usd(i.costSoFar, 4)}</td>
                    <td className="row-actions">
                      <button type="button" aria-label={`Drain ${i.id}`} onClick={() => act.mutate({ path: `/instances/${enc(i.id)}/drain` })}>Drain</button>
                      <button type="button" className="danger" aria-label={`Terminate ${i.id}`}
                        onClick={() => confirm(`Terminate ${i.id}? A task on it goes back to its queue.`) && act.mutate({ path: `/instances/${enc(i.id)}/terminate` })}>Terminate</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </section>
      <History name={name} />
      <Journal name={name} />
    </>
  );
}

function History({ name }: { name: string }) {
  const [window, setWindow] = useState<'1h' | '1d'>('1h');
  const h = useQuery({ queryKey: ['history', name, window], queryFn: () => get<{ samples: HistoryPoint[] } | HistoryPoint[]>(`/autoscalers/${enc(name)}/history?window=${window}`) });
  const points = h.data ? (Array.isArray(h.data) ? h.data : h.data.samples) : [];
  const { x, series } = useMemo(() => {
    const states = [...new Set(points.flatMap((p) => Object.keys(p.byState)))];
    const x = points.map((p) => p.at / 1000);
    const series: Series[] = [
      ...states.map((s) => ({ label: s, color: STATE_COLORS[s] ?? '#555', values: points.map((p) => p.byState[s] ?? 0), scale: 'count' })),
      { label: 'waiting tasks', color: '#000', dash: true, values: points.map((p) => p.waiting), scale: 'count' },
      { label: '$/h', color: '#c62828', values: points.map((p) => p.dollarsPerHour), scale: '$/h' },
    ];
    return { x, series };
  }, [points]);
  return (
    <section aria-labelledby="history">
      <h2 id="history">History</h2>
      <div role="group" aria-label="Time window" className="tabs">
        <button type="button" aria-pressed={window === '1h'} onClick={() => setWindow('1h')}>Last hour</button>
        <button type="button" aria-pressed={window === '1d'} onClick={() => setWindow('1d')}>Last day</button>
      </div>
      <ErrorLine error={h.error} />
      {points.length > 1 ? <Chart title={`Instances by state, waiting tasks and $/h, last ${window === '1h' ? 'hour' : 'day'}`} x={x} series={series} />
        : h.isSuccess && <p className="muted">Not enough history yet: the control plane records a sample every 30 s.</p>}
    </section>
  );
}

function Journal({ name }: { name: string }) {
  const [kind, setKind] = useState('');
  const [queue, setQueue] = useState('');
  const j = useQuery({ queryKey: ['decisions', name], queryFn: () => get<{ decisions: Decision[] }>(`/autoscalers/${enc(name)}/decisions?limit=200`) });
  const rows = (j.data?.decisions ?? []).filter((d) => (!kind || FILTERS[kind].includes(d.kind))
    && (!queue || (d.queue ?? '').includes(queue)));
  return (
    <section aria-labelledby="journal">
      <h2 id="journal">Decision journal</h2>
      <form className="inline filters" aria-label="Filter decisions" onSubmit={(e) => e.preventDefault()}>
        <Field label="Kind">
          {(id) => <select id={id} value={kind} onChange={(e) => setKind(e.target.value)}><option value="">all</option>{Object.keys(FILTERS).map((k) => <option key={k}>{k}</option>)}</select>}
        </Field>
        <Field label="Queue contains">
          {(id) => <input id={id} value={queue} onChange={(e) => setQueue(e.target.value)} />}
        </Field>
      </form>
      <ErrorLine error={j.error} />
      <Decisions rows={rows} showApp={false} caption={`Decisions of ${name}, newest first`} />
    </section>
  );
}
