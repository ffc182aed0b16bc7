// The no-code app form, generated from the JSON Schema the API validates with (GET /api/v1/autoscaler-schema):
// one field per schema property, its help the schema's description, its error the issue the API returned for its
// path. Nothing here repeats what a field means; a new property in the schema shows up as a new field.
import { useState } from 'react';
import type { JsonSchema } from '../types';
import { Field } from '../ui/Field';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
export type Errors = Record<string, string>;

export interface FormContext {
  errors: Errors;
  /** Names of secrets, by kind, for the fields that name one (execution.gitSecret, execution.storageSecret). */
  secrets: Record<string, string[]>;
  /** Fields that cannot change (the name of an app being edited). */
  locked: Set<string>;
}

/** `instanceType` → `Instance type`; `maxPerHour` → `Max per hour`; `idleTimeoutS` → `Idle timeout (s)`; `sizeGb` → `Size (GB)`. */
export function labelOf(key: string): string {
  const seconds = /[a-z]S$/.test(key);
  const gb = /[a-z]Gb$/.test(key);
  if (gb) return `${labelOf(key.slice(0, -2))} (GB)`;
  const base = (seconds ? key.slice(0, -1) : key).replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return base.charAt(0).toUpperCase() + base.slice(1) + (seconds ? ' (s)' : '');
}

const typeOf = (s: JsonSchema) => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));

/** Errors at or under a path, for a group's summary. */
const errorsUnder = (errors: Errors, path: string) => Object.keys(errors).filter((k) => k === path || k.startsWith(`${path}.`));

/** Help text: the schema's description, plus the limits a person needs to know to fill it in. */
function helpOf(s: JsonSchema): string | undefined {
  const parts = [s.description];
  if (s.minimum !== undefined) parts.push(`at least ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`more than ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum < 1e15) parts.push(`at most ${s.maximum}`);
  if (s.default !== undefined && typeof s.default !== 'object') parts.push(`default ${String(s.default)}`);
  if (s.pattern === '^[a-z0-9][a-z0-9-]{0,62}$') parts.push('lower-case letters, digits and "-"');
  const text = parts.filter(Boolean).join('; ');
  return text || undefined;
}

export function SchemaNode(props: { schema: JsonSchema; name: string; path: string; value: Json | undefined; onChange: (v: Json | undefined) => void; ctx: FormContext; required?: boolean }) {
  const { schema, name, path, value, onChange, ctx } = props;
  const type = typeOf(schema);
  const error = ctx.errors[path];
  // A schema's title wins where the key would spell an acronym badly (AMI, IAM instance profile).
  const label = schema.title ?? labelOf(name);
  if (type === 'object' && schema.properties) {
    const obj = isObj(value) ? value : {};
    const required = new Set(schema.required ?? []);
    const group = (
      <fieldset className="group" data-path={path}>
        <legend>{label}</legend>
        {schema.description && <p className="help">{schema.description}</p>}
        {error && <p className="error" role="alert">{error}</p>}
        <div className="grid">
          {Object.entries(schema.properties).map(([k, s]) => (
            <SchemaNode key={k} schema={s} name={k} path={join(path, k)} value={obj[k]} required={required.has(k)} ctx={ctx}
              onChange={(v) => { const next = { ...obj }; if (v === undefined) delete next[k]; else next[k] = v; onChange(next); }} />
          ))}
        </div>
      </fieldset>
    );
    // An optional section with no default (simulation) stays folded until it is used or has an error.
    if (props.required || schema.default !== undefined || path === '' || /^\d|\.\d/.test(path)) return group;
    return (
      <details className="fold" open={value !== undefined || errorsUnder(ctx.errors, path).length > 0}>
        <summary>{label}{schema.description ? <span className="help"> — {schema.description}</span> : null}</summary>
        {group}
      </details>
    );
  }
  if (type === 'object') return <RecordField {...props} label={label} error={error} />;
  if (type === 'array' && schema.items && typeOf(schema.items) === 'object') return <RowsField {...props} label={label} error={error} />;
  if (type === 'array') {
    const list = Array.isArray(value) ? value.map(String) : [];
    return (
      <Field label={label} help={[helpOf(schema), 'comma-separated'].filter(Boolean).join('; ')} error={error}>
        {(id, d) => <ListInput id={id} describedBy={d} value={list} onChange={(l) => onChange(l.length ? l : undefined)} />}
      </Field>
    );
  }
  if (type === 'boolean') {
    const checked = typeof value === 'boolean' ? value : schema.default === true;
    return (
      <Field label={label} help={helpOf(schema)} error={error}>
        {(id, d) => <input id={id} aria-describedby={d} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />}
      </Field>
    );
  }
  if (type === 'number' || type === 'integer') {
    return (
      <Field label={label} help={helpOf(schema)} error={error}>
        {(id, d) => (
          <NumberInput id={id} describedBy={d} value={typeof value === 'number' ? value : undefined} required={props.required}
            step={type === 'integer' ? 1 : 'any'} placeholder={schema.default !== undefined ? String(schema.default) : ''} invalid={!!error}
            onChange={onChange} />
        )}
      </Field>
    );
  }
  const str = typeof value === 'string' ? value : '';
  const secretKind = /(git|storage)Secret$/.exec(name)?.[1];
  return (
    <Field label={label} help={helpOf(schema)} error={error}>
      {(id, d) => {
        const common = { id, 'aria-describedby': d, 'aria-invalid': !!error || undefined, disabled: ctx.locked.has(path) };
        const set = (v: string) => onChange(v === '' ? undefined : v);
        if (schema.enum)
          return (
            <select {...common} value={str || String(schema.default ?? '')} onChange={(e) => set(e.target.value)} required={props.required}>
              {!props.required && schema.default === undefined && <option value="">—</option>}
              {schema.enum.map((o) => <option key={String(o)}>{String(o)}</option>)}
            </select>
          );
        if (secretKind)
          return (
            <select {...common} value={str} onChange={(e) => set(e.target.value)}>
              <option value="">none</option>
              {[...new Set([...(ctx.secrets[secretKind] ?? []), ...(str ? [str] : [])])].map((n) => <option key={n}>{n}</option>)}
            </select>
          );
        if (/script/i.test(name)) return <textarea {...common} rows={4} value={str} onChange={(e) => set(e.target.value)} />;
        return <input {...common} value={str} required={props.required} onChange={(e) => set(e.target.value)} />;
      }}
    </Field>
  );
}

/** A number box that keeps what was typed ("1." or "") instead of snapping it to a number at each key. */
function NumberInput(p: { id: string; describedBy?: string; value: number | undefined; onChange: (v: Json | undefined) => void; required?: boolean; step: number | 'any'; placeholder: string; invalid: boolean }) {
  const [text, setText] = useState(p.value === undefined ? '' : String(p.value));
  const shown = Number(text) === p.value || (text === '' && p.value === undefined) ? text : p.value === undefined ? '' : String(p.value);
  return (
    <input id={p.id} aria-describedby={p.describedBy} aria-invalid={p.invalid || undefined} type="number" inputMode="decimal" step={p.step}
      value={shown} placeholder={p.placeholder} required={p.required}
      onChange={(e) => { setText(e.target.value); p.onChange(e.target.value === '' ? undefined : Number(e.target.value)); }} />
  );
}

function ListInput(p: { id: string; describedBy?: string; value: string[]; onChange: (l: string[]) => void }) {
  const [text, setText] = useState(p.value.join(', '));
  const parse = (t: string) => t.split(',').map((x) => x.trim()).filter(Boolean);
  const shown = parse(text).join('\u0000') === p.value.join('\u0000') ? text : p.value.join(', ');
  return <input id={p.id} aria-describedby={p.describedBy} value={shown} onChange={(e) => { setText(e.target.value); p.onChange(parse(e.target.value)); }} />;
}

type GroupProps = Parameters<typeof SchemaNode>[0] & { label: string; error?: string };

/** An array of objects: one row per item (resources, routes…), with add and remove. */
function RowsField({ schema, name, path, value, onChange, ctx, label, error }: GroupProps) {
  const rows = Array.isArray(value) ? value : [];
  const item = schema.items!;
  const singular = labelOf(name).replace(/s$/, '');
  const blank = (): Json => Object.fromEntries(Object.entries(item.properties ?? {})
    .filter(([k]) => item.required?.includes(k))
    .map(([k, s]) => [k, typeOf(s) === 'string' ? '' : typeOf(s) === 'boolean' ? false : typeOf(s) === 'array' ? [] : 0])) as Json;
  return (
    <fieldset className="group rows" data-path={path}>
      <legend>{label}</legend>
      {schema.description && <p className="help">{schema.description}</p>}
      {error && <p className="error" role="alert">{error}</p>}
      {rows.map((row, i) => (
        <div className="row" key={i}>
          <SchemaNode schema={item} name={`${singular} ${i + 1}`} path={join(path, i)} value={row} ctx={ctx}
            onChange={(v) => onChange(rows.map((r, j) => (j === i ? (v ?? {}) : r)))} />
          <button type="button" className="secondary" aria-label={`Remove ${singular.toLowerCase()} ${i + 1}`}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}>Remove</button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, blank()])}>Add {singular.toLowerCase()}</button>
    </fieldset>
  );
}

/** A map: name → value rows (queue → ordered resources; provider settings, whose values may be JSON). */
function RecordField({ schema, name, path, value, onChange, ctx, label, error }: GroupProps) {
  const obj = isObj(value) ? value : {};
  const [entries, setEntries] = useState<[string, Json][]>(() => Object.entries(obj));
  // Rows are kept locally so a half-typed key (or two empty ones) is not lost; the value is rebuilt from them.
  const inSync = JSON.stringify(Object.fromEntries(entries.filter(([k]) => k))) === JSON.stringify(obj);
  const rows = inSync ? entries : Object.entries(obj);
  const valueSchema = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {};
  const set = (next: [string, Json][]) => {
    setEntries(next);
    const built = Object.fromEntries(next.filter(([k]) => k));
    onChange(Object.keys(built).length ? built : undefined);
  };
  const free = !typeOf(valueSchema);
  const keyLabel = name === 'queues' ? 'Queue' : name === 'subnets' ? 'Zone' : 'Key';
  const valueLabel = name === 'queues' ? 'Resources, first preferred' : name === 'subnets' ? 'Subnet' : 'Value';
  const scalar = ['string', 'number', 'integer', 'boolean'].includes(typeOf(valueSchema) ?? '');
  return (
    <fieldset className="group map" data-path={path}>
      <legend>{label}</legend>
      {schema.description && <p className="help">{schema.description}</p>}
      {error && <p className="error" role="alert">{error}</p>}
      {rows.map(([k, v], i) => (
        <div className="row" key={i}>
          <Field label={`${keyLabel} ${i + 1}`}>
            {(id) => <input id={id} value={k} onChange={(e) => set(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} />}
          </Field>
          {free ? (
            <Field label={`${valueLabel} ${i + 1}`} help="text, or JSON for lists and numbers" error={ctx.errors[join(path, k)]}>
              {(id, d) => <JsonInput id={id} describedBy={d} value={v} onChange={(nv) => set(rows.map((r, j) => (j === i ? [r[0], nv] : r)))} />}
            </Field>
          ) : typeOf(valueSchema) === 'array' ? (
            <Field label={`${valueLabel} ${i + 1}`} help={valueSchema.description ?? 'comma-separated'} error={ctx.errors[join(path, k)] ?? firstUnder(ctx.errors, join(path, k))}>
              {(id, d) => <ListInput id={id} describedBy={d} value={Array.isArray(v) ? v.map(String) : []} onChange={(l) => set(rows.map((r, j) => (j === i ? [r[0], l] : r)))} />}
            </Field>
          ) : (
            <SchemaNode schema={valueSchema} name={scalar || !k ? `${scalar ? valueLabel : keyLabel} ${i + 1}` : k} path={join(path, k)} value={v} ctx={ctx}
              onChange={(nv) => set(rows.map((r, j) => (j === i ? [r[0], nv ?? null] : r)))} />
          )}
          <button type="button" className="secondary" aria-label={`Remove ${keyLabel.toLowerCase()} ${i + 1}`} onClick={() => set(rows.filter((_, j) => j !== i))}>Remove</button>
        </div>
      ))}
      <button type="button" onClick={() => set([...rows, ['', free ? '' : typeOf(valueSchema) === 'array' ? [] : {}]])}>Add {keyLabel.toLowerCase()}</button>
    </fieldset>
  );
}

const firstUnder = (errors: Errors, path: string) => errorsUnder(errors, path).map((k) => errors[k])[0];

/** A free-form value: shown as text; typed JSON (a list, a number, true) is kept as JSON, anything else as text. */
function JsonInput(p: { id: string; describedBy?: string; value: Json; onChange: (v: Json) => void }) {
  const shown = typeof p.value === 'string' ? p.value : JSON.stringify(p.value);
  const [text, setText] = useState(shown);
  const parse = (t: string): Json => { try { return /^[[{\d"tfn-]/.test(t.trim()) ? JSON.parse(t) : t; } catch { return t; } };
  const current = JSON.stringify(parse(text)) === JSON.stringify(p.value) ? text : shown;
  return <input id={p.id} aria-describedby={p.describedBy} value={current} onChange={(e) => { setText(e.target.value); p.onChange(parse(e.target.value)); }} />;
}

/** Issues whose path matches no field of the form, to be shown above it so none is lost. */
export function unplaced(schema: JsonSchema, errors: Errors, value: Json): string[] {
  const known = new Set<string>();
  const walk = (s: JsonSchema, v: Json | undefined, path: string) => {
    known.add(path);
    if (s.properties) for (const [k, c] of Object.entries(s.properties)) walk(c, isObj(v) ? v[k] : undefined, join(path, k));
    else if (s.items && Array.isArray(v)) v.forEach((x, i) => walk(s.items!, x, join(path, i)));
    else if (typeof s.additionalProperties === 'object' && isObj(v)) for (const k of Object.keys(v)) {
      known.add(join(path, k));
      walk(s.additionalProperties, v[k], join(path, k));
    }
  };
  walk(schema, value, '');
  // An item of a list of strings (queues.gpu.0) is shown beside its list.
  const placed = (k: string) => known.has(k) || known.has(k.replace(/\.\d+$/, ''));
  return Object.entries(errors).filter(([k]) => k && !placed(k)).map(([k, m]) => `${k}: ${m}`);
}
