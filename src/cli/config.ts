// Where the CLI and the agent find the server and the token, in one place:
// --server flag > FLOTILLA_SERVER > login file > http://127.0.0.1:8080; token: FLOTILLA_TOKEN > login file.
// A token is never taken from a flag (ps would show it).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { FlotillaClient } from '../client/index.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
export const DEFAULT_DATA_DIR = '.flotilla';

export interface Credentials {
  server: string;
  token: string;
}

export interface Connection {
  server: string;
  serverFrom: 'flag' | 'FLOTILLA_SERVER' | 'login file' | 'default';
  token?: string;
  tokenFrom?: 'FLOTILLA_TOKEN' | 'login file';
  /** Set when the login file holds a token for another server: it is not sent there. */
  loginServer?: string;
}

/** The login file: FLOTILLA_CONFIG, else $XDG_CONFIG_HOME/flotilla/credentials.json, else ~/.config/…. */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLOTILLA_CONFIG) return env.FLOTILLA_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'flotilla', 'credentials.json');
}

export function readCredentials(env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const file = credentialsPath(env);
  if (!existsSync(file)) return undefined;
  try {
    const c = JSON.parse(readFileSync(file, 'utf8'));
    return typeof c?.server === 'string' && typeof c?.token === 'string' ? c : undefined;
  } catch {
    throw new Error(`cannot read the login file ${file}: fix it or run \`flotilla login\` again`);
  }
}

/** Written to a temp file with mode 0600 then renamed, so the token is never readable by others. */
export function writeCredentials(c: Credentials, env: NodeJS.ProcessEnv = process.env): string {
  const file = credentialsPath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

const sameServer = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

export function resolveConnection(flags: { server?: string }, env: NodeJS.ProcessEnv = process.env): Connection {
  const login = readCredentials(env);
  const conn: Connection = flags.server
    ? { server: flags.server, serverFrom: 'flag' }
    : env.FLOTILLA_SERVER
      ? { server: env.FLOTILLA_SERVER, serverFrom: 'FLOTILLA_SERVER' }
      : login
        ? { server: login.server, serverFrom: 'login file' }
        : { server: DEFAULT_SERVER, serverFrom: 'default' };
  if (env.FLOTILLA_TOKEN) return { ...conn, token: env.FLOTILLA_TOKEN, tokenFrom: 'FLOTILLA_TOKEN' };
  if (!login) return conn;
  // The login token belongs to the server it was checked against: never send it elsewhere.
  if (!sameServer(login.server, conn.server)) return { ...conn, loginServer: login.server };
  return { ...conn, token: login.token, tokenFrom: 'login file' };
}

export function clientFor(flags: { server?: string }): FlotillaClient {
  const c = resolveConnection(flags);
  return new FlotillaClient(c.server, c.token);
}

/** What to tell a user whose request was refused for want of a token. */
export function missingTokenHints(conn: Connection, cwd = process.cwd()): string[] {
  if (conn.token) return [];
  const hints = ['no token: set FLOTILLA_TOKEN or run `flotilla login --server URL`'];
  if (conn.loginServer)
    hints.push(`the login file holds a token for ${conn.loginServer}, which is not sent to ${conn.server}`);
  const adminFile = join(cwd, DEFAULT_DATA_DIR, 'admin-token');
  if (existsSync(adminFile))
    hints.push(`a local control plane's admin token is in ${relative(cwd, adminFile)}: export FLOTILLA_TOKEN=$(cat ${relative(cwd, adminFile)})`);
  return hints;
}
