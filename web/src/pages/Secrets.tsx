// Secrets (admin only): created and replaced here, never shown again. Apps name them for git and storage access.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, del, enc, get, put } from '../api';
import type { SecretInfo } from '../types';
import { ErrorLine, Field } from '../ui/Field';
import { time } from '../ui/format';
import { DangerButton, Head } from '../ui/Table';

/** The keys each kind holds, to start the rows with (the server checks the value against its kind). */
const STARTING_KEYS: Record<string, string[]> = {
  git: ['username', 'password', 'host'],
  aws: ['accessKeyId', 'secretAccessKey', 'region'],
  gcp: ['serviceAccountJson', 'projectId'],
  generic: [''],
};

export default function Secrets() {
  const client = useQueryClient();
  const list = useQuery({ queryKey: ['secrets'], queryFn: () => get<{ secrets: SecretInfo[] }>('/secrets') });
  const remove = useMutation({ mutationFn: (n: string) => del(`/secrets/${enc(n)}`), onSuccess: () => client.invalidateQueries({ queryKey: ['secrets'] }) });
  return (
    <>
      <h1>Secrets</h1>
      <p className="help">Values are write-only: once saved they are never shown or sent back, only handed to the agents of the apps that name them.</p>
      <NewSecret />
      <ErrorLine error={list.error ?? remove.error} />
      {list.data && (list.data.secrets.length === 0 ? <p className="muted">No secrets yet.</p> : (
        <div className="scroll">
          <table>
            <Head cols={['Name', 'Kind', 'Changed']} actions />
            <tbody>
              {list.data.secrets.map((s) => (
                <tr key={s.name}>
                  <td>{s.name}</td><td>{s.kind}</td><td>{time(s.updatedAt)}</td>
                  <td><DangerButton label="Delete" what={`secret ${s.name}`} question={`Delete secret "${s.name}"?`} onConfirm={() => remove.mutate(s.name)} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
}

function NewSecret() {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [kind, setKind] = useState('git');
  const [rows, setRows] = useState<[string, string][]>(STARTING_KEYS.git.map((k) => [k, '']));
  const [json, setJson] = useState('');
  const save = useMutation({
    mutationFn: () => {
      const value = kind === 'storage' ? JSON.parse(json || '{}') : Object.fromEntries(rows.filter(([k, v]) => k && v));
      return put(`/secrets/${enc(name)}`, { kind, value });
    },
    onSuccess: () => {
      setRows(rows.map(([k]) => [k, '']));
      setJson('');
      client.invalidateQueries({ queryKey: ['secrets'] });
    },
  });
  const pickKind = (k: string) => { setKind(k); setRows((STARTING_KEYS[k] ?? ['']).map((x) => [x, ''])); };
  const issues = save.error instanceof ApiError ? save.error.issues : [];
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(); };
  return (
    <form className="panel" onSubmit={submit} aria-label="New secret">
      <h2>New or replaced secret</h2>
      <div className="grid">
        <Field label="Secret name">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} required />}</Field>
        <Field label="Kind" help="git: clone credentials; storage: bucket access; aws / gcp: cloud credentials">
          {(id, d) => <select id={id} aria-describedby={d} value={kind} onChange={(e) => pickKind(e.target.value)}>{['git', 'storage', 'aws', 'gcp', 'generic'].map((k) => <option key={k}>{k}</option>)}</select>}
        </Field>
      </div>
      {kind === 'storage' ? (
        <Field label="Value (JSON)" help='e.g. {"aws": {"accessKeyId": "…", "secretAccessKey": "…"}}'>
          {(id, d) => <textarea id={id} aria-describedby={d} className="code" rows={5} value={json} onChange={(e) => setJson(e.target.value)} autoComplete="off" spellCheck={false} />}
        </Field>
      ) : rows.map(([k, v], i) => (
        <div className="grid" key={i}>
          <Field label={`Key ${i + 1}`}>{(id) => <input id={id} value={k} onChange={(e) => setRows(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} />}</Field>
          <Field label={`Value ${i + 1}`} error={issues.find((x) => x.field.endsWith(k))?.message}>
            {(id, d) => <input id={id} aria-describedby={d} type="password" autoComplete="new-password" value={v} onChange={(e) => setRows(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))} />}
          </Field>
        </div>
      ))}
      {kind !== 'storage' && <button type="button" className="secondary" onClick={() => setRows([...rows, ['', '']])}>Add key</button>}
      <ErrorLine error={save.error && !issues.length ? save.error : issues.map((x) => `${x.field}: ${x.message}`).join('; ')} />
      {save.isSuccess && <p className="ok" role="status">Saved. The value is not shown again.</p>}
      <div className="actions"><button type="submit" className="primary" disabled={!name || save.isPending}>Save secret</button></div>
    </form>
  );
}
