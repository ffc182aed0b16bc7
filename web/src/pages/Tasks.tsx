// Tasks filtered by queue and status, a page at a time (the store may hold many thousands), and a form to
// enqueue new ones.
import { useState, type FormEvent } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router-dom';
import { ApiError, get, post } from '../api';
import type { Task } from '../types';
import { since } from '../ui/format';
import { ErrorLine, Field } from '../ui/Field';

const STATUSES = ['queued', 'scheduled', 'running', 'completed', 'failed', 'aborted'];
const PAGE = 50;

export default function Tasks() {
  const [params, setParams] = useSearchParams();
  const queue = params.get('queue') ?? '';
  const status = params.get('status') ?? '';
  const offset = Number(params.get('offset') ?? 0);
  const cursor = params.get('cursor') ?? '';
  const queues = useQuery({ queryKey: ['queues'], queryFn: () => get<{ queues: { name: string }[] }>('/queues') });
  const search = new URLSearchParams({ limit: String(PAGE) });
  if (queue) search.set('queue', queue);
  if (status) search.set('status', status);
  if (cursor) search.set('cursor', cursor); else if (offset) search.set('offset', String(offset));
  const tasks = useQuery({
    queryKey: ['tasks', queue, status, offset, cursor],
    queryFn: () => get<{ tasks: Task[]; nextCursor?: string | null }>(`/tasks?${search}`),
    placeholderData: keepPreviousData,
  });
  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) if (v) next.set(k, v); else next.delete(k);
    setParams(next);
  };
  const rows = tasks.data?.tasks ?? [];
  const hasNext = tasks.data?.nextCursor ? true : rows.length === PAGE;
  const nextPage = () => (tasks.data?.nextCursor
    ? set({ cursor: tasks.data.nextCursor, offset: String(offset + PAGE) })
    : set({ offset: String(offset + PAGE), cursor: '' }));
  return (
    <>
      <h1>Tasks</h1>
      <Enqueue queues={queues.data?.queues.map((x) => x.name) ?? []} initialQueue={queue} />
      <form className="inline filters" aria-label="Filter tasks" onSubmit={(e) => e.preventDefault()}>
        <Field label="Queue">
          {(id) => (
            <select id={id} value={queue} onChange={(e) => set({ queue: e.target.value, offset: '', cursor: '' })}>
              <option value="">all queues</option>
              {queues.data?.queues.map((x) => <option key={x.name}>{x.name}</option>)}
            </select>
          )}
        </Field>
        <Field label="Status">
          {(id) => (
            <select id={id} value={status} onChange={(e) => set({ status: e.target.value, offset: '', cursor: '' })}>
              <option value="">any status</option>
              {STATUSES.map((s) => <option key={s}>{s}</option>)}
            </select>
          )}
        </Field>
      </form>
      <ErrorLine error={tasks.error} />
      {rows.length === 0 && tasks.isSuccess ? <p className="muted">No tasks match.</p> : (
        <div className="scroll">
          <table>
            <thead><tr><th scope="col">Task</th><th scope="col">Queue</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Worker</th><th scope="col">Created</th></tr></thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id}>
                  <td><Link to={`/tasks/${encodeURIComponent(t.id)}`}>{t.name || t.id}</Link></td>
                  <td>{t.queue}</td>
                  <td><span className={`status status-${t.status}`}>{t.status}</span></td>
                  <td className="n">{t.attempts}/{t.maxAttempts}</td>
                  <td>{t.workerId ?? '—'}</td>
                  <td>{since(t.createdAt)} ago</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={offset === 0} onClick={() => set({ offset: offset - PAGE > 0 ? String(offset - PAGE) : '', cursor: '' })}>Previous</button>
        <span>{rows.length ? `${offset + 1}–${offset + rows.length}` : ''}</span>
        <button type="button" disabled={!hasNext} onClick={nextPage}>Next</button>
      </nav>
    </>
  );
}

function Enqueue({ queues, initialQueue }: { queues: string[]; initialQueue: string }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [queue, setQueue] = useState(initialQueue);
  const [command, setCommand] = useState('');
  const [name, setName] = useState('');
  const [count, setCount] = useState(1);
  const create = useMutation({
    mutationFn: () => {
      const one = { queue: queue || queues[0], command, ...(name ? { name } : {}) };
      return count === 1 ? post('/tasks', one) : post('/tasks/batch', { tasks: Array.from({ length: count }, () => one) });
    },
    onSuccess: () => { setCommand(''); client.invalidateQueries({ queryKey: ['tasks'] }); },
  });
  const issue = (f: string) => (create.error instanceof ApiError ? create.error.issues.find((i) => i.field.endsWith(f))?.message : undefined);
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  if (!open) return <p><button type="button" onClick={() => setOpen(true)}>Enqueue a task…</button></p>;
  return (
    <form className="panel" onSubmit={submit} aria-label="Enqueue a task">
      <h2>Enqueue a task</h2>
      <div className="grid">
        <Field label="Queue" error={issue('queue')}>
          {(id, d) => (
            <select id={id} aria-describedby={d} value={queue || queues[0] || ''} onChange={(e) => setQueue(e.target.value)} required>
              {queues.map((x) => <option key={x}>{x}</option>)}
            </select>
          )}
        </Field>
        <Field label="Name (optional)" error={issue('name')}>
          {(id, d) => <input id={id} aria-describedby={d} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="How many" help="Up to 1000, all queued or none">
          {(id, d) => <input id={id} aria-describedby={d} type="number" min={1} max={1000} value={count} onChange={(e) => setCount(Math.max(1, Number(e.target.value) || 1))} />}
        </Field>
      </div>
      <Field label="Command" help="Run by the worker's shell, e.g. python train.py --epochs 3" error={issue('command')}>
        {(id, d) => <textarea id={id} aria-describedby={d} rows={2} value={command} onChange={(e) => setCommand(e.target.value)} required />}
      </Field>
      {create.isError && !(create.error instanceof ApiError && create.error.issues.length) && <ErrorLine error={create.error} />}
      {create.isSuccess && <p role="status" className="ok">Queued.</p>}
      <div className="actions">
        <button type="submit" disabled={create.isPending || !queues.length}>Enqueue</button>
        <button type="button" className="secondary" onClick={() => setOpen(false)}>Close</button>
      </div>
    </form>
  );
}
