// Every call the console makes: same-origin with the session cookie, and the header a cross-site form cannot
// send (the server refuses a cookie-authenticated change without it). A 401 anywhere sends back to sign-in.

export interface Issue { field: string; message: string }

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly issues: Issue[] = []) {
    super(message);
  }
}

type Listener = () => void;
const unauthorized = new Set<Listener>();
/** Called when any request answers 401 (the session ended or was revoked). */
export function onUnauthorized(l: Listener): () => void {
  unauthorized.add(l);
  return () => unauthorized.delete(l);
}

/** The API's issues come as {field: 'body.a.b'} or {path: ['a', 'b']}; the form wants 'a.b'. */
function normalIssues(raw: unknown): Issue[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((i: { field?: string; path?: (string | number)[]; message?: string }) => ({
    field: i.path ? i.path.join('.') : (i.field ?? '').replace(/^body\.?/, ''),
    message: i.message ?? 'is not valid',
  }));
}

export async function api<T>(method: string, path: string, body?: unknown, opts: { raw?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { 'x-flotilla-console': '1' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401 && path !== '/session') unauthorized.forEach((l) => l());
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!res.ok) {
    let data: { error?: string; message?: string; issues?: unknown } = {};
    try { data = JSON.parse(text); } catch { /* not JSON: the status says enough */ }
    throw new ApiError(res.status, data.error ?? data.message ?? `HTTP ${res.status}`, normalIssues(data.issues));
  }
  if (opts.raw) return text as T;
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = (path: string) => api<void>('DELETE', path);
export const enc = encodeURIComponent;

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
