// The Kubernetes glue: the queues it serves, its pods by phase, why pods are pending, and its journal.
import { useQuery } from '@tanstack/react-query';
import { get } from '../api';
import type { Decision } from '../types';
import { Decisions } from '../ui/Decisions';
import { ErrorLine } from '../ui/Field';

interface K8sOverview {
  queues: ({ name: string; waiting?: number; running?: number } | string)[];
  podsByPhase: Record<string, number>;
  pendingReasons: ({ reason: string; count?: number; pod?: string } | string)[];
  journal?: Decision[];
  decisions?: Decision[];
}

export default function K8s() {
  const q = useQuery({ queryKey: ['k8s'], queryFn: () => get<K8sOverview>('/k8s/overview') });
  return (
    <>
      <h1>Kubernetes glue</h1>
      <p className="help">The glue turns queued tasks into pods in a cluster (<code>flotilla k8s-glue</code>); this is what it sees and decides.</p>
      <ErrorLine error={q.error} />
      {q.data && (
        <>
          <section aria-labelledby="k8s-queues">
            <h2 id="k8s-queues">Queues it serves</h2>
            {q.data.queues.length === 0 ? <p className="muted">No glue is running, or it serves no queue yet.</p> : (
              <ul className="tags">{q.data.queues.map((x) => {
                const row = typeof x === 'string' ? { name: x } : x;
                return <li key={row.name}>{row.name}{row.waiting !== undefined ? ` (${row.waiting} waiting, ${row.running ?? 0} running)` : ''}</li>;
              })}</ul>
            )}
          </section>
          <section aria-labelledby="k8s-pods">
            <h2 id="k8s-pods">Pods by phase</h2>
            {Object.keys(q.data.podsByPhase ?? {}).length === 0 ? <p className="muted">No pods.</p> : (
              <div className="cards">{Object.entries(q.data.podsByPhase).map(([p, n]) => <div className="card" key={p}><span className="big">{n}</span> {p}</div>)}</div>
            )}
          </section>
          <section aria-labelledby="k8s-pending">
            <h2 id="k8s-pending">Why pods are pending</h2>
            {(q.data.pendingReasons ?? []).length === 0 ? <p className="muted">No pod is pending.</p> : (
              <ul>{q.data.pendingReasons.map((r, i) => {
                const row = typeof r === 'string' ? { reason: r } : r;
                return <li key={i}>{row.reason}{row.count ? ` (×${row.count})` : ''}{row.pod ? ` — ${row.pod}` : ''}</li>;
              })}</ul>
            )}
          </section>
          <section aria-labelledby="k8s-journal">
            <h2 id="k8s-journal">Journal</h2>
            <Decisions rows={q.data.journal ?? q.data.decisions ?? []} showApp={false} caption="The glue's decisions, newest first" />
          </section>
        </>
      )}
    </>
  );
}
