// Journal rows: when, which app/queue, what was decided and why.
import type { Decision } from '../types';
import { time } from './format';

export function Decisions({ rows, showApp = true, caption }: { rows: Decision[]; showApp?: boolean; caption: string }) {
  if (!rows.length) return <p className="muted">No decisions yet.</p>;
  return (
    <div className="scroll">
      <table>
        <caption>{caption}</caption>
        <thead><tr><th scope="col">When</th>{showApp && <th scope="col">App</th>}<th scope="col">Queue</th><th scope="col">Kind</th><th scope="col">Why</th></tr></thead>
        <tbody>
          {rows.map((d) => (
            <tr key={`${d.id}-${d.at}`}>
              <td>{time(d.lastAt ?? d.at)}</td>
              {showApp && <td>{d.app ?? '—'}</td>}
              <td>{d.queue ?? '—'}</td>
              <td><span className={`kind kind-${d.kind}`}>{d.kind}</span></td>
              <td>{d.reason}{d.count && d.count > 1 ? <small className="muted"> (×{d.count})</small> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
