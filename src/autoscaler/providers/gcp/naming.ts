// Deterministic names from the launch's client token: the same token gives the same instance name and
// request id, so a retried insert is answered with the first one's operation or with 409 alreadyExists.
import { createHash } from 'node:crypto';

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
// A fixed namespace for Flotilla's name-based UUIDs (RFC 4122 version 5).
const NAMESPACE = '6f1c3a52-8d0e-4b8e-9a57-2f3c1d0e7b44';

export function uuidV5(name: string, namespace = NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const requestIdFor = (clientToken: string) => uuidV5(clientToken);

/** `fl-<token>` when that is a valid GCE name, else `fl-` and a hash of the token. */
export function instanceNameFor(clientToken: string): string {
  const plain = `fl-${clientToken.toLowerCase()}`;
  if (NAME.test(plain) && clientToken === clientToken.toLowerCase()) return plain;
  return `fl-${createHash('sha256').update(clientToken).digest('hex').slice(0, 40)}`;
}

/** GCE label values: lower-case letters, digits, `_` and `-`, at most 63. */
export function labelValue(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^-_a-z0-9]/g, '-')
    .slice(0, 63);
}

/** providerId of a GCE instance: `zone/name` (both are needed to delete it). */
export const providerIdOf = (zone: string, name: string) => `${zone}/${name}`;

export function parseProviderId(id: string): { zone: string; name: string } {
  const [zone, name, ...rest] = id.split('/');
  if (!zone || !name || rest.length) throw new Error(`not a GCE provider id (zone/name): "${id}"`);
  return { zone, name };
}
