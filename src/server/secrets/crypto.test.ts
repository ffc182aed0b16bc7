import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret, loadSecretKey } from './crypto.js';

const withDir = (fn: (dir: string) => void) => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-crypto-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test('a value round-trips and the ciphertext does not contain it', () => {
  const key = randomBytes(32);
  const sealed = encryptSecret(key, 'canary-password-123', 'secret-1');
  assert.ok(!sealed.includes('canary'));
  assert.equal(decryptSecret(key, sealed, 'secret-1'), 'canary-password-123');
  assert.notEqual(encryptSecret(key, 'same'), encryptSecret(key, 'same'), 'fresh IV per value');
});

test('tampered ciphertext is refused', () => {
  const key = randomBytes(32);
  const [v, iv, tag, body] = encryptSecret(key, 'hello world').split(':');
  const flipped = Buffer.from(body!, 'base64');
  flipped[0]! ^= 1;
  assert.throws(() => decryptSecret(key, [v, iv, tag, flipped.toString('base64')].join(':')), /could not decrypt/);
});

test('wrong key or wrong context is refused', () => {
  const sealed = encryptSecret(randomBytes(32), 'hello', 'a');
  assert.throws(() => decryptSecret(randomBytes(32), sealed, 'a'), /wrong key/);
  const key = randomBytes(32);
  assert.throws(() => decryptSecret(key, encryptSecret(key, 'hello', 'a'), 'b'), /could not decrypt/);
});

test('FLOTILLA_SECRET_KEY wins and must be 32 bytes of base64', () => {
  const key = randomBytes(32);
  withDir((dir) => {
    assert.deepEqual(loadSecretKey({ dataDir: dir, env: { FLOTILLA_SECRET_KEY: key.toString('base64') } }), key);
    assert.throws(
      () => loadSecretKey({ dataDir: dir, env: { FLOTILLA_SECRET_KEY: 'c2hvcnQ=' } }),
      /FLOTILLA_SECRET_KEY must be base64 of exactly 32 bytes.*openssl rand -base64 32/,
    );
  });
});

test('without the env var a key file is created once with mode 0600 and reused', () => {
  withDir((dir) => {
    const first = loadSecretKey({ dataDir: join(dir, 'data'), env: {} });
    const path = join(dir, 'data', 'secret-key');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64').length, 32);
    assert.deepEqual(loadSecretKey({ dataDir: join(dir, 'data'), env: {} }), first);
  });
});

test('a key file readable by others is refused with the fix', () => {
  withDir((dir) => {
    loadSecretKey({ dataDir: dir, env: {} });
    chmodSync(join(dir, 'secret-key'), 0o644);
    assert.throws(() => loadSecretKey({ dataDir: dir, env: {} }), /chmod 600/);
  });
});
