// The Kubernetes glue: the queues it serves, its pods by phase, why pods are pending, and its journal.
import { Link } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { enc, get } from '../api';
import type { Decision } from '../types';
import { Decisions } from '../ui/Decisions';
import { ErrorLine } from '../ui/Field';

interface GlueQueue { name: string; waiting: number; podsByPhase: Record<string, number>; pending: { task: string; reason: string | null }[] }
interface K8sOverview { queues: GlueQueue[]; journal: Decision[] }

export default function K8s() {
  const q = useQuery({ queryKey: ['k8s'], queryFn: () => get<K8sOverview>('/k8s/overview') });
  const phases: Record<string, number> = {};
  for (const x of q.data?.queues ?? []) for (const [p, n] of Object.entries(x.podsByPhase)) phases[p] = (phases[p] ?? 0) + n;
  const pending = (q.data?.queues ?? []).flatMap((x) => x.pending.map((p) => ({ ...p, queue: x.name })));
  return (
    <>
      <h1>Kubernetes glue</h1>
      <p className="help">The glue turns queued tasks into pods in a cluster (<code>flotilla k8s-glue</code>); this is what it sees and decides.</p>
      <ErrorLine error={q.error} />
      {q.data && (
        <>
          <div className="cards">
            {Object.entries(phases).map(([p, n]) => <div className="card" key={p}><span className="big">{n}</span> pods {p.toLowerCase()}</div>)}
          </div>
          <section aria-labelledby="k8s-queues">
            <h2 id="k8s-queues">Queues it serves</h2>
            {q.data.queues.length === 0 ? <p className="muted">No glue has journaled anything yet: start one with <code>flotilla k8s-glue</code>.</p> : (
              <div className="scroll">
                <table>
                  <thead><tr><th scope="col">Queue</th><th scope="col">Waiting</th>{Object.keys(phases).map((p) => <th scope="col" key={p}>{p}</th>)}</tr></thead>
                  <tbody>
                    {q.data.queues.map((x) => (
                      <tr key={x.name}><td><Link to={`/tasks?queue=${enc(x.name)}`}>{x.name}</Link></td><td className="n">{x.waiting}</td>
                        {Object.keys(phases).map((p) => <td className="n" key={p}>{x.podsByPhase[p] ?? 0}</td>)}</tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section aria-labelledby="k8s-pending">
            <h2 id="k8s-pending">Why pods are pending</h2>
            {pending.length === 0 ? <p className="muted">No pod is pending.</p> : (
              <ul>{pending.map((p) => <li key={p.task}><Link to={`/tasks/${enc(p.task)}`}>{p.task.slice(0, 8)}</Link> ({p.queue}): {p.reason ?? 'waiting to be scheduled'}</li>)}</ul>
            )}
          </section>
          <section aria-labelledby="k8s-journal">
            <h2 id="k8s-journal">Journal</h2>
            <Decisions rows={q.data.journal} showApp={false} caption="The glue's decisions, newest first" />
          </section>
        </>
      )}
    </>
  );
}
