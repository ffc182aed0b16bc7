// Which Compute Engine errors mean "no capacity for this offering" and which mean "slow down".

/** Operation error codes (and quota refusals) after which the policy tries the next zone or market. */
export const GCP_CAPACITY_CODES = new Set([
  'ZONE_RESOURCE_POOL_EXHAUSTED',
  'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS',
  'QUOTA_EXCEEDED',
  'RESOURCE_POOL_EXHAUSTED',
  'UNSUPPORTED_OPERATION',
]);

const THROTTLE_HTTP = new Set([429, 503]);

interface GoogleLikeError {
  httpStatusCode?: number;
  code?: number | string;
  message?: string;
}

const asGoogle = (err: unknown): GoogleLikeError => (typeof err === 'object' && err !== null ? (err as GoogleLikeError) : {});

/** HTTP 429 or 503 from the API (the client library does not retry inserts or deletes itself). */
export function isGcpThrottle(err: unknown): boolean {
  return THROTTLE_HTTP.has(asGoogle(err).httpStatusCode ?? 0);
}

/** A 403 whose message speaks of quota is GCE's synchronous QUOTA_EXCEEDED. */
export function gcpHttpCapacityCode(err: unknown): string | undefined {
  const e = asGoogle(err);
  return e.httpStatusCode === 403 && /quota/i.test(e.message ?? '') ? 'QUOTA_EXCEEDED' : undefined;
}

export const isGcpNotFound = (err: unknown) => asGoogle(err).httpStatusCode === 404 || asGoogle(err).code === 5;
export const isGcpAlreadyExists = (err: unknown) => asGoogle(err).httpStatusCode === 409;
