#!/usr/bin/env node
// Builds the web console (web/ → web/dist) when its sources are newer than the last build; used by `npm start`
// and `npm test`. `npm run build` always builds it. Exits non-zero when the build fails.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const web = join(root, 'web');
const built = join(web, 'dist', 'index.html');

function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** True when web/dist is missing or older than any of its inputs. */
export function webIsStale() {
  const at = statSync(built, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const inputs = ['src', 'index.html', 'vite.config.ts', 'tsconfig.json'].map((p) => newest(join(web, p)));
  return at < Math.max(...inputs, newest(join(root, 'package-lock.json')));
}

/** Type-checks and bundles the console; returns the exit status. */
export function buildWeb(stdio = 'inherit') {
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(web, 'tsconfig.json')], { stdio });
  if (tsc.status !== 0) return tsc.status ?? 1;
  const vite = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(web, 'vite.config.ts'), '--logLevel', 'warn'], { stdio });
  return vite.status ?? 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const force = process.argv.includes('--force');
  if (!force && !webIsStale()) process.exit(0);
  process.stderr.write('building the web console…\n');
  const status = buildWeb();
  if (status !== 0) process.stderr.write('the web console did not build (see above)\n');
  process.exit(status);
}
