// Create and delete queues; each row links to its tasks.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { del, enc, get, post } from '../api';
import { ErrorLine, Field } from '../ui/Field';
import { DangerButton, Head } from '../ui/Table';

interface QueueInfo { name: string; createdAt: number; queued: number; running: number }

export default function Queues() {
  const client = useQueryClient();
  const q = useQuery({ queryKey: ['queues'], queryFn: () => get<{ queues: QueueInfo[] }>('/queues') });
  const [name, setName] = useState('');
  const refresh = () => client.invalidateQueries({ queryKey: ['queues'] });
  const create = useMutation({ mutationFn: (n: string) => post('/queues', { name: n }), onSuccess: () => { setName(''); refresh(); } });
  const remove = useMutation({ mutationFn: (n: string) => del(`/queues/${enc(n)}`), onSuccess: refresh });
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(name.trim()); };
  return (
    <>
      <h1>Queues</h1>
      <form className="inline" onSubmit={submit}>
        <Field label="New queue name" help='Letters, digits, "_", "." and "-"' error={create.error?.message}>
          {(id, d) => <input id={id} aria-describedby={d} value={name} onChange={(e) => setName(e.target.value)} required />}
        </Field>
        <button type="submit" disabled={create.isPending}>Create queue</button>
      </form>
      <ErrorLine error={remove.error} />
      {q.isError && <ErrorLine error={q.error} />}
      {q.data && (q.data.queues.length === 0 ? <p className="muted">No queues yet.</p> : (
        <div className="scroll">
          <table>
            <Head cols={['Queue', 'Waiting', 'Running']} actions />
            <tbody>
              {q.data.queues.map((x) => (
                <tr key={x.name}>
                  <td><Link to={`/tasks?queue=${enc(x.name)}`}>{x.name}</Link></td>
                  <td className="n">{x.queued}</td>
                  <td className="n">{x.running}</td>
                  <td><DangerButton label="Delete" what={`queue ${x.name}`} question={`Delete queue "${x.name}"? Only an empty queue can be deleted.`} onConfirm={() => remove.mutate(x.name)} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
}
