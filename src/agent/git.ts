// Clones a task's repository into its working directory. Credentials reach git only through a
// GIT_ASKPASS helper that reads them from 0600 files next to it, in a 0700 folder that lives as long as the
// clone: never in the URL, never in argv, never in any process's environment (the secret canaries found the
// password in /proc/PID/environ of git and its guard when it travelled in the env), never stored by a
// credential helper.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnStreaming } from './executors/spawn.js';
import type { Stream } from './executors/types.js';
import { createMasker } from './mask.js';
import type { GitCredentials } from '../domain/credentials.js';

export { gitCredentialsSchema, type GitCredentials } from '../domain/credentials.js';

export interface CloneRequest {
  url: string;
  branch?: string;
  commit?: string;
  submodules?: boolean;
  /** Empty or missing directory to clone into. */
  dir: string;
  credentials?: GitCredentials;
  /** git's progress and errors, with the password masked. */
  onOutput?(stream: Stream, text: string): void;
  /** Base env for git (defaults to the agent's). */
  env?: NodeJS.ProcessEnv;
}

// $1 is git's prompt, e.g. "Password for 'https://user@host:443': ". The values are read from files
// beside the helper by cat, so they never show up on a command line or in an environment.
const ASKPASS = `#!/bin/sh
url=\${1#*\\'}; url=\${url%\\'*}
hostport=\${url#*://}; hostport=\${hostport##*@}; hostport=\${hostport%%/*}
host=\${hostport%%:*}
if [ -n "$FLOTILLA_GIT_HOST" ] && [ "$FLOTILLA_GIT_HOST" != "$hostport" ] && [ "$FLOTILLA_GIT_HOST" != "$host" ]; then
  exit 1
fi
case "$1" in
  Username*) cat "\${0%/*}/username" ;;
  Password*) cat "\${0%/*}/password" ;;
  *) exit 1 ;;
esac
`;

export class GitCloneError extends Error {}

/** Splits user:password out of an https URL so they travel like configured credentials. */
export function splitUrlCredentials(url: string): { url: string; credentials?: GitCredentials } {
  if (!/^https?:\/\//i.test(url)) return { url };
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { url };
  const credentials = {
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    host: parsed.host,
  };
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), credentials };
}

function urlHost(url: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return new URL(url).host;
  return /^(?:[^@/]+@)?([^:/]+):/.exec(url)?.[1]; // scp-like ssh: git@host:path
}

function explain(stderr: string, url: string, creds: GitCredentials | undefined): string {
  const host = urlHost(url) ?? url;
  if (/could not read (Username|Password)|Authentication failed|terminal prompts disabled|\b40[13]\b/i.test(stderr)) {
    if (!creds) return `the repository on ${host} needs credentials: configure git credentials (user and password/token) for the agent or the autoscaler app`;
    if (creds.host && creds.host !== host && creds.host !== host.replace(/:\d+$/, '')) {
      return `the git credentials are limited to host ${creds.host}, but the repository is on ${host}: fix the credentials' host`;
    }
    return `authentication failed on ${host}: check the git credentials (user and password/token)`;
  }
  if (/Permission denied \(publickey/.test(stderr)) return `ssh access to ${host} was refused: give the agent an ssh key for it`;
  return stderr.trim().split('\n').filter(Boolean).slice(-2).join('; ') || 'git gave no reason';
}

/** Clones (and checks out the commit, and the submodules) or throws a GitCloneError saying why. */
export async function cloneRepository(req: CloneRequest): Promise<{ commit: string }> {
  const split = splitUrlCredentials(req.url);
  const url = split.url;
  const credentials = req.credentials ?? split.credentials;
  for (const [field, value] of Object.entries({ url, branch: req.branch, commit: req.commit })) {
    if (value?.startsWith('-')) throw new GitCloneError(`task git ${field} "${value}" must not start with "-"`);
  }
  const helperDir = mkdtempSync(join(tmpdir(), 'flotilla-git-')); // 0700
  const askpass = join(helperDir, 'askpass.sh');
  writeFileSync(askpass, ASKPASS, { mode: 0o700 });
  writeFileSync(join(helperDir, 'username'), `${credentials?.username ?? ''}\n`, { mode: 0o600 });
  writeFileSync(join(helperDir, 'password'), `${credentials?.password ?? ''}\n`, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    ...(req.env ?? process.env),
    GIT_ASKPASS: askpass,
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: (req.env ?? process.env).GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    FLOTILLA_GIT_HOST: credentials?.host ?? '',
  };
  const masker = createMasker(credentials?.password ? [credentials.password] : []);
  // An empty credential.helper drops any configured helper, so nothing stores the password.
  const git = async (what: string, args: string[]) => {
    let stderr = '';
    const run = spawnStreaming('git', ['-c', 'credential.helper=', ...args], {
      env,
      onOutput: (stream, text) => {
        const safe = masker.write(text);
        if (stream === 'stderr') stderr += safe;
        req.onOutput?.(stream, safe);
      },
    });
    const { exitCode } = await run.done;
    stderr += masker.flush();
    if (exitCode !== 0) {
      throw new GitCloneError(`git ${what} of ${url} failed (exit ${exitCode}): ${explain(stderr, url, credentials)}`);
    }
  };
  try {
    await git('clone', ['clone', ...(req.branch ? ['--branch', req.branch] : []), '--', url, req.dir]);
    if (req.commit) {
      await git(`checkout of commit ${req.commit}`, ['-C', req.dir, '-c', 'advice.detachedHead=false', 'checkout', '--detach', req.commit]);
    }
    if (req.submodules) await git('submodule update', ['-C', req.dir, 'submodule', 'update', '--init', '--recursive']);
    return { commit: await headCommit(req.dir, env) };
  } finally {
    rmSync(helperDir, { recursive: true, force: true });
  }
}

async function headCommit(dir: string, env: NodeJS.ProcessEnv): Promise<string> {
  let out = '';
  const run = spawnStreaming('git', ['-C', dir, 'rev-parse', 'HEAD'], { env, onOutput: (s, t) => (out += s === 'stdout' ? t : '') });
  await run.done;
  return out.trim();
}
