// Layers that only point down. Every .ts file under src (tests included) is read with the TypeScript compiler
// API; every import counts: `import`, `import type`, `export … from`, side-effect `import 'x'`, dynamic
// `import('x')`, type queries `import('x').T` and `import x = require('x')`. The test fails on an import against
// the direction below, naming the file, the import and the rule, and on any cycle among files.
//
// The layer of a file is its first folder under src (src/version.ts and other files directly under src are
// "root": they import nothing of ours, and every layer but domain may use them). A layer may import itself and:
//
//   domain      → (nothing else)                       types, schemas, rules: pure
//   store       → domain                               persistence; no HTTP, no CLI advice
//   services    → domain, store                        the owners of state changes (queue, instance lifecycle, act loop)
//   clearml     → domain, store, services, root        the ClearML API adapter and app source: translates onto the services
//   client      → domain                               the HTTP client: used by cli, agent, k8s and tests
//   agent       → domain, client, root                 runs on a worker machine and talks to the server over HTTP
//   autoscaler  → anything but server, cli, sim
//   k8s         → anything but server, cli, sim
//   sim         → anything but server, cli, agent, k8s
//   server      → anything but cli
//   cli         → anything
//
// In short: domain ← store ← services ← (server, autoscaler, k8s, sim, agent) ← cli, with the client beside
// domain. A test file under src may also import test helpers outside src; other files may not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, import.meta.dirname.includes(`${sep}dist${sep}`) ? '../..' : '..');

const ALL = ['domain', 'store', 'services', 'clearml', 'client', 'agent', 'autoscaler', 'k8s', 'sim', 'server', 'cli', 'root'] as const;
type Layer = (typeof ALL)[number];
const but = (...no: Layer[]): Layer[] => ALL.filter((l) => !no.includes(l));

/** What each layer may import besides itself, and the rule as the failure states it. */
export const RULES: Record<Layer, { may: readonly Layer[]; rule: string }> = {
  domain: { may: [], rule: 'domain may import only domain' },
  store: { may: ['domain'], rule: 'store may import only domain and store' },
  services: { may: ['domain', 'store'], rule: 'services may import only domain, store and services' },
  clearml: { may: ['domain', 'store', 'services', 'root'], rule: 'clearml may import only domain, store, services and clearml' },
  client: { may: ['domain'], rule: 'client may import only domain and client' },
  agent: { may: ['domain', 'client', 'root'], rule: 'agent may import only domain, client and agent' },
  autoscaler: { may: but('server', 'cli', 'sim'), rule: 'autoscaler may not import server, cli or sim' },
  k8s: { may: but('server', 'cli', 'sim'), rule: 'k8s may not import server, cli or sim' },
  sim: { may: but('server', 'cli', 'agent', 'k8s'), rule: 'sim may not import server, cli, agent or k8s' },
  server: { may: but('cli'), rule: 'server may not import cli' },
  cli: { may: ALL, rule: 'cli may import anything' },
  root: { may: [], rule: 'files directly under src may import nothing of ours' },
};

/** `src/domain/x.ts` → domain; `src/version.ts` → root. */
export function layerOf(file: string): Layer | undefined {
  const parts = file.split('/');
  if (parts[0] !== 'src') return undefined;
  if (parts.length === 2) return 'root';
  return (ALL as readonly string[]).includes(parts[1]!) ? (parts[1] as Layer) : undefined;
}

/** Every module specifier a file names, type-only ones included. */
export function specifiersOf(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
      out.push(node.moduleSpecifier.text);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)
      && ts.isStringLiteral(node.moduleReference.expression))
      out.push(node.moduleReference.expression.text);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) out.push(arg.text);
      else out.push('<computed dynamic import>');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal))
      out.push(node.argument.literal.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** `../server/x.js` from `src/domain/a.ts` → `src/server/x.ts` (repository-relative, `/`-separated). */
function resolveSpecifier(from: string, spec: string, exists: (f: string) => boolean): string {
  const base = join(dirname(from), spec).split(sep).join('/');
  for (const c of [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, `${base}/index.ts`]) if (exists(c)) return c;
  return base.replace(/\.js$/, '.ts');
}

export interface Finding {
  file: string;
  import: string;
  message: string;
}

/** The imports against the direction, and the cycles, among `files` (repository-relative path → source). */
export function checkImports(files: ReadonlyMap<string, string>, exists: (f: string) => boolean = (f) => files.has(f)): {
  violations: Finding[];
  cycles: string[][];
} {
  const violations: Finding[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, text] of files) {
    const from = layerOf(file);
    const edges: string[] = [];
    graph.set(file, edges);
    for (const spec of specifiersOf(file, text)) {
      if (spec === '<computed dynamic import>') {
        violations.push({ file, import: spec, message: `${file} has a dynamic import of a computed name: the layers cannot be checked` });
        continue;
      }
      if (!spec.startsWith('.')) continue; // a package (node:fs, zod, …)
      const target = resolveSpecifier(file, spec, exists);
      if (files.has(target)) edges.push(target);
      const to = layerOf(target);
      if (!from) continue;
      if (!to) {
        if (!/\.test\.ts$/.test(file))
          violations.push({ file, import: spec, message: `${file} imports ${target}: only a test may import a file outside src` });
        continue;
      }
      if (to === from || RULES[from].may.includes(to)) continue;
      violations.push({ file, import: spec, message: `${file} imports ${target}: ${RULES[from].rule}` });
    }
  }
  return { violations, cycles: cyclesOf(graph) };
}

/** One concrete cycle per strongly connected component of more than one file (or a file importing itself). */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const sccs: string[][] = [];
  const strong = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) sccs.push(scc);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) strong(v);
  // A path that leaves the first file of the component and comes back to it, for the message.
  return sccs.map((scc) => {
    const inScc = new Set(scc);
    const start = [...scc].sort()[0]!;
    const path = [start];
    const seen = new Set([start]);
    const walk = (v: string): boolean => {
      for (const w of graph.get(v) ?? []) {
        if (!inScc.has(w)) continue;
        if (w === start) return true;
        if (seen.has(w)) continue;
        seen.add(w);
        path.push(w);
        if (walk(w)) return true;
        path.pop();
      }
      return false;
    };
    walk(start);
    return [...path, start];
  });
}

function sourceFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.set(rel, readFileSync(join(ROOT, rel), 'utf8'));
    }
  };
  walk('src');
  return files;
}

const report = (r: ReturnType<typeof checkImports>) => [
  ...r.violations.map((v) => v.message),
  ...r.cycles.map((c) => `import cycle: ${c.join(' → ')}`),
];

test('every import under src points down the layers, and no files import one another in a cycle', () => {
  const files = sourceFiles();
  assert.ok(files.size > 100, `read only ${files.size} files from ${relative(process.cwd(), join(ROOT, 'src'))}`);
  const problems = report(checkImports(files, (f) => existsSync(join(ROOT, f))));
  assert.deepEqual(problems, [], `\n${problems.join('\n')}\n`);
});

test('the check catches each form of import against the direction, and cycles', () => {
  const files = new Map([
    ['src/domain/a.ts', "import '../server/x.js';\nexport const a = 1;"],
    ['src/domain/b.ts', "import type { X } from '../server/x.js';\nexport type B = X;"],
    ['src/domain/c.ts', "export { x } from '../autoscaler/providers/types.js';"],
    ['src/domain/d.ts', "export const d = () => import('../store/db.js');\nexport type T = import('../cli/main.js').T;"],
    ['src/store/e.ts', "import { thing } from '../server/app.js';"],
    ['src/autoscaler/f.ts', "import type { Controller } from '../server/controllers.js';"],
    ['src/agent/g.ts', "import { h } from '../autoscaler/h.js';"],
    ['src/sim/books.ts', "import type { J } from './engine.js';"],
    ['src/sim/engine.ts', "import { Books } from './books.js';"],
    ['src/cli/ok.ts', "import { x } from '../server/x.js';\nimport { d } from '../domain/a.js';"],
    ['src/server/x.ts', "import { a } from '../domain/a.js';\nimport { z } from 'zod';"],
  ]);
  const r = checkImports(files);
  assert.deepEqual(r.violations.map((v) => v.message), [
    'src/domain/a.ts imports src/server/x.ts: domain may import only domain',
    'src/domain/b.ts imports src/server/x.ts: domain may import only domain',
    'src/domain/c.ts imports src/autoscaler/providers/types.ts: domain may import only domain',
    'src/domain/d.ts imports src/store/db.ts: domain may import only domain',
    'src/domain/d.ts imports src/cli/main.ts: domain may import only domain',
    'src/store/e.ts imports src/server/app.ts: store may import only domain and store',
    'src/autoscaler/f.ts imports src/server/controllers.ts: autoscaler may not import server, cli or sim',
    'src/agent/g.ts imports src/autoscaler/h.ts: agent may import only domain, client and agent',
  ]);
  assert.deepEqual(r.cycles, [
    ['src/domain/a.ts', 'src/server/x.ts', 'src/domain/a.ts'],
    ['src/sim/books.ts', 'src/sim/engine.ts', 'src/sim/books.ts'],
  ]);
});
