// A small renderer for this repository's Helm chart, since no helm binary can be had here. It implements exactly the
// subset the chart may use, and throws on anything else so the templates cannot drift past what it checks:
//   {{ .Values.a.b }}, {{ .Release.Name }} / .Namespace / .Service, {{ .Chart.Name }} / .Version / .AppVersion,
//   pipelines into toJson and quote, {{ if PATH }} ... {{ else }} ... {{ end }}, and the {{- / -}} whitespace trims.
// Values files merge as Helm merges them: maps deeply, everything else (lists included) replaced.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export interface RenderInput {
  valuesFiles?: string[];
  /** Merged last, like `--set`. */
  set?: Record<string, unknown>;
  release?: { Name?: string; Namespace?: string };
}

type Node = { text: string } | { expr: string } | { cond: string; then: Node[]; else: Node[] };

export function renderChart(chartDir: string, input: RenderInput = {}): any[] {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'));
  let values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
  for (const f of input.valuesFiles ?? []) values = mergeValues(values, parse(readFileSync(f, 'utf8')));
  if (input.set) values = mergeValues(values, input.set);
  const ctx = {
    Values: values,
    Release: { Name: 'flotilla', Namespace: 'default', Service: 'Helm', ...input.release },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const dir = join(chartDir, 'templates');
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('_'))
    .sort()
    .flatMap((f) => {
      const text = renderTemplate(readFileSync(join(dir, f), 'utf8'), ctx, f);
      return parseAllDocuments(text).map((d) => {
        if (d.errors.length) throw new Error(`${f}: rendered YAML is invalid: ${d.errors[0].message}\n${text}`);
        return d.toJS();
      });
    })
    .filter((o) => o !== null && o !== undefined);
}

export function mergeValues(base: any, over: any): any {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeValues(base[k], v);
  return out;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function renderTemplate(src: string, ctx: object, file = 'template'): string {
  const [nodes, rest] = parseNodes(tokenize(src), 0, file);
  if (rest !== undefined) throw new Error(`${file}: unexpected {{ ${rest} }}`);
  return emit(nodes, ctx, file);
}

function tokenize(src: string): ({ text: string } | { action: string })[] {
  const out: ({ text: string } | { action: string })[] = [];
  const re = /\{\{(-?)\s*(.*?)\s*(-?)\}\}/gs;
  let last = 0;
  let trimNext = false;
  for (const m of src.matchAll(re)) {
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1]) text = text.replace(/\s+$/, '');
    out.push({ text }, { action: m[2] });
    trimNext = Boolean(m[3]);
    last = m.index! + m[0].length;
  }
  out.push({ text: trimNext ? src.slice(last).replace(/^\s+/, '') : src.slice(last) });
  return out;
}

/** Returns the nodes up to an `else`/`end` (or the end), and that closing word. */
function parseNodes(tokens: ReturnType<typeof tokenize>, start: number, file: string, nodes: Node[] = []): [Node[], string | undefined, number] {
  let i = start;
  while (i < tokens.length) {
    const t = tokens[i++];
    if ('text' in t) {
      nodes.push(t);
      continue;
    }
    if (t.action === 'else' || t.action === 'end') return [nodes, t.action, i];
    const cond = /^if\s+(\S+)$/.exec(t.action);
    if (!cond) {
      nodes.push({ expr: t.action });
      continue;
    }
    const [thenNodes, close, next] = parseNodes(tokens, i, file, []);
    let elseNodes: Node[] = [];
    i = next;
    if (close === 'else') {
      const [e, close2, next2] = parseNodes(tokens, i, file, []);
      if (close2 !== 'end') throw new Error(`${file}: {{ if ${cond[1]} }} has no {{ end }}`);
      elseNodes = e;
      i = next2;
    } else if (close !== 'end') throw new Error(`${file}: {{ if ${cond[1]} }} has no {{ end }}`);
    nodes.push({ cond: cond[1], then: thenNodes, else: elseNodes });
  }
  return [nodes, undefined, i];
}

function emit(nodes: Node[], ctx: object, file: string): string {
  return nodes
    .map((n) => {
      if ('text' in n) return n.text;
      if ('cond' in n) return emit(truthy(lookup(ctx, n.cond, file)) ? n.then : n.else, ctx, file);
      return evaluate(n.expr, ctx, file);
    })
    .join('');
}

function evaluate(expr: string, ctx: object, file: string): string {
  const [path, ...fns] = expr.split('|').map((s) => s.trim());
  let v: unknown = lookup(ctx, path, file);
  for (const fn of fns) {
    if (fn === 'toJson') v = JSON.stringify(v);
    else if (fn === 'quote') v = JSON.stringify(String(v));
    else throw new Error(`${file}: function "${fn}" is not in the chart's allowed subset (toJson, quote)`);
  }
  if (typeof v === 'object') throw new Error(`${file}: {{ ${expr} }} is a map or list; pipe it to toJson`);
  return String(v);
}

function lookup(ctx: any, path: string, file: string): unknown {
  if (!/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) throw new Error(`${file}: "${path}" is not a plain .Values/.Release/.Chart path`);
  const parts = path.slice(1).split('.');
  if (!['Values', 'Release', 'Chart'].includes(parts[0])) throw new Error(`${file}: unknown object ${parts[0]}`);
  let v = ctx;
  for (const p of parts) {
    if (!isMap(v) || !(p in v)) throw new Error(`${file}: ${path} has no value (set it in values.yaml)`);
    v = v[p];
  }
  return v;
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}
