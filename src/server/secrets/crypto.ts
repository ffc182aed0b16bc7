// Secret values at rest: AES-256-GCM with a random 96-bit IV per value. The key comes from
// FLOTILLA_SECRET_KEY (base64 of 32 bytes) or from <dataDir>/secret-key, created 0600 on first start.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_FILE_NAME = 'secret-key';

function parseKey(base64: string, where: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== KEY_BYTES) {
    throw new Error(
      `${where} must be base64 of exactly ${KEY_BYTES} bytes (got ${key.length}); make one with: openssl rand -base64 32`,
    );
  }
  return key;
}

function readKeyFile(path: string): Buffer {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new Error(`${path} is readable by others (mode ${mode.toString(8)}); fix it with: chmod 600 ${path}`);
  }
  return parseKey(readFileSync(path, 'utf8'), path);
}

/** The key from FLOTILLA_SECRET_KEY, else <dataDir>/secret-key (created with mode 0600 when missing). */
export function loadSecretKey(opts: { dataDir: string; env?: NodeJS.ProcessEnv }): Buffer {
  const fromEnv = (opts.env ?? process.env).FLOTILLA_SECRET_KEY;
  if (fromEnv) return parseKey(fromEnv, 'FLOTILLA_SECRET_KEY');
  const path = join(opts.dataDir, KEY_FILE_NAME);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails when the file exists, so two starting servers cannot overwrite each other's key.
    writeFileSync(path, randomBytes(KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readKeyFile(path);
}

/**
 * Encrypts one value. `context` (e.g. the secret's id) is bound in as associated data, so a
 * ciphertext copied to another row does not decrypt there.
 */
export function encryptSecret(key: Buffer, plaintext: string, context = ''): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
}

export function decryptSecret(key: Buffer, sealed: string, context = ''): string {
  const [version, iv, tag, body] = sealed.split(':');
  if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) {
    throw new Error(`encrypted secret has an unknown format (expected ${VERSION}:iv:tag:data)`);
  }
  const tagBytes = Buffer.from(tag, 'base64');
  if (tagBytes.length !== TAG_BYTES) throw new Error('encrypted secret is damaged (bad authentication tag)');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(tagBytes);
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('could not decrypt secret: wrong key (FLOTILLA_SECRET_KEY or secret-key file) or damaged data');
  }
}
