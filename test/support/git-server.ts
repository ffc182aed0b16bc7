// A private git server for tests: bare repositories served by `git http-backend` (as CGI) behind
// HTTP basic auth, on a random loopback port. Optional delay per request makes a clone last long
// enough to watch the processes it runs.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** Runs git in `cwd` and returns its trimmed stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await exec('git', args, { cwd, env: gitEnv })).stdout.trim();
}

export interface GitServer {
  /** http://127.0.0.1:PORT/NAME.git */
  repoUrl(name: string): string;
  port: number;
  /** Requests that reached http-backend (i.e. passed auth). */
  served: number;
  /**
   * Makes bare repo NAME.git: `build` gets a fresh work tree on branch main; every branch is pushed.
   * Resolves with the commit checked out in the work tree when `build` ends.
   */
  createRepo(name: string, build: (work: string) => Promise<void>): Promise<string>;
  /** Serves a bare clone of the repository in `dir` (its branches as they are now) as NAME.git; returns its URL. */
  serveRepo(name: string, dir: string): Promise<string>;
  close(): Promise<void>;
}

export interface GitServerOptions {
  username: string;
  password: string;
  delayMs?: number;
  /** Port to listen on (default: a free one). */
  port?: number;
}

function authorized(req: IncomingMessage, opts: GitServerOptions): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  return Buffer.from(header.slice(6), 'base64').toString('utf8') === `${opts.username}:${opts.password}`;
}

// Runs http-backend for one request and relays its CGI answer (headers, `Status:`, then body).
function serveCgi(root: string, req: IncomingMessage, res: ServerResponse, user: string) {
  const url = new URL(req.url ?? '/', 'http://x');
  const cgi = spawn(join(process.env.GIT_EXEC_PATH ?? '/usr/lib/git-core', 'git-http-backend'), [], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      CONTENT_LENGTH: req.headers['content-length'] ?? '',
      HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      REMOTE_USER: user,
      REMOTE_ADDR: '127.0.0.1',
    },
  });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const [name, ...rest] = line.split(':');
      const value = rest.join(':').trim();
      if (name!.toLowerCase() === 'status') status = parseInt(value, 10);
      else res.setHeader(name!, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  cgi.on('close', () => res.end());
  cgi.on('error', () => res.destroy());
}

export async function startGitServer(opts: GitServerOptions): Promise<GitServer> {
  const root = mkdtempSync(join(tmpdir(), 'flotilla-git-'));
  const server = createServer((req, res) => {
    setTimeout(() => {
      if (!authorized(req, opts)) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="flotilla-test"' }).end('unauthorized\n');
        return;
      }
      handle.served++;
      serveCgi(root, req, res, opts.username);
    }, opts.delayMs ?? 0);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const handle: GitServer = {
    port,
    served: 0,
    repoUrl: (name) => `http://127.0.0.1:${port}/${name}.git`,
    async serveRepo(name, dir) {
      await git(root, 'clone', '-q', '--bare', dir, join(root, `${name}.git`));
      return handle.repoUrl(name);
    },
    async createRepo(name, build) {
      const bare = join(root, `${name}.git`);
      const work = mkdtempSync(join(tmpdir(), 'flotilla-gitwork-'));
      try {
        await git(root, 'init', '-q', '--bare', bare);
        await git(bare, 'symbolic-ref', 'HEAD', 'refs/heads/main');
        await git(work, 'init', '-q', '-b', 'main');
        await build(work);
        await git(work, 'push', '-q', bare, '--all');
        return await git(work, 'rev-parse', 'HEAD');
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(root, { recursive: true, force: true });
    },
  };
  return handle;
}
