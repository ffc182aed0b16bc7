// The decision journal's bounds and what counts as a repeat. The reconciler journals every action and refusal; a
// short tick made it grow without bound (310 rows in 45 s), so it keeps at most `maxRowsPerApp` rows per app and
// none whose last repeat is older than `maxAgeMs`, and a refusal repeated as is becomes one row with a count.
import type { DecisionKind } from './autoscaler/lifecycle.js';

export interface JournalSettings {
  /** Newest rows kept per app (the Kubernetes glue counts as one app); older ones are deleted as new ones come. */
  maxRowsPerApp: number;
  /** Rows whose last repeat is older than this are deleted. */
  maxAgeMs: number;
}

export const DEFAULT_JOURNAL: Readonly<JournalSettings> = Object.freeze({
  maxRowsPerApp: 2000, // pages of `flotilla autoscaler decisions`, yet a few hundred KB per app at most
  maxAgeMs: 14 * 86_400_000, // two weeks: enough to look back at what happened over a weekend or a release
});

/** Kinds whose detail is a snapshot (how many tasks wait), so a repeat with the same reason folds whatever it says. */
export const FOLDED_KINDS: readonly (DecisionKind | string)[] = ['refuse', 'wait'];

/** The age prune runs at most this often (a DELETE over every app). */
export const AGE_PRUNE_EVERY_MS = 60_000;
