// A seeded random source for the chaos suite: every run prints its seed, and CHAOS_SEED=N replays it.
export interface Rng {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: tiny, fast and good enough to spread faults; not for anything secret. */
export function rng(seed: number): Rng {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r: Rng = {
    seed,
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
  return r;
}

/** The seed of this run (CHAOS_SEED, else random), printed so a failure can be replayed. */
export function chaosRng(part: string): Rng {
  const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
  process.stderr.write(`chaos ${part}: seed ${seed} (replay with CHAOS_SEED=${seed})\n`);
  return rng(seed);
}

/** How many rounds the long form runs (CHAOS_ROUNDS, default 50); the short form in npm test passes its own. */
export function chaosRounds(short: number): number {
  if (process.env.CHAOS_ROUNDS) return Number(process.env.CHAOS_ROUNDS);
  return process.env.CHAOS_LONG ? 50 : short;
}
