// A browser's side of the console, for tests: sign in with a token, then call the API with the session cookie (and
// the console's header on changes, as the web app sends it).
export interface Session {
  cookie: string;
  setCookie: string;
  call(method: string, path: string, body?: unknown, opts?: { header?: boolean; headers?: Record<string, string> }): Promise<Response>;
}

export async function signIn(url: string, token: string): Promise<Session> {
  const res = await fetch(`${url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0];
  return {
    cookie, setCookie,
    // A bounded wait: a request the server never answers fails the test with its path instead of hanging it.
    call: (method, path, body, opts = {}) => fetch(`${url}${path}`, {
      method, signal: AbortSignal.timeout(30_000),
      headers: {
        cookie,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.header === false ? {} : { 'x-flotilla-console': '1' }),
        ...opts.headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  };
}

export interface SseEvent { id?: string; event?: string; data?: string }

/** Opens GET /api/v1/events and reads its events as they come. */
export async function openStream(url: string, headers: Record<string, string>): Promise<{
  status: number;
  next(what: string, match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}> {
  const ac = new AbortController();
  const res = await fetch(`${url}/api/v1/events`, { headers, signal: ac.signal });
  const seen: SseEvent[] = [];
  const waiters = new Set<() => void>();
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const e: SseEvent = {};
            for (const line of block.split('\n')) {
              const m = /^(id|event|data): ?(.*)$/.exec(line);
              if (m) e[m[1] as keyof SseEvent] = m[2];
            }
            if (e.data !== undefined || e.event) seen.push(e);
            for (const w of waiters) w();
          }
        }
      } catch { /* closed */ }
    })();
  }
  return {
    status: res.status,
    next: (what, match, timeoutMs = 10_000) => new Promise((resolve, reject) => {
      const check = () => {
        const i = seen.findIndex(match);
        if (i < 0) return false;
        const [e] = seen.splice(0, i + 1).slice(-1);
        waiters.delete(check);
        clearTimeout(timer);
        resolve(e);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(seen)}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    }),
    close: () => ac.abort(),
  };
}
