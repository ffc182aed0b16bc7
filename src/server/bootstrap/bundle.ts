// The agent bundle a new cloud machine downloads: package.json, package-lock.json, dist/src and the
// production node_modules of this control plane's own build. Built once on demand with the system's
// tar into the data dir, then served from there; a new build (version, lock file or dist) makes a new one.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../../version.js';
import { privateDir } from '../../store/private-files.js';

/** The package root: three levels above src/server/bootstrap, four above dist/src/server/bootstrap. */
export const PACKAGE_ROOT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../../../' : '../../../', import.meta.url),
);

/** Type declarations, source maps and docs: half the bytes and none of them run (25 MB instead of 37). */
const NOT_AT_RUN_TIME = ['*.d.ts', '*.d.mts', '*.d.cts', '*.map', '*.md'].map((p) => `--exclude=${p}`);

export class BundleUnavailableError extends Error {
  readonly statusCode = 503;
}

/** Top-level production packages of the lock file (nested ones live inside them). */
export function productionPackages(lock: { packages?: Record<string, { dev?: boolean }> }): string[] {
  return Object.entries(lock.packages ?? {})
    .filter(([path, p]) => path && !p.dev && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path))
    .map(([path]) => path);
}

/** Newest modification time under a folder: a rebuild of dist changes the bundle's name. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  return newest;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', (e) => reject(new BundleUnavailableError(`cannot run ${cmd} to build the agent bundle: ${e.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new BundleUnavailableError(`${cmd} failed building the agent bundle: ${err.trim()}`)),
    );
  });
}

export class AgentBundle {
  private building = new Map<string, Promise<string>>();

  constructor(private readonly dataDir: string, private readonly root = PACKAGE_ROOT, private readonly version = VERSION) {}

  /** The path of the bundle of this build, building it first if needed (concurrent callers share one build). */
  async path(): Promise<string> {
    const { file, lock } = this.identify();
    if (existsSync(file)) return file;
    let p = this.building.get(file);
    if (!p) {
      p = this.build(file, lock).finally(() => this.building.delete(file));
      this.building.set(file, p);
    }
    return p;
  }

  private identify(): { file: string; lock: string } {
    const main = join(this.root, 'dist/src/cli/main.js');
    if (!existsSync(main))
      throw new BundleUnavailableError(`${main} is missing: this control plane runs from source; build it with \`npm run build\``);
    const lockFile = join(this.root, 'package-lock.json');
    if (!existsSync(lockFile)) throw new BundleUnavailableError(`${lockFile} is missing: the bundle needs the lock file`);
    const lock = readFileSync(lockFile, 'utf8');
    const id = createHash('sha256').update(`${this.version}\n${newestMtime(join(this.root, 'dist/src'))}\n${lock}`)
      .digest('hex').slice(0, 16);
    return { file: join(this.dataDir, 'bundles', `flotilla-agent-${this.version}-${id}.tar.gz`), lock };
  }

  private async build(file: string, lock: string): Promise<string> {
    const dir = join(this.dataDir, 'bundles');
    privateDir(dir);
    const missing = productionPackages(JSON.parse(lock)).filter((p) => !existsSync(join(this.root, p)));
    if (missing.length)
      throw new BundleUnavailableError(`production packages are not installed (${missing.slice(0, 3).join(', ')}…): run \`npm ci\``);
    const list = join(dir, `files-${process.pid}.txt`);
    writeFileSync(list, ['package.json', 'package-lock.json', 'dist/src', ...productionPackages(JSON.parse(lock))].join('\n') + '\n');
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      // gzip -1: half the CPU of the default level for a few per cent more bytes; a machine waits for the build, not the wire.
      await run('tar', ['-cf', tmp, '--use-compress-program=gzip -1', '--owner=0', '--group=0', '--numeric-owner', ...NOT_AT_RUN_TIME, '-C', this.root, '-T', list]);
      chmodSync(tmp, 0o600);
      renameSync(tmp, file); // readers never see a half-written bundle
      for (const old of readdirSync(dir)) if (old.endsWith('.tar.gz') && join(dir, old) !== file) rmSync(join(dir, old), { force: true });
    } finally {
      rmSync(list, { force: true });
      rmSync(tmp, { force: true });
    }
    return file;
  }
}
