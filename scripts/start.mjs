#!/usr/bin/env node
// `npm start [-- FLAGS]`: build only when a source is newer than the last build, say so when it does, then run
// `flotilla up FLAGS` in this process. A fresh clone (no dist/) builds once; later starts begin at once.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWeb, webIsStale } from './build-web.mjs';

const root = resolve(import.meta.dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
const main = join(root, 'dist', 'src', 'cli', 'main.js');

/** Newest modification time (ms) under the build's inputs. */
function newestSource() {
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else if (path.endsWith('.ts') || path.endsWith('.json')) newest = Math.max(newest, st.mtimeMs);
  };
  for (const input of ['src', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) visit(join(root, input));
  return newest;
}

const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (!existsSync(main) || newestSource() > built) {
  process.stderr.write(built ? 'building… (sources changed since the last build)\n' : 'building… (first start; later starts skip this)\n');
  const started = Date.now();
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('build failed (see above); fix it, or run `npm run build` to see it again\n');
    process.exit(r.status ?? 1);
  }
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.stderr.write(`built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

// The console (web/ → web/dist) builds on its own clock: a server-only change does not rebuild it, nor the reverse.
if (webIsStale()) {
  process.stderr.write('building the web console… (its sources changed since the last build)\n');
  const started = Date.now();
  if (buildWeb() !== 0) {
    process.stderr.write('the web console did not build (see above); the API still works: run `npm run build:web` to retry\n');
  } else process.stderr.write(`console built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

process.argv = [process.argv[0], main, 'up', ...process.argv.slice(2)];
await import(pathToFileURL(main).href);
