import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAgentConfig, readStorageFile, takeGitCredentialsFromEnv } from './agent-config.js';
import { secretMasking } from './setup.js';

function withFile(content: string, mode: number, fn: (path: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-cfg-'));
  try {
    const path = join(dir, 'file');
    writeFileSync(path, content, { mode });
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('git credentials are taken out of the env, so no child process inherits them', () => {
  const env: NodeJS.ProcessEnv = { FLOTILLA_GIT_USER: 'bot', FLOTILLA_GIT_PASSWORD: 'tok', FLOTILLA_GIT_HOST: 'git.example.com', KEEP: '1' };
  assert.deepEqual(takeGitCredentialsFromEnv(env), { username: 'bot', password: 'tok', host: 'git.example.com' });
  assert.deepEqual(env, { KEEP: '1' });
  assert.equal(takeGitCredentialsFromEnv({}), undefined);
  assert.throws(() => takeGitCredentialsFromEnv({ FLOTILLA_GIT_PASSWORD: 'x' }), /set both FLOTILLA_GIT_USER and FLOTILLA_GIT_PASSWORD/);
});

test('the agent config file is YAML or JSON, must be private, and errors name the field', () => {
  withFile('git:\n  username: bot\n  password: tok\n', 0o600, (p) => assert.deepEqual(readAgentConfig(p), { git: { username: 'bot', password: 'tok' } }));
  withFile('{"git": {"username": "bot", "password": "tok"}}', 0o644, (p) =>
    assert.throws(() => readAgentConfig(p), /readable by others \(mode 644\); fix it with: chmod 600/));
  withFile('git:\n  username: bot\n', 0o600, (p) => assert.throws(() => readAgentConfig(p), /agent config file .*: git\.password: /));
  withFile('storage:\n  aws: {accessKeyId: A}\n', 0o600, (p) => assert.throws(() => readAgentConfig(p), /storage\.aws\.secretAccessKey/));
});

test('a storage credentials file is checked like a storage secret', () => {
  withFile('{"aws": {"accessKeyId": "A", "secretAccessKey": "S"}}', 0o600, (p) =>
    assert.deepEqual(readStorageFile(p), { aws: { accessKeyId: 'A', secretAccessKey: 'S' } }));
  withFile('{"s3": {}}', 0o600, (p) => assert.throws(() => readStorageFile(p), /storage credentials file .*: unknown key s3 at storage; known keys: aws, gcp, azure/));
});

test('an unknown key in the agent config file is refused with its path and the nearest known key', () => {
  withFile('gti:\n  username: bot\n  password: tok\n', 0o600, (p) =>
    assert.throws(() => readAgentConfig(p), /agent config file .*: unknown key gti at the top level; did you mean git\?/));
  withFile('git:\n  username: bot\n  pasword: tok\n  password: tok\n', 0o600, (p) =>
    assert.throws(() => readAgentConfig(p), /unknown key pasword at git; did you mean password\?/));
  withFile('storage:\n  aws: {accessKeyId: A, secretAccessKey: S, regoin: eu-west-1}\n', 0o600, (p) =>
    assert.throws(() => readAgentConfig(p), /unknown key regoin at storage\.aws; did you mean region\?/));
});

test('masking holds back a possible secret start per stream and releases it on flush', () => {
  const m = secretMasking(['hunter2']);
  assert.equal(m('stdout', 'pass: hun'), 'pass: ');
  assert.equal(m('stderr', 'hunt'), '');
  assert.equal(m('stdout', 'ter2 ok hu'), '******** ok ');
  assert.deepEqual(m.flush!(), [{ stream: 'stdout', text: 'hu' }, { stream: 'stderr', text: 'hunt' }]);
  m.setSecrets(['other']);
  assert.equal(m('system', 'hunter2 other'), 'hunter2 ********');
});
