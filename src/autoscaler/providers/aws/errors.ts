// Which EC2 error codes mean "no capacity for this offering, try the next" and which mean "slow down".

/** The offering (type, zone/subnet, market) cannot be served now; the policy falls back. */
export const AWS_CAPACITY_CODES = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientHostCapacity',
  'InsufficientCapacity',
  'InsufficientFreeAddressesInSubnet',
  'SpotMaxPriceTooLow',
  'MaxSpotInstanceCountExceeded',
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'Unsupported',
]);

/** Retried with back-off and jitter; ThrottleError only when the retries run out. */
export const AWS_THROTTLE_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'Unavailable',
]);

/** The EC2 error code: the SDK puts it in `name` (and sometimes `Code`). */
export function awsErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; Code?: unknown; code?: unknown };
  for (const v of [e.Code, e.code, e.name]) if (typeof v === 'string' && v !== 'Error') return v;
  return undefined;
}

export const isAwsThrottle = (err: unknown) => AWS_THROTTLE_CODES.has(awsErrorCode(err) ?? '');
export const isAwsCapacity = (err: unknown) => AWS_CAPACITY_CODES.has(awsErrorCode(err) ?? '');
