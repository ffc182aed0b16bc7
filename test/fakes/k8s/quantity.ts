// Kubernetes resource quantities ("500m", "2", "1Gi", "512M") as plain numbers, enough for the fake scheduler.
const SUFFIX: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) throw new Error(`bad quantity "${q}"`);
  const scale = m[2] === '' ? 1 : SUFFIX[m[2]];
  if (scale === undefined) throw new Error(`bad quantity suffix in "${q}"`);
  return Number(m[1]) * scale;
}

export type Resources = Record<string, number>;

/** Sum of the containers' requests; a resource with only a limit requests its limit, as the API server defaults it. */
export function podRequests(pod: any): Resources {
  const total: Resources = {};
  for (const c of pod.spec?.containers ?? []) {
    const req = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    for (const [k, v] of Object.entries(req)) total[k] = (total[k] ?? 0) + parseQuantity(v as string);
  }
  return total;
}
