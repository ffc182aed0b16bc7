// The runner of `npm run test:chaos`: every chaos file in its long form, one after the other, with one seed,
// then one table of what each part did (rounds, kills, faults, requests, canaries) and what must be zero.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PartFigures } from './report.js';

const here = import.meta.dirname;
const files = process.argv.slice(2).length ? process.argv.slice(2)
  : readdirSync(here).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(here, f));
const reportFile = join(mkdtempSync(join(tmpdir(), 'flotilla-chaos-')), 'figures.jsonl');
const seed = process.env.CHAOS_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
const t0 = Date.now();
console.log(`chaos: ${files.length} files, seed ${seed} (replay with CHAOS_SEED=${seed}), ${process.env.CHAOS_ROUNDS ?? 50} soak rounds`);
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=3600000', ...files], {
  stdio: 'inherit', env: { ...process.env, CHAOS_LONG: '1', CHAOS_SEED: seed, CHAOS_REPORT: reportFile },
});

const parts: PartFigures[] = existsSync(reportFile)
  ? readFileSync(reportFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const cell = (v: unknown) => (v === undefined ? '' : String(v));
const rows = parts.map((p) => [p.part, cell(p.rounds), cell(p.kills), cell(p.faults), cell(p.requests), cell(p.canaries),
  Object.entries(p.zeros ?? {}).map(([k, v]) => `${k} ${v}`).join(', '), p.notes ?? '']);
const head = ['part', 'rounds', 'kills', 'faults', 'requests', 'canaries', 'must be 0', 'notes'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.min(r[i].length, i === 7 ? 0 : 60))));
const line = (r: string[]) => `| ${r.map((c, i) => (i === 7 ? c : c.padEnd(widths[i]))).join(' | ')} |`;
console.log(`\nchaos summary (seed ${seed}, ${Math.round((Date.now() - t0) / 1000)} s, tests ${run.status === 0 ? 'passed' : 'FAILED'})`);
console.log(line(head));
console.log(`|${widths.map((w, i) => '-'.repeat(i === 7 ? 7 : w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
const nonZero = parts.flatMap((p) => Object.entries(p.zeros ?? {}).filter(([, v]) => v !== 0).map(([k, v]) => `${p.part}: ${k} ${v}`));
if (nonZero.length) console.log(`\nnot zero: ${nonZero.join('; ')}`);
process.exit(run.status ?? 1);
