// The session tokens ClearML clients get from auth.login: JWTs (HS256), which the agent decodes without checking
// (it reads api_version, feature_set and exp). Signed with the stored hash of the Flotilla token that logged in,
// so revoking or expiring that token ends its sessions, and every replica can check them without a shared key.
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64 = (v: Buffer | string) => Buffer.from(v).toString('base64url');

export function signJwt(claims: Record<string, unknown>, key: string): string {
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64(JSON.stringify(claims));
  return `${head}.${body}.${b64(createHmac('sha256', key).update(`${head}.${body}`).digest())}`;
}

/** The claims, without checking the signature (to find the key); null when it is not a JWT. */
export function peekJwt(token: string): Record<string, any> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

export function jwtSignedWith(token: string, key: string): boolean {
  const [head, body, sig] = token.split('.');
  if (!head || !body || !sig) return false;
  const want = createHmac('sha256', key).update(`${head}.${body}`).digest();
  const got = Buffer.from(sig, 'base64url');
  return got.length === want.length && timingSafeEqual(got, want);
}
