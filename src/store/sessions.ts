// Console sessions: a random id in an HttpOnly cookie, stored as its SHA-256 hash with the token it was opened
// with and an expiry. A session acts with its token's role and dies with it (revoked or expired token).
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { TokenInfo, TokenRepo } from './tokens.js';

const hash = (id: string) => createHash('sha256').update(id).digest('hex');
/** How long a verified session is trusted without asking the store again (as tokens). */
const CACHE_MS = 5_000;

export class SessionRepo {
  private readonly cache = new Map<string, { info: TokenInfo; until: number; expiresAt: number }>();

  constructor(private readonly db: Kysely<Database>, private readonly tokens: TokenRepo) {
    tokens.onForget((tokenId) => {
      for (const [id, v] of this.cache) if (v.info.id === tokenId) this.cache.delete(id);
    });
  }

  /** Opens a session for a verified token; returns the id to put in the cookie (never stored). */
  async open(token: TokenInfo, ttlMs: number, now = Date.now()): Promise<{ id: string; expiresAt: number }> {
    const id = randomBytes(32).toString('base64url');
    // Never outlives its token.
    const expiresAt = Math.min(now + ttlMs, token.expiresAt ?? Infinity);
    await this.db.insertInto('sessions').values({ hash: hash(id), token_id: token.id, created_at: now, expires_at: expiresAt }).execute();
    // Expired sessions go when new ones come: the table stays as small as the live sessions.
    await this.db.deleteFrom('sessions').where('expires_at', '<', now).execute();
    return { id, expiresAt };
  }

  /** The session's token, or null when the session is unknown, expired or revoked, or its token is. */
  async verify(id: string, now = Date.now()): Promise<TokenInfo | null> {
    const hit = this.cache.get(id);
    if (hit && hit.until > now && hit.expiresAt > now) return hit.info;
    const r = await this.db.selectFrom('sessions').innerJoin('tokens', 'tokens.id', 'sessions.token_id')
      .select(['sessions.expires_at as sessionExpires', 'tokens.id as tokenId'])
      .where('sessions.hash', '=', hash(id)).executeTakeFirst();
    if (!r || r.sessionExpires <= now) {
      this.cache.delete(id);
      return null;
    }
    const info = (await this.tokens.byId(r.tokenId, now))?.info;
    if (!info) return null;
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(id, { info, until: now + CACHE_MS, expiresAt: r.sessionExpires });
    return info;
  }

  /** Signs out: the session is gone at once on this replica, and from the store for every other. */
  async revoke(id: string): Promise<void> {
    this.cache.delete(id);
    await this.db.deleteFrom('sessions').where('hash', '=', hash(id)).execute();
  }
}
