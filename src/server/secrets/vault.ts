// Secrets in and out of the store: values are sealed with AES-256-GCM before they are written and
// opened only for the callers that must hand them on (an agent of the app that uses them).
import type { SecretInfo, SecretRepo } from '../../store/secrets.js';
import { decryptSecret, encryptSecret, loadSecretKey } from './crypto.js';
import type { SecretKind } from './kinds.js';

export class SecretVault {
  constructor(private readonly repo: SecretRepo, private readonly key: Buffer) {}

  /** The secret's name is bound into the ciphertext: a sealed value copied to another row will not open. */
  put(name: string, kind: SecretKind, value: unknown): Promise<{ created: boolean }> {
    return this.repo.put(name, kind, encryptSecret(this.key, JSON.stringify(value), name));
  }

  list(): Promise<SecretInfo[]> {
    return this.repo.list();
  }

  delete(name: string): Promise<void> {
    return this.repo.delete(name);
  }

  /** The value in clear. Never return it from a user-facing endpoint, never log it. */
  async open(name: string): Promise<{ kind: string; value: unknown }> {
    const sealed = await this.repo.get(name);
    return { kind: sealed.kind, value: JSON.parse(decryptSecret(this.key, sealed.ciphertext, name)) };
  }
}

/** The control plane's vault: key from FLOTILLA_SECRET_KEY or <dataDir>/secret-key (made on first start). */
export function secretVault(store: { secrets: SecretRepo }, dataDir: string, env = process.env): SecretVault {
  return new SecretVault(store.secrets, loadSecretKey({ dataDir, env }));
}
