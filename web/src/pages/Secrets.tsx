// Secrets (admin only): created and replaced here, never shown again. Apps name them for git and storage access.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, del, enc, get, put } from '../api';
import type { JsonSchema, SecretInfo } from '../types';
import { labelOf } from '../form/SchemaForm';
import { ErrorLine, Field } from '../ui/Field';
import { time } from '../ui/format';
import { DangerButton, Head } from '../ui/Table';

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

/** A kind's own keys when each is a plain string (git, aws, gcp, clearml); none for a free map or nested JSON (storage). */
function flatKeys(schema?: JsonSchema): string[] | undefined {
  const props = Object.entries(schema?.properties ?? {});
  return props.length && props.every(([, p]) => p.type === 'string') ? props.map(([k]) => k) : undefined;
}

/** The form of a secret's value comes from GET /api/v1/secret-kinds: the schemas a write is checked with. */
function NewSecret() {
  const client = useQueryClient();
  const kinds = useQuery({ queryKey: ['secret-kinds'], queryFn: () => get<{ kinds: Record<string, JsonSchema> }>('/secret-kinds'), staleTime: Infinity });
  const [name, setName] = useState('');
  const [kind, setKind] = useState('git');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [rows, setRows] = useState<[string, string][]>([['', '']]);
  const [json, setJson] = useState('');
  const schema = kinds.data?.kinds[kind];
  const keys = flatKeys(schema);
  const free = !keys && !schema?.properties;
  const save = useMutation({
    mutationFn: () => {
      const value = keys ? Object.fromEntries(Object.entries(fields).filter(([k, v]) => keys.includes(k) && v))
        : free ? Object.fromEntries(rows.filter(([k, v]) => k && v)) : JSON.parse(json || '{}');
      return put(`/secrets/${enc(name)}`, { kind, value });
    },
    onSuccess: () => {
      setFields({});
      setRows(rows.map(([k]) => [k, '']));
      setJson('');
      client.invalidateQueries({ queryKey: ['secrets'] });
    },
  });
  const pickKind = (k: string) => { setKind(k); setFields({}); setRows([['', '']]); setJson(''); };
  const issues = save.error instanceof ApiError ? save.error.issues : [];
  const issueAt = (k: string) => issues.find((x) => x.field === `value.${k}` || x.field.endsWith(`.${k}`))?.message;
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(); };
  return (
    <form className="panel" onSubmit={submit} aria-label="New secret">
      <h2>New or replaced secret</h2>
      <ErrorLine error={kinds.error} />
      <div className="grid">
        <Field label="Secret name">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} required />}</Field>
        <Field label="Kind" help="git: clone credentials; storage: bucket access; aws / gcp: cloud credentials; clearml: a ClearML server's key pair">
          {(id, d) => <select id={id} aria-describedby={d} value={kind} onChange={(e) => pickKind(e.target.value)}>{Object.keys(kinds.data?.kinds ?? { git: 0 }).map((k) => <option key={k}>{k}</option>)}</select>}
        </Field>
      </div>
      {keys ? (
        <div className="grid">
          {keys.map((k) => (
            <Field key={`${kind}.${k}`} label={labelOf(k)} help={[schema?.properties?.[k].description, schema?.required?.includes(k) ? '' : 'optional'].filter(Boolean).join('; ') || undefined} error={issueAt(k)}>
              {(id, d) => <input id={id} aria-describedby={d} type="password" autoComplete="new-password" value={fields[k] ?? ''} required={schema?.required?.includes(k)}
                onChange={(e) => setFields({ ...fields, [k]: e.target.value })} />}
            </Field>
          ))}
        </div>
      ) : !free ? (
        <Field label="Value (JSON)" help={[schema?.description, `keys: ${Object.keys(schema?.properties ?? {}).join(', ')}`, 'e.g. {"aws": {"accessKeyId": "…", "secretAccessKey": "…"}}'].filter(Boolean).join('; ')}>
          {(id, d) => <textarea id={id} aria-describedby={d} className="code" rows={5} value={json} onChange={(e) => setJson(e.target.value)} autoComplete="off" spellCheck={false} />}
        </Field>
      ) : rows.map(([k, v], i) => (
        <div className="grid" key={i}>
          <Field label={`Key ${i + 1}`}>{(id) => <input id={id} value={k} onChange={(e) => setRows(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} />}</Field>
          <Field label={`Value ${i + 1}`} error={k ? issueAt(k) : undefined}>
            {(id, d) => <input id={id} aria-describedby={d} type="password" autoComplete="new-password" value={v} onChange={(e) => setRows(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))} />}
          </Field>
        </div>
      ))}
      {free && <button type="button" className="secondary" onClick={() => setRows([...rows, ['', '']])}>Add key</button>}
      <ErrorLine error={save.error && !issues.length ? save.error : issues.filter((x) => !keys?.some((k) => x.field.endsWith(`.${k}`))).map((x) => `${x.field}: ${x.message}`).join('; ')} />
      {save.isSuccess && <p className="ok" role="status">Saved. The value is not shown again.</p>}
      <div className="actions"><button type="submit" className="primary" disabled={!name || save.isPending}>Save secret</button></div>
    </form>
  );
}
