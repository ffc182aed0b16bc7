// Live updates: one EventSource on /api/v1/events; each message names a topic, and the queries reading that
// topic are refetched (coalesced, so a burst of events costs one refetch). The browser resumes a dropped stream
// with Last-Event-ID; while it is down the page says "reconnecting", and on return everything is refetched once,
// since events may have been missed.
import { useEffect, useState } from 'react';
import type { QueryClient } from '@tanstack/react-query';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/** Which query keys (their first part) a topic makes stale. The overview reads everything. */
const READERS: Record<string, string[]> = {
  tasks: ['tasks', 'task', 'overview', 'queues', 'instances', 'why'],
  workers: ['workers', 'overview', 'instances'],
  instances: ['instances', 'overview', 'status', 'history'],
  decisions: ['decisions', 'overview', 'why', 'k8s'],
  queues: ['queues', 'overview'],
  apps: ['apps', 'app', 'overview'],
};

export function useLive(client: QueryClient, enabled: boolean): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    if (!enabled) return;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let flush: ReturnType<typeof setTimeout> | undefined;
    let wasDown = false;
    let backoff = 500;
    const pending = new Set<string>();
    const invalidate = (keys: Iterable<string>) => {
      for (const k of keys) pending.add(k);
      flush ??= setTimeout(() => {
        flush = undefined;
        const keys = [...pending];
        pending.clear();
        client.invalidateQueries({ predicate: (q) => keys.includes(String(q.queryKey[0])) });
      }, 100);
    };
    const everything = () => client.invalidateQueries();
    const open = () => {
      source = new EventSource('/api/v1/events', { withCredentials: true });
      source.onopen = () => {
        backoff = 500;
        setState('live');
        if (wasDown) everything();
        wasDown = false;
      };
      source.onmessage = (e) => {
        try {
          const msg = JSON.parse(e.data) as { topic?: string };
          invalidate(READERS[msg.topic ?? ''] ?? ['overview']);
        } catch { /* a message that is not JSON still means something changed */ invalidate(['overview']); }
      };
      source.addEventListener('reset', everything);
      source.onerror = () => {
        wasDown = true;
        setState('reconnecting');
        // CONNECTING: the browser retries by itself. CLOSED (e.g. the server answered an error): we retry.
        if (source?.readyState === EventSource.CLOSED) {
          source.close();
          retry = setTimeout(open, backoff);
          backoff = Math.min(backoff * 2, 10_000);
        }
      };
    };
    open();
    return () => {
      source?.close();
      clearTimeout(retry);
      clearTimeout(flush);
    };
  }, [client, enabled]);
  return state;
}
