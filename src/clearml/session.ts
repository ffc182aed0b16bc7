// auth.login and the check of every other call. A ClearML access key is the id of a Flotilla token and its secret
// key is the token itself (`flotilla token create --role agent --clearml` prints the pair), so login costs what a
// Flotilla request costs: one SHA-256 and a lookup cached for 5 s, no slow hash (the agent logs in again on every
// log flush). The session token is a JWT signed with the token's stored hash (jwt.ts).
import type { Store } from '../store/index.js';
import type { TokenInfo } from '../store/tokens.js';
import { API_VERSION, ClearmlError, SERVER_VERSION } from './envelope.js';
import { jwtSignedWith, peekJwt, signJwt } from './jwt.js';

/** Longer than the 12 h under which the agent logs in again before every call. */
const SESSION_S = 30 * 86_400;

const unauthorized = (why: string) => new ClearmlError(401, 10, why);

export async function login(store: Store, authorization: string | undefined, now = Date.now()): Promise<{ token: string }> {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  let info: TokenInfo;
  let hash: string;
  if (basic) {
    const pair = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    const [access, secret] = colon < 0 ? [pair, ''] : [pair.slice(0, colon), pair.slice(colon + 1)];
    const verified = secret ? await store.tokens.verify(secret, now) : null;
    if (!verified || verified.id !== access)
      throw unauthorized('invalid access key or secret key: make a pair with `flotilla token create --role agent --clearml`');
    const got = await store.tokens.byId(verified.id, now);
    if (!got) throw unauthorized('this token was revoked or has expired');
    ({ info, hash } = got);
  } else {
    // A session renewing itself with its current token.
    ({ info, hash } = await sessionOf(store, authorization, now));
  }
  if (info.role === 'bootstrap') throw unauthorized('a bootstrap token cannot log in; trade it for an agent token first');
  const iat = Math.floor(now / 1000);
  return {
    token: signJwt({
      iat, exp: iat + SESSION_S, env: 'flotilla',
      api_version: API_VERSION, server_version: SERVER_VERSION, feature_set: 'basic',
      identity: { user: info.id, user_name: info.name, company: 'flotilla', company_name: 'flotilla', role: info.role === 'admin' ? 'admin' : 'user' },
    }, hash),
  };
}

async function sessionOf(store: Store, authorization: string | undefined, now: number): Promise<{ info: TokenInfo; hash: string }> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!bearer) throw unauthorized('missing credentials: log in with auth.login (HTTP Basic: access key, secret key)');
  const claims = peekJwt(bearer[1]!);
  const id = claims?.identity?.user;
  if (typeof id !== 'string' || typeof claims!.exp !== 'number' || claims!.exp * 1000 < now)
    throw unauthorized('invalid or expired token: log in again');
  const got = await store.tokens.byId(id, now);
  if (!got || !jwtSignedWith(bearer[1]!, got.hash)) throw unauthorized('invalid token, or its Flotilla token was revoked: log in again');
  return got;
}

/** The Flotilla token behind a call's session. */
export async function authenticate(store: Store, authorization: string | undefined, now = Date.now()): Promise<TokenInfo> {
  return (await sessionOf(store, authorization, now)).info;
}
