// One task: its spec, attempts, worker, exit code, why it waits, its live log; abort it or run it again.
import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { enc, get, post } from '../api';
import type { LogLine, Task } from '../types';
import { duration, time } from '../ui/format';
import { ErrorLine } from '../ui/Field';

const FINAL = ['completed', 'failed', 'aborted'];

export default function TaskPage() {
  const { id = '' } = useParams();
  const client = useQueryClient();
  const navigate = useNavigate();
  const task = useQuery({ queryKey: ['task', id], queryFn: () => get<Task>(`/tasks/${enc(id)}`) });
  const why = useQuery({
    queryKey: ['why', id], queryFn: () => get<{ why: string }>(`/tasks/${enc(id)}/why`),
    enabled: task.data?.status === 'queued',
  });
  const abort = useMutation({ mutationFn: () => post<Task>(`/tasks/${enc(id)}/abort`), onSuccess: (t) => client.setQueryData(['task', id], t) });
  const rerun = useMutation({ mutationFn: () => post<Task>(`/tasks/${enc(id)}/rerun`), onSuccess: (t) => navigate(`/tasks/${enc(t.id)}`) });
  if (task.isPending) return <p role="status">Loading…</p>;
  if (task.isError) return <><h1>Task {id}</h1><ErrorLine error={task.error} /><p><Link to="/tasks">All tasks</Link></p></>;
  const t = task.data;
  const final = FINAL.includes(t.status);
  return (
    <>
      <p className="crumbs"><Link to={`/tasks?queue=${enc(t.queue)}`}>Tasks in {t.queue}</Link></p>
      <h1>{t.name || t.id} <span className={`status status-${t.status}`}>{t.status}</span></h1>
      <div className="actions">
        <button type="button" className="danger" disabled={final || abort.isPending || t.abortRequested} onClick={() => abort.mutate()}>
          {t.abortRequested && !final ? 'Aborting…' : 'Abort'}
        </button>
        <button type="button" disabled={rerun.isPending} onClick={() => rerun.mutate()}>Run again</button>
      </div>
      <ErrorLine error={abort.error ?? rerun.error} />
      {t.status === 'queued' && (
        <section aria-labelledby="why" className="panel">
          <h2 id="why">Why it waits</h2>
          {why.isError ? <ErrorLine error={why.error} /> : <p className="pre">{why.data?.why ?? 'Asking the planner…'}</p>}
        </section>
      )}
      <dl className="facts">
        <dt>Id</dt><dd><code>{t.id}</code></dd>
        <dt>Queue</dt><dd>{t.queue}</dd>
        <dt>Attempts</dt><dd>{t.attempts} of {t.maxAttempts}</dd>
        <dt>Worker</dt><dd>{t.workerId ?? '—'}</dd>
        <dt>Exit code</dt><dd>{t.exitCode ?? '—'}</dd>
        <dt>Message</dt><dd>{t.statusMessage ?? '—'}</dd>
        <dt>Created</dt><dd>{time(t.createdAt)}</dd>
        <dt>Started</dt><dd>{time(t.startedAt)}</dd>
        <dt>Ran for</dt><dd>{t.startedAt ? <RanFor startedAt={t.startedAt} endedAt={t.endedAt} /> : '—'}</dd>
      </dl>
      <section aria-labelledby="spec">
        <h2 id="spec">Spec</h2>
        <pre className="code">{JSON.stringify(t.spec, null, 2)}</pre>
      </section>
      <section aria-labelledby="log">
        <h2 id="log">Log</h2>
        <Log id={id} />
      </section>
    </>
  );
}

/** How long the task has run; ticks each second while it runs (nothing else re-renders the page then). */
function RanFor({ startedAt, endedAt }: { startedAt: number; endedAt?: number | null }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (endedAt) return;
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, [endedAt]);
  return <>{duration(((endedAt ?? now) - startedAt) / 1000)}</>;
}

/** Follows the log: long-polls for lines after the last one until the task has ended. */
function Log({ id }: { id: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState<'following' | 'ended' | string>('following');
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    let stopped = false;
    setLines([]);
    (async () => {
      let after = 0;
      let failures = 0;
      while (!stopped) {
        try {
          const page = await get<{ lines: LogLine[]; next: number; done: boolean }>(`/tasks/${enc(id)}/logs?after=${after}&limit=1000&waitMs=25000`);
          if (stopped) return;
          failures = 0;
          if (page.lines.length) setLines((old) => [...old, ...page.lines].slice(-5000));
          after = page.next;
          if (page.done && !page.lines.length) { setState('ended'); return; }
          setState('following');
        } catch (e) {
          if (stopped) return;
          setState(`cannot read the log (${(e as Error).message}); retrying`);
          await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** failures++, 10_000)));
        }
      }
    })();
    return () => { stopped = true; };
  }, [id]);
  useEffect(() => {
    const el = box.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <>
      <p className="muted" role="status">{state === 'following' ? 'Following: new lines appear as they come.' : state === 'ended' ? 'The task has ended; this is its whole log.' : state}</p>
      <pre ref={box} className="log" tabIndex={0} aria-label="Task log" data-testid="log">
        {lines.length === 0 ? <span className="muted">No lines yet.</span> : lines.map((l) => (
          <div key={l.seq} className={`line ${l.stream}`}>{l.text}</div>
        ))}
      </pre>
    </>
  );
}
