// Autoscaler apps: each with its provider, queues and links to watch, edit or clone it.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { del, enc, get } from '../api';
import { ErrorLine } from '../ui/Field';
import { time } from '../ui/format';
import { DangerButton, Head } from '../ui/Table';

interface AppCfg { name: string; provider: { kind: string }; queues: Record<string, string[]>; resources: { name: string }[]; updatedAt?: number }

export default function Apps() {
  const client = useQueryClient();
  const apps = useQuery({ queryKey: ['apps'], queryFn: () => get<{ apps: AppCfg[] }>('/autoscalers') });
  const remove = useMutation({
    mutationFn: (n: string) => del(`/autoscalers/${enc(n)}`),
    onSuccess: () => client.invalidateQueries({ queryKey: ['apps'] }),
  });
  return (
    <>
      <h1>Autoscaler apps</h1>
      <p><Link className="button primary" to="/apps/new">New app</Link></p>
      <ErrorLine error={apps.error ?? remove.error} />
      {apps.data && (apps.data.apps.length === 0 ? <p className="muted">No apps yet: an app starts and stops machines for its queues.</p> : (
        <div className="scroll">
          <table>
            <Head cols={['App', 'Provider', 'Queues', 'Resources', 'Changed']} actions />
            <tbody>
              {apps.data.apps.map((a) => (
                <tr key={a.name}>
                  <td><Link to={`/apps/${enc(a.name)}`}>{a.name}</Link></td>
                  <td>{a.provider.kind}</td>
                  <td>{Object.keys(a.queues).join(', ')}</td>
                  <td>{a.resources.map((r) => r.name).join(', ')}</td>
                  <td>{time(a.updatedAt)}</td>
                  <td className="row-actions">
                    <Link to={`/apps/${enc(a.name)}/edit`} aria-label={`Edit ${a.name}`}>Edit</Link>
                    <Link to={`/apps/new?from=${enc(a.name)}`} aria-label={`Clone ${a.name}`}>Clone</Link>
                    <DangerButton label="Delete" what={a.name} question={`Delete app "${a.name}"? Its instances are stopped and their tasks go back to their queues.`} onConfirm={() => remove.mutate(a.name)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
}
