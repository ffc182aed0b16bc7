// Generates requests for the API fuzz from the OpenAPI document: mostly well-formed values from each
// schema with a few fields broken (wrong type, NUL, huge, missing, extra), sometimes raw garbage.
import type { Rng } from './rng.js';

export type TokenKind = 'admin' | 'user' | 'agent' | 'none' | 'bad';

export interface FuzzRequest {
  method: string;
  /** Path with {TASK} placeholders that each store fills with its own ids of one created task. */
  path: string;
  route: string;
  token: TokenKind;
  contentType?: string;
  body?: string;
}

type Schema = Record<string, any>;

const NAMES = ['q0', 'q1', 'w0', 'w1', 'app0', 'sec0', 'default'];
const WEIRD = ['', ' ', '\u0000', 'a\u0000b', '..', '../../etc/passwd', '%', '%00', '%ZZ', 'é☃😀', 'x'.repeat(5000),
  '<script>', "'; DROP TABLE tasks;--", '\\', 'null', 'undefined', '-1', '1e309', '0x10', 'true', '[]', '{}'];
const JUNK: unknown[] = [null, true, false, 0, -1, 1.5, -1e308, 1e308, 2 ** 53 + 1, '', '\u0000', 'x'.repeat(70_000), [], {},
  [null], { a: { b: { c: [] } } }, 'é☃😀', '9999999999999999999999'];

/** A string the schema accepts, usually one of the names the fuzz set up beforehand. */
function goodString(s: Schema, r: Rng): string {
  if (s.enum) return r.pick(s.enum);
  if (s.format === 'date-time') return new Date(1_700_000_000_000 + r.int(0, 1e9)).toISOString();
  if (s.pattern) {
    if (s.pattern.includes('A-Z') && s.pattern.startsWith('^[A-Za-z_]')) return r.pick(['FOO', 'BAR_1', '_X']);
    return r.pick(NAMES);
  }
  const max = Math.min(s.maxLength ?? 40, 40);
  const min = s.minLength ?? 0;
  return r.pick(['echo hi', 'true', 'sleep 0', 'name', 'a b c', 'x'.repeat(Math.max(min, 1))]).slice(0, Math.max(max, min));
}

function goodNumber(s: Schema, r: Rng, name: string): number {
  if (/wait/i.test(name)) return r.pick([0, 1, 20]);
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
  const hi = Math.min(s.maximum ?? lo + 100, lo + 100);
  return r.int(Math.ceil(lo), Math.floor(hi));
}

/** A value for a JSON schema; with probability `bad` per node, a broken one instead. */
export function valueOf(s: Schema, r: Rng, bad: number, name = '', depth = 0): unknown {
  if (r.chance(bad)) return r.chance(0.5) ? r.pick(JUNK) : r.pick(WEIRD);
  if (s.anyOf) return valueOf(r.pick(s.anyOf), r, bad, name, depth);
  if (s.oneOf) return valueOf(r.pick(s.oneOf), r, bad, name, depth);
  if (s.const !== undefined) return s.const;
  switch (s.type) {
    case 'string': return goodString(s, r);
    case 'integer': case 'number': return goodNumber(s, r, name);
    case 'boolean': return r.chance(0.5);
    case 'null': return null;
    case 'array': {
      const n = r.int(s.minItems ?? 0, Math.min(s.maxItems ?? 3, 3));
      return Array.from({ length: n }, () => valueOf(s.items ?? {}, r, bad, name, depth + 1));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set<string>(s.required ?? []);
      for (const [k, sub] of Object.entries<Schema>(s.properties ?? {})) {
        const keep = required.has(k) ? !r.chance(bad) : /wait/i.test(k) || r.chance(0.5);
        if (keep) out[k] = valueOf(sub, r, bad, k, depth + 1);
      }
      if (s.additionalProperties && depth < 3 && r.chance(0.3)) out[r.pick(['FOO', 'x', 'a.b'])] = valueOf(s.additionalProperties, r, bad, 'extra', depth + 1);
      if (r.chance(bad)) out[r.pick(['unknownField', '__proto__', 'constructor'])] = r.pick(JUNK);
      return out;
    }
    default: return r.pick(JUNK);
  }
}

function queryString(params: Schema[], r: Rng): string {
  const parts: string[] = [];
  for (const p of params) {
    if (!p.required && !/wait/i.test(p.name) && !r.chance(0.6)) continue;
    let v: unknown = valueOf(p.schema ?? {}, r, 0.2, p.name);
    if (Array.isArray(v)) v = v.join(',');
    if (typeof v === 'object') v = JSON.stringify(v);
    parts.push(`${encodeURIComponent(p.name)}=${encodeURIComponent(String(v))}`);
    if (r.chance(0.05)) parts.push(`${encodeURIComponent(p.name)}=1`); // the same key twice
  }
  if (r.chance(0.1)) parts.push(`${r.pick(['zz', 'limit', '__proto__'])}=${encodeURIComponent(r.pick(WEIRD))}`);
  if (r.chance(0.03)) parts.push('queues=' + Array.from({ length: 3000 }, (_, i) => `q${i}`).join(','));
  return parts.length ? `?${parts.join('&')}` : '';
}

function pathParam(name: string, r: Rng): string {
  if (name === 'id' && r.chance(0.5)) return '{TASK}';
  if (r.chance(0.6)) return r.pick(NAMES);
  const w = r.pick(WEIRD);
  // Some raw (a broken percent sign, a slash), most encoded as a client would.
  return r.chance(0.2) ? w.slice(0, 300).replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c)) : encodeURIComponent(w);
}

function rawBody(r: Rng): { contentType?: string; body?: string } {
  return r.pick<() => { contentType?: string; body?: string }>([
    () => ({ contentType: 'application/json', body: '{"a":' }),
    () => ({ contentType: 'application/json', body: '' }),
    () => ({ contentType: 'application/json', body: 'null' }),
    () => ({ contentType: 'application/json', body: '[1,2,3]' }),
    () => ({ contentType: 'application/json', body: '"\\u0000"' }),
    () => ({ contentType: 'application/json', body: '['.repeat(5000) + ']'.repeat(5000) }),
    () => ({ contentType: 'application/json', body: `{"command":"${'y'.repeat(2_000_000)}"}` }),
    () => ({ contentType: 'text/plain', body: 'hello' }),
    () => ({ contentType: 'application/x-www-form-urlencoded', body: 'a=1&b=2' }),
    () => ({ contentType: 'application/json; charset=latin1', body: '{"name":"q0"}' }),
    () => ({ contentType: 'application/json', body: '{"__proto__":{"admin":true},"name":"q0"}' }),
    () => ({ body: '{"name":"q0"}' }),
  ])();
}

const TOKENS: TokenKind[] = ['admin', 'admin', 'admin', 'user', 'user', 'agent', 'agent', 'none', 'bad'];

/** One request to one operation of the document. */
export function generate(path: string, method: string, op: Schema, r: Rng): FuzzRequest {
  const params: Schema[] = op.parameters ?? [];
  let url = path.replace(/\{(\w+)\}/g, (_, n) => pathParam(n, r));
  url += queryString(params.filter((p) => p.in === 'query'), r);
  const req: FuzzRequest = { method: method.toUpperCase(), path: url, route: `${method.toUpperCase()} ${path}`, token: r.pick(TOKENS) };
  const schema = op.requestBody?.content?.['application/json']?.schema;
  if (r.chance(0.12)) return { ...req, ...rawBody(r) };
  if (schema || r.chance(0.1)) {
    req.contentType = 'application/json';
    req.body = JSON.stringify(valueOf(schema ?? { type: 'object' }, r, r.pick([0, 0.05, 0.2])));
  }
  return req;
}
