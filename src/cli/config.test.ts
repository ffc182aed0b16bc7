import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsPath, missingTokenHints, resolveConnection, writeCredentials } from './config.js';

function withDir(fn: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-config-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('server: flag, then FLOTILLA_SERVER, then the login file, then the default', () => withDir((dir) => {
  const env: NodeJS.ProcessEnv = { FLOTILLA_CONFIG: join(dir, 'c.json') };
  assert.equal(resolveConnection({}, env).server, 'http://127.0.0.1:8080');
  writeCredentials({ server: 'http://login:1', token: 'flt_login' }, env);
  assert.deepEqual(resolveConnection({}, env), { server: 'http://login:1', serverFrom: 'login file', token: 'flt_login', tokenFrom: 'login file' });
  env.FLOTILLA_SERVER = 'http://env:2';
  assert.equal(resolveConnection({}, env).server, 'http://env:2');
  assert.equal(resolveConnection({ server: 'http://flag:3' }, env).server, 'http://flag:3');
}));

test('FLOTILLA_TOKEN wins over the login file', () => withDir((dir) => {
  const env: NodeJS.ProcessEnv = { FLOTILLA_CONFIG: join(dir, 'c.json'), FLOTILLA_TOKEN: 'flt_env' };
  writeCredentials({ server: 'http://login:1', token: 'flt_login' }, env);
  assert.equal(resolveConnection({}, env).token, 'flt_env');
}));

test('the login token is never sent to another server', () => withDir((dir) => {
  const env: NodeJS.ProcessEnv = { FLOTILLA_CONFIG: join(dir, 'c.json') };
  writeCredentials({ server: 'http://login:1/', token: 'flt_login' }, env);
  assert.equal(resolveConnection({ server: 'http://login:1' }, env).token, 'flt_login', 'a trailing slash is the same server');
  const other = resolveConnection({ server: 'http://other:1' }, env);
  assert.equal(other.token, undefined);
  assert.match(missingTokenHints(other, dir).join('\n'), /holds a token for http:\/\/login:1\//);
}));

test('the login file is written with mode 0600, its folder 0700', () => withDir((dir) => {
  const env: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: join(dir, 'xdg') };
  const file = writeCredentials({ server: 'http://s', token: 't' }, env);
  assert.equal(file, credentialsPath(env));
  assert.equal(file, join(dir, 'xdg', 'flotilla', 'credentials.json'));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'xdg', 'flotilla')).mode & 0o777, 0o700);
}));

test('with no token, a local admin-token file is pointed at', () => withDir((dir) => {
  assert.equal(missingTokenHints({ server: 'x', serverFrom: 'default' }, dir).length, 1);
  mkdirSync(join(dir, '.flotilla'));
  writeFileSync(join(dir, '.flotilla', 'admin-token'), 'flt_x\n');
  const hints = missingTokenHints({ server: 'x', serverFrom: 'default' }, dir).join('\n');
  assert.match(hints, /export FLOTILLA_TOKEN=\$\(cat \.flotilla\/admin-token\)/);
  assert.doesNotMatch(hints, /flt_x/);
}));
