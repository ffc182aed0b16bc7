// API tokens: stored as SHA-256 hashes (they are 256-bit random, so a fast hash is enough); shown once.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, TokenTable } from './schema.js';
import { newId } from './tasks.js';

export const ROLES = ['admin', 'user', 'agent', 'bootstrap'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  scope: string | null;
  /**
   * An agent token's binding: the autoscaler app it may register a worker of (null: none, so no app's secrets),
   * the app's resource (null: any of the app's), and the queues (null: those the app maps to the resource).
   * Set when an instance's or a pod's token is minted, or granted by an admin (`token create --app`).
   */
  app: string | null;
  resource: string | null;
  queues: string[] | null;
  expiresAt: number | null;
  createdAt: number;
}

/** What binds an agent token (see TokenInfo). */
export interface Binding {
  app?: string | null;
  resource?: string | null;
  queues?: string[] | null;
}

type TokenRow = Selectable<TokenTable>;
const toInfo = (r: TokenRow): TokenInfo => ({
  id: r.id, name: r.name, role: r.role as Role, scope: r.scope,
  app: r.app, resource: r.resource, queues: r.queues === null ? null : JSON.parse(r.queues),
  expiresAt: r.expires_at, createdAt: r.created_at,
});

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** How long a verified token is trusted without asking the store again (every request carries one). */
const VERIFY_CACHE_MS = 5_000;

export class TokenRepo {
  private readonly verified = new Map<string, { info: TokenInfo; until: number }>();
  private readonly byIdCache = new Map<string, { v: { info: TokenInfo; hash: string }; until: number }>();

  constructor(private readonly db: Kysely<Database>) {}

  async create(
    name: string,
    role: Role,
    opts: { scope?: string; ttlMs?: number } & Binding = {},
    now = Date.now(),
  ): Promise<{ token: string; info: TokenInfo }> {
    const token = `flt_${randomBytes(32).toString('base64url')}`;
    const row: TokenRow = {
      id: newId(),
      name,
      role,
      hash: hashToken(token),
      scope: opts.scope ?? null,
      app: opts.app ?? null,
      resource: opts.resource ?? null,
      queues: opts.queues ? JSON.stringify(opts.queues) : null,
      expires_at: opts.ttlMs ? now + opts.ttlMs : null,
      used_at: null,
      created_at: now,
    };
    await this.db.insertInto('tokens').values(row).execute();
    return { token, info: toInfo(row) };
  }

  /** The token's record if it was verified in the last few seconds (no store access, so no await). */
  cached(token: string, now = Date.now()): TokenInfo | undefined {
    // Keyed by the token itself, which this process holds anyway while it serves the request: hashing every
    // request's token only to look it up was a visible share of a busy queue's CPU.
    const hit = this.verified.get(token);
    if (hit && hit.until > now && (hit.info.expiresAt === null || hit.info.expiresAt >= now)) return hit.info;
    return undefined;
  }

  async verify(token: string, now = Date.now()): Promise<TokenInfo | null> {
    const hit = this.cached(token, now);
    if (hit) return hit;
    const r = await this.db.selectFrom('tokens').selectAll().where('hash', '=', hashToken(token)).executeTakeFirst();
    // A spent one-time token (bootstrap, after its exchange) is no longer valid anywhere.
    if (!r || r.used_at !== null || (r.expires_at !== null && r.expires_at < now)) {
      this.verified.delete(token);
      return null;
    }
    const info = toInfo(r);
    if (this.verified.size >= 10_000) this.verified.clear();
    this.verified.set(token, { info, until: now + VERIFY_CACHE_MS });
    return info;
  }

  /**
   * A valid token by its id, with its stored hash: the ClearML adapter signs the session tokens (JWTs) it hands
   * out with the hash, so a revoked or expired token's sessions end with it. Cached like verify().
   */
  async byId(id: string, now = Date.now()): Promise<{ info: TokenInfo; hash: string } | null> {
    const hit = this.byIdCache.get(id);
    if (hit && hit.until > now && (hit.v.info.expiresAt === null || hit.v.info.expiresAt >= now)) return hit.v;
    const r = await this.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r || r.used_at !== null || (r.expires_at !== null && r.expires_at < now)) {
      this.byIdCache.delete(id);
      return null;
    }
    const v = { info: toInfo(r), hash: r.hash };
    if (this.byIdCache.size >= 10_000) this.byIdCache.clear();
    this.byIdCache.set(id, { v, until: now + VERIFY_CACHE_MS });
    return v;
  }

  /** Revokes every token scoped to one of `scopes` (an ended machine's agent and bootstrap tokens). */
  async revokeScoped(scopes: string[]): Promise<void> {
    const wanted = new Set(scopes);
    for (const [token, v] of this.verified) if (v.info.scope !== null && wanted.has(v.info.scope)) this.verified.delete(token);
    for (const [id, v] of this.byIdCache) if (v.v.info.scope !== null && wanted.has(v.v.info.scope)) this.byIdCache.delete(id);
    await this.db.deleteFrom('tokens').where('scope', 'in', scopes).execute();
  }

  private forget(id: string): void {
    this.byIdCache.delete(id);
    for (const [token, v] of this.verified) if (v.info.id === id) this.verified.delete(token);
    for (const f of this.forgetters) f(id);
  }

  private readonly forgetters: ((tokenId: string) => void)[] = [];

  /** Called when a token is revoked here, so caches keyed by something else (console sessions) drop it at once. */
  onForget(f: (tokenId: string) => void): void {
    this.forgetters.push(f);
  }

  /** One-time tokens (bootstrap): the first use wins, any later use fails. */
  async consume(id: string, now = Date.now()): Promise<boolean> {
    this.forget(id);
    const r = await this.db.updateTable('tokens').set({ used_at: now }).where('id', '=', id)
      .where('used_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async list(): Promise<TokenInfo[]> {
    const rows = await this.db.selectFrom('tokens').selectAll().where('role', '!=', 'bootstrap').orderBy('created_at').execute();
    return rows.map(toInfo);
  }

  async hasAdmin(): Promise<boolean> {
    return !!(await this.db.selectFrom('tokens').select('id').where('role', '=', 'admin').executeTakeFirst());
  }

  async revoke(id: string): Promise<boolean> {
    this.forget(id);
    const r = await this.db.deleteFrom('tokens').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }
}
