// Create or edit an autoscaler app with no code: the form (generated from the API's schema), the same app as
// YAML or JSON (import, export, clone), a review (errors beside their fields, the diff against the running app,
// the most it could spend), "check credentials", and what it would cost on a replayed trace.
import { useEffect, useMemo, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { ApiError, enc, errorText, get, post, put } from '../api';
import type { SecretInfo } from '../types';
import { SchemaNode, unplaced, type Errors, type Json } from '../form/SchemaForm';
import { switchProvider, withProvider, type AppSchema } from '../form/providerFields';
import { ErrorLine, Field } from '../ui/Field';
import { usd } from '../ui/format';
import { CostReplay } from './CostReplay';

type Doc = { [k: string]: Json };
interface Review { ok: true; maxSpendPerHour: number | null; diff: { path: string | (string | number)[]; from: unknown; to: unknown }[] }
interface Checks { ok: boolean; checks: { what: string; ok: boolean; message: string }[] }

/** A new app starts runnable on this machine: the local provider, one resource, one queue. */
const STARTER: Doc = {
  name: '',
  provider: { kind: 'local', settings: {} },
  resources: [{ name: 'cpu', instanceType: 'local', pricePerHour: 0.1, maxInstances: 2 }],
  queues: { default: ['cpu'] },
  budget: { maxPerHour: 1 },
};

const issuesToErrors = (e: unknown): Errors =>
  e instanceof ApiError ? Object.fromEntries(e.issues.map((i) => [i.field, i.message])) : {};

export default function AppEditor() {
  const { name } = useParams();
  const [params] = useSearchParams();
  const from = params.get('from');
  const navigate = useNavigate();
  const client = useQueryClient();
  const schema = useQuery({ queryKey: ['schema'], queryFn: () => get<AppSchema>('/autoscaler-schema'), staleTime: Infinity });
  const secrets = useQuery({ queryKey: ['secrets'], queryFn: () => get<{ secrets: SecretInfo[] }>('/secrets'), retry: false });
  const source = name ?? from;
  const existing = useQuery({ queryKey: ['app', source], queryFn: () => get<Doc>(`/autoscalers/${enc(source!)}`), enabled: !!source, staleTime: Infinity });
  const [doc, setDoc] = useState<Doc | null>(source ? null : STARTER);
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<string>();
  const [review, setReview] = useState<{ doc: string; result: Review }>();
  const [applied, setApplied] = useState(false);
  const [checks, setChecks] = useState<Checks>();
  const [busy, setBusy] = useState(false);
  const [view, setView] = useState<'form' | 'yaml' | 'json'>('form');

  useEffect(() => {
    if (existing.data && !doc) {
      const { updatedAt: _u, ...cfg } = existing.data as Doc & { updatedAt?: unknown };
      setDoc(from ? { ...cfg, name: `${String(cfg.name)}-copy` } : cfg);
    }
  }, [existing.data, doc, from]);

  const secretNames = useMemo(() => {
    const out: Record<string, string[]> = {};
    for (const s of secrets.data?.secrets ?? []) (out[s.kind] ??= []).push(s.name);
    return out;
  }, [secrets.data]);

  if (schema.isError) return <ErrorLine error={schema.error} />;
  if (existing.isError) return <><h1>App {source}</h1><ErrorLine error={existing.error} /></>;
  if (!schema.data || !doc) return <p role="status">Loading…</p>;

  const docText = JSON.stringify(doc);
  const reviewed = review?.doc === docText;
  const change = (next: Doc) => { setDoc(switchProvider(schema.data, doc, next)); setApplied(false); };
  const form = withProvider(schema.data, doc);

  const check = async (): Promise<boolean> => {
    setBusy(true);
    setFailure(undefined);
    try {
      const result = await post<Review>('/autoscalers/validate', doc);
      setErrors({});
      setReview({ doc: docText, result });
      return true;
    } catch (e) {
      setErrors(issuesToErrors(e));
      setReview(undefined);
      if (!(e instanceof ApiError && e.issues.length)) setFailure(errorText(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const apply = async () => {
    if (!reviewed && !(await check())) return;
    setBusy(true);
    try {
      await put(`/autoscalers/${enc(String(doc.name))}`, doc);
      setApplied(true);
      client.invalidateQueries({ queryKey: ['apps'] });
      client.invalidateQueries({ queryKey: ['overview'] });
      client.removeQueries({ queryKey: ['app', String(doc.name)] });
      if (!name) navigate(`/apps/${enc(String(doc.name))}`);
    } catch (e) {
      setErrors(issuesToErrors(e));
      if (!(e instanceof ApiError && e.issues.length)) setFailure(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const checkCredentials = async () => {
    setChecks(undefined);
    try {
      setChecks(await post<Checks>('/autoscalers/check-credentials', { provider: doc.provider, resources: doc.resources }));
    } catch (e) {
      setChecks({ ok: false, checks: [{ what: 'the check itself', ok: false, message: errorText(e) }] });
    }
  };
  const stray = unplaced(form, errors, doc);
  return (
    <>
      <p className="crumbs"><Link to="/apps">Autoscaler apps</Link></p>
      <h1>{name ? `Edit ${name}` : from ? `Clone of ${from}` : 'New autoscaler app'}</h1>
      <div role="tablist" aria-label="How to edit" className="tabs">
        {(['form', 'yaml', 'json'] as const).map((v) => (
          <button key={v} type="button" role="tab" aria-selected={view === v} onClick={() => setView(v)}>{v === 'form' ? 'Form' : v.toUpperCase()}</button>
        ))}
      </div>
      {stray.length > 0 && (
        <div className="error-box" role="alert"><p>Fix these before applying:</p><ul>{stray.map((s) => <li key={s}>{s}</li>)}</ul></div>
      )}
      {Object.keys(errors).length > 0 && stray.length === 0 && <p className="error" role="alert">Some fields need fixing: see the messages beside them.</p>}
      <ErrorLine error={failure} />
      {view === 'form' ? (
        <form className="app-form" onSubmit={(e) => { e.preventDefault(); void check(); }} aria-label="App settings">
          <SchemaNode schema={form} name="App" path="" value={doc} ctx={{ errors, secrets: secretNames, locked: new Set(name ? ['name'] : []) }}
            onChange={(v) => change((v ?? {}) as Doc)} required />
          <button type="submit" hidden>Review</button>
        </form>
      ) : (
        <TextView doc={doc} format={view} onUse={(d) => { change(d); setView('form'); }} />
      )}
      <div className="actions sticky">
        <button type="button" onClick={() => void check()} disabled={busy}>Review changes</button>
        <button type="button" className="primary" onClick={() => void apply()} disabled={busy || !reviewed}>Apply</button>
        <button type="button" className="secondary" onClick={() => void checkCredentials()}>Check credentials</button>
        <ImportExport doc={doc} onImport={change} />
        {name && <Link className="button secondary" to={`/apps/new?from=${enc(name)}`}>Clone</Link>}
      </div>
      {applied && <p className="ok" role="status">Applied: the autoscaler uses this version now.</p>}
      {reviewed && review && <ReviewPanel review={review.result} isNew={!name} />}
      {checks && (
        <section className="panel" aria-labelledby="checks">
          <h2 id="checks">Credentials {checks.ok ? 'work' : 'need attention'}</h2>
          <ul className="checks">{checks.checks.map((c) => <li key={c.what} className={c.ok ? 'ok' : 'error'}>{c.ok ? '✓' : '✗'} {c.what}: {c.message}</li>)}</ul>
        </section>
      )}
      <CostReplay config={doc} app={name} />
    </>
  );
}

function ReviewPanel({ review, isNew }: { review: Review; isNew: boolean }) {
  return (
    <section className="panel" aria-labelledby="review">
      <h2 id="review">Review</h2>
      <p>The app is valid. At most it could spend <strong>{usd(review.maxSpendPerHour)} per hour</strong> (max instances × price, capped by the budget).</p>
      {isNew ? <p>A new app: nothing runs yet.</p> : review.diff.length === 0 ? <p>No change from the running version.</p> : (
        <div className="scroll">
          <table>
            <caption>Changes from the running version</caption>
            <thead><tr><th scope="col">Setting</th><th scope="col">Running</th><th scope="col">After apply</th></tr></thead>
            <tbody>
              {review.diff.map((d) => {
                const path = Array.isArray(d.path) ? d.path.join('.') : d.path;
                return <tr key={path}><td><code>{path}</code></td><td><code>{show(d.from)}</code></td><td><code>{show(d.to)}</code></td></tr>;
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
const show = (v: unknown) => (v === undefined ? '—' : JSON.stringify(v));

/** The app as YAML or JSON: edit or paste it, then use it in the form. */
function TextView({ doc, format, onUse }: { doc: Doc; format: 'yaml' | 'json'; onUse: (d: Doc) => void }) {
  const render = () => (format === 'yaml' ? toYaml(doc) : JSON.stringify(doc, null, 2));
  const [text, setText] = useState(render);
  const [error, setError] = useState<string>();
  useEffect(() => setText(render()), [format]); // eslint-disable-line react-hooks/exhaustive-deps
  const use = () => {
    try {
      const parsed = format === 'yaml' ? parseYaml(text) : JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the document must be a mapping of settings');
      setError(undefined);
      onUse(parsed as Doc);
    } catch (e) {
      setError(`cannot read this ${format.toUpperCase()}: ${errorText(e)}`);
    }
  };
  return (
    <div className="panel">
      <Field label={`The app as ${format.toUpperCase()}`} help="Edit or paste an app here, then use it in the form" error={error}>
        {(id, d) => <textarea id={id} aria-describedby={d} className="code" rows={22} spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />}
      </Field>
      <button type="button" onClick={use}>Use this {format.toUpperCase()}</button>
    </div>
  );
}

function ImportExport({ doc, onImport }: { doc: Doc; onImport: (d: Doc) => void }) {
  const [error, setError] = useState<string>();
  const download = () => {
    const url = URL.createObjectURL(new Blob([toYaml(doc)], { type: 'application/yaml' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: `${String(doc.name || 'app')}.yaml` });
    a.click();
    URL.revokeObjectURL(url);
  };
  const upload = async (file: File | undefined) => {
    if (!file) return;
    try {
      const text = await file.text();
      const parsed = /\.json$/i.test(file.name) ? JSON.parse(text) : parseYaml(text);
      if (!parsed || typeof parsed !== 'object') throw new Error('the file holds no app');
      setError(undefined);
      onImport(parsed as Doc);
    } catch (e) {
      setError(`cannot import ${file.name}: ${errorText(e)}`);
    }
  };
  return (
    <>
      <button type="button" className="secondary" onClick={download}>Export YAML</button>
      <label className="button secondary file">Import file…
        <input type="file" accept=".yaml,.yml,.json" onChange={(e) => void upload(e.target.files?.[0])} />
      </label>
      {error && <span className="error" role="alert">{error}</span>}
    </>
  );
}
