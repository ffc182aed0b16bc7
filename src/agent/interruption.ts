// Watches the cloud's interruption notice from the machine's metadata server: AWS (IMDSv2) announces a
// spot stop about two minutes ahead and may recommend leaving earlier (rebalance); Compute Engine sets
// `instance/preempted` about 30 s ahead. The address is a setting so tests serve a fake.
import { setTimeout as delay } from 'node:timers/promises';

const sleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal });

export type InterruptionSource = 'aws' | 'gcp';

export interface InterruptionNotice {
  source: InterruptionSource;
  /** What the cloud will do: terminate, stop, hibernate (AWS), or preempt (GCE). */
  action: string;
  /** When the machine goes (epoch ms), as the cloud says it; GCE says nothing: about 30 s. */
  at: number;
}

export interface InterruptionWatch {
  source: InterruptionSource;
  /** Base URL of the metadata server: http://169.254.169.254 (AWS), http://metadata.google.internal (GCE). */
  metadataUrl: string;
  /** AWS is polled (it has no long poll). */
  pollMs?: number;
  /** How long a task gets after SIGTERM on a notice (the machine's own deadline shortens it). */
  graceMs?: number;
}

export const DEFAULT_METADATA_URL: Record<InterruptionSource, string> = {
  aws: 'http://169.254.169.254',
  gcp: 'http://metadata.google.internal',
};

/**
 * What each cloud gives between the notice and the machine going, and what the task gets of it: AWS gives
 * 120 s, of which 90 s to the task leaves time to hand it back and sign off; GCE gives 30 s, of which 20 s.
 */
export const NOTICE_MS: Record<InterruptionSource, number> = { aws: 120_000, gcp: 30_000 };
export const DEFAULT_GRACE_MS: Record<InterruptionSource, number> = { aws: 90_000, gcp: 20_000 };
/** AWS advises polling the instance-action at least every 5 s; each second more of notice is a second more for the task, for one loopback call. */
const AWS_POLL_MS = 1_000;
/** The hand-back and sign-off after the task's grace, which the machine's deadline must also hold. */
export const HAND_BACK_MS = 5_000;

/** The grace a task gets on a notice: the configured one, cut so that the hand-back still fits before the machine goes. */
export function graceFor(w: InterruptionWatch, notice: InterruptionNotice, now: number): number {
  const configured = w.graceMs ?? DEFAULT_GRACE_MS[w.source];
  return Math.max(1_000, Math.min(configured, notice.at - now - HAND_BACK_MS));
}

export interface WatchHandlers {
  onRebalance(): void;
  onNotice(n: InterruptionNotice): void;
  log(msg: string): void;
}

/** Runs until `signal` or a notice; a metadata server that does not answer is retried and said once. */
export async function watchInterruptions(w: InterruptionWatch, h: WatchHandlers, signal: AbortSignal): Promise<void> {
  const base = w.metadataUrl.replace(/\/+$/, '');
  let failing = false;
  const failed = (e: unknown) => {
    if (!failing) h.log(`interruption watch: the metadata server at ${base} does not answer (${(e as Error).message}); retrying`);
    failing = true;
  };
  const ok = () => {
    if (failing) h.log(`interruption watch: the metadata server at ${base} answers again`);
    failing = false;
  };
  if (w.source === 'aws') await watchAws(base, w.pollMs ?? AWS_POLL_MS, h, signal, ok, failed);
  else await watchGce(base, h, signal, ok, failed, w.pollMs ?? AWS_POLL_MS);
}

async function watchAws(base: string, pollMs: number, h: WatchHandlers, signal: AbortSignal, ok: () => void, failed: (e: unknown) => void) {
  let token: string | undefined;
  let rebalanced = false;
  const get = async (path: string) => {
    token ??= await imdsToken(base, signal);
    const res = await fetch(`${base}/latest/meta-data/${path}`, { headers: { 'X-aws-ec2-metadata-token': token }, signal });
    if (res.status === 401) token = undefined; // the session token expired: a new one next time
    if (res.status !== 200) {
      await res.body?.cancel();
      if (res.status === 404 || res.status === 401) return null;
      throw new Error(`HTTP ${res.status} for ${path}`);
    }
    return res.json() as Promise<Record<string, string>>;
  };
  while (!signal.aborted) {
    try {
      const action = await get('spot/instance-action');
      if (action) {
        ok();
        const at = Date.parse(action.time ?? '');
        return h.onNotice({ source: 'aws', action: action.action ?? 'terminate', at: Number.isNaN(at) ? Date.now() + NOTICE_MS.aws : at });
      }
      if (!rebalanced && (await get('events/recommendations/rebalance'))) {
        rebalanced = true;
        h.onRebalance();
      }
      ok();
    } catch (e) {
      if (signal.aborted) return;
      failed(e);
    }
    await sleep(pollMs, signal).catch(() => undefined);
  }
}

async function imdsToken(base: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' }, signal });
  if (!res.ok) throw new Error(`HTTP ${res.status} for an IMDSv2 token`);
  return res.text();
}

/** GCE: a long poll (`wait_for_change`) on `instance/preempted`, which turns TRUE at preemption. */
async function watchGce(base: string, h: WatchHandlers, signal: AbortSignal, ok: () => void, failed: (e: unknown) => void, retryMs: number) {
  let etag: string | undefined;
  while (!signal.aborted) {
    try {
      const q = etag ? `?wait_for_change=true&timeout_sec=60&last_etag=${encodeURIComponent(etag)}` : '';
      const res = await fetch(`${base}/computeMetadata/v1/instance/preempted${q}`, { headers: { 'Metadata-Flavor': 'Google' }, signal });
      if (!res.ok) throw new Error(`HTTP ${res.status} for instance/preempted`);
      etag = res.headers.get('etag') ?? undefined;
      const value = (await res.text()).trim();
      ok();
      if (value === 'TRUE') return h.onNotice({ source: 'gcp', action: 'preempt', at: Date.now() + NOTICE_MS.gcp });
      if (!etag) await sleep(retryMs, signal).catch(() => undefined); // a server without etags: poll
    } catch (e) {
      if (signal.aborted) return;
      failed(e);
      await sleep(retryMs, signal).catch(() => undefined);
    }
  }
}
