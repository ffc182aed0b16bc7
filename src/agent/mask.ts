// Masks secret values in a task's log stream. Output arrives in arbitrary chunks, so a secret may be
// split across two of them: the end of a chunk that could still begin a secret is held back until the
// next chunk (or flush) shows whether it does.
import type { Stream } from './executors/types.js';

export const MASK = '********';

export interface Masker {
  /** Returns the part of the text that is safe to show now. */
  write(text: string): string;
  /** Returns whatever was held back; call when the stream ends. */
  flush(): string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function createMasker(secrets: Iterable<string>): Masker {
  // Longest first, so a secret that contains another is masked whole.
  const values = [...new Set([...secrets].filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return { write: (text) => text, flush: () => '' };
  const pattern = new RegExp(values.map(escapeRegExp).join('|'), 'g');
  let held = '';

  // Length of the longest tail of `text` (after `from`) that is the start of some secret.
  const pendingTail = (text: string, from: number): number => {
    const longest = Math.min(values[0]!.length - 1, text.length - from);
    for (let n = longest; n > 0; n--) {
      const tail = text.slice(text.length - n);
      if (values.some((v) => v.length > n && v.startsWith(tail))) return n;
    }
    return 0;
  };

  return {
    write(text) {
      const joined = held + text;
      let masked = '';
      let last = 0;
      for (const m of joined.matchAll(pattern)) {
        masked += joined.slice(last, m.index) + MASK;
        last = m.index + m[0].length;
      }
      const rest = joined.slice(last);
      const keep = pendingTail(rest, 0);
      held = rest.slice(rest.length - keep);
      return masked + rest.slice(0, rest.length - keep);
    },
    flush() {
      const out = held;
      held = '';
      return out;
    },
  };
}

/** Wraps a task's output callback so both streams are masked; call flush() when the task has ended. */
export function maskingOutput(secrets: Iterable<string>, onOutput: (stream: Stream, text: string) => void) {
  const list = [...secrets];
  const maskers = { stdout: createMasker(list), stderr: createMasker(list) };
  return {
    onOutput(stream: Stream, text: string) {
      const safe = maskers[stream].write(text);
      if (safe) onOutput(stream, safe);
    },
    flush() {
      for (const stream of ['stdout', 'stderr'] as const) {
        const rest = maskers[stream].flush();
        if (rest) onOutput(stream, rest);
      }
    },
  };
}
