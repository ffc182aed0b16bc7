// Secrets at rest: name, kind and the sealed value. This repository never sees a value in clear;
// sealing and opening happen in src/server/secrets/vault.ts, which holds the key.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { NotFoundError } from '../domain/errors.js';

export interface SecretInfo {
  name: string;
  kind: string;
  createdAt: number;
  updatedAt: number;
}

export interface SealedSecret extends SecretInfo {
  ciphertext: string;
}

export class SecretRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates or replaces; the creation time of a replaced secret is kept. */
  async put(name: string, kind: string, ciphertext: string, now = Date.now()): Promise<{ created: boolean }> {
    const r = await this.db.insertInto('secrets')
      .values({ name, kind, ciphertext, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doUpdateSet({ kind, ciphertext, updated_at: now }))
      .returning('created_at').executeTakeFirstOrThrow();
    return { created: Number(r.created_at) === now };
  }

  async list(): Promise<SecretInfo[]> {
    const rows = await this.db.selectFrom('secrets').select(['name', 'kind', 'created_at', 'updated_at']).orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, kind: r.kind, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  async get(name: string): Promise<SealedSecret> {
    const r = await this.db.selectFrom('secrets').selectAll().where('name', '=', name).executeTakeFirst();
    if (!r) throw new NotFoundError(`secret "${name}" not found: create it with \`flotilla secret set ${name}\``);
    return { name: r.name, kind: r.kind, ciphertext: r.ciphertext, createdAt: r.created_at, updatedAt: r.updated_at };
  }

  async delete(name: string): Promise<void> {
    const r = await this.db.deleteFrom('secrets').where('name', '=', name).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NotFoundError(`secret "${name}" not found`);
  }
}
