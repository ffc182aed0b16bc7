// How numbers read on the page: durations, money, times.
export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}
export const usd = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : `$${x.toFixed(digits)}`;
export const time = (ms: number | null | undefined) => (ms ? new Date(ms).toLocaleString() : '—');
export const since = (ms: number | null | undefined, now = Date.now()) => (ms ? duration((now - ms) / 1000) : '—');
export const num = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(digits);
