// The live instance records of one autoscaler app, kept in memory by its reconciler. Reading all of them on every
// pass was most of a pass at 10,000 instances (docs/benchmarks.md, "Scale" and "Second round"); the reconciler
// writes nearly every change itself, so it keeps what it wrote and asks the store, each pass, only for a census of
// the app's live records (how many, their largest rev, the sum of their revs: one read of a covering index, migration
// 007). Every write sets a row's rev to a new largest value, so another writer's change (a console request, a spot
// notice through the API, another control plane) changes the census: then the rows written since the largest rev
// held here are read, and if the census still differs (a write that committed late with a smaller rev, a row gone)
// all of them are. The records are read whole when first asked, after `invalidate()` (a failed pass), and when the
// census cannot be made to agree. A pass asks once (`records()`); its later steps take `held()`, which adds what the
// pass wrote since.
import type { Census, InstancePatch, InstanceRecord, InstanceRepo } from './apps.js';
import { LIVE_STATES, type InstanceState } from '../domain/autoscaler/lifecycle.js';

const LIVE = new Set<InstanceState>(LIVE_STATES);

type NewInstance = Parameters<InstanceRepo['create']>[0];

/** How the records were brought up to date, for tests and the benchmark. */
export interface LiveStats {
  /** Whole reads of the app's live records. */
  loads: number;
  /** Census reads. */
  checks: number;
  /** Reads of the rows written since the largest rev held. */
  deltas: number;
}

export class LiveInstances {
  private readonly recs = new Map<string, InstanceRecord>();
  private ordered: InstanceRecord[] | null = null;
  private loaded = false;
  /** The largest rev of any row read or written here (one that ended since included). */
  private high = 0;
  /** Ids this object wrote, or tried to, whose stored row it may not hold (the write failed): read again first. */
  private readonly unsure = new Set<string>();
  readonly stats: LiveStats = { loads: 0, checks: 0, deltas: 0 };

  constructor(private readonly repo: InstanceRepo, readonly app: string) {}

  /**
   * The app's live records as stored, in launch order (launch time, then id: the order `InstanceRepo.live` gives).
   * The objects are shared with later calls: a caller changes one only after writing that change through here.
   */
  async records(): Promise<InstanceRecord[]> {
    if (!this.loaded) return this.load();
    await this.settleUnsure();
    this.stats.checks++;
    const stored = await this.repo.census(this.app);
    if (agree(stored, this.census())) return this.list();
    this.stats.deltas++;
    for (const r of await this.repo.changedSince(this.app, this.high)) this.apply(r);
    if (agree(stored, this.census())) return this.list();
    return this.load();
  }

  /**
   * The records as held since the last `records()`, with the writes made through here since (and a refused one read
   * again), without asking the store for a census: for the steps of a pass after the one that asked.
   */
  async held(): Promise<InstanceRecord[]> {
    if (!this.loaded) return this.load();
    await this.settleUnsure();
    return this.list();
  }

  private async settleUnsure(): Promise<void> {
    if (!this.unsure.size) return;
    const ids = [...this.unsure];
    this.unsure.clear();
    const found = await this.repo.byIds(ids);
    for (const id of ids) if (!found.some((r) => r.id === id)) this.forget(id);
    for (const r of found) this.apply(r);
  }

  /** The next `records()` reads them all again (after a pass that failed half way, whatever it left). */
  invalidate(): void {
    this.loaded = false;
  }

  // The writes of the app's reconciler: the store's, with the record as written kept here.

  async create(i: NewInstance): Promise<InstanceRecord> {
    return this.keep(i.id, this.repo.create(i));
  }

  async move(id: string, from: InstanceState, to: InstanceState, patch: InstancePatch = {}, now = Date.now()): Promise<InstanceRecord> {
    return this.keep(id, this.repo.move(id, from, to, patch, now));
  }

  async update(id: string, patch: InstancePatch): Promise<InstanceRecord | null> {
    return this.keep(id, this.repo.update(id, patch));
  }

  private async keep<T extends InstanceRecord | null>(id: string, write: Promise<T>): Promise<T> {
    try {
      const rec = await write;
      if (rec) this.apply(rec);
      return rec;
    } catch (e) {
      // Refused (another writer moved it first) or failed: what is stored now is read before the next census.
      this.unsure.add(id);
      throw e;
    }
  }

  private async load(): Promise<InstanceRecord[]> {
    this.stats.loads++;
    const rows = await this.repo.live(this.app);
    this.recs.clear();
    for (const r of rows) {
      this.recs.set(r.id, r);
      if (r.rev > this.high) this.high = r.rev;
    }
    this.unsure.clear();
    this.ordered = rows;
    this.loaded = true;
    return this.list();
  }

  private apply(rec: InstanceRecord): void {
    if (rec.app !== this.app) return;
    if (rec.rev > this.high) this.high = rec.rev;
    if (LIVE.has(rec.state)) this.recs.set(rec.id, rec);
    else this.recs.delete(rec.id);
    this.ordered = null;
  }

  private forget(id: string): void {
    if (this.recs.delete(id)) this.ordered = null;
  }

  private list(): InstanceRecord[] {
    this.ordered ??= [...this.recs.values()].sort((a, b) => a.launchedAt - b.launchedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // A copy: the caller may filter or sort it; the records themselves are shared.
    return [...this.ordered];
  }

  private census(): Census {
    let n = 0;
    let top = 0;
    let total = 0;
    for (const r of this.recs.values()) {
      n++;
      total += r.rev;
      if (r.rev > top) top = r.rev;
    }
    return { n, top, total };
  }
}

const agree = (a: Census, b: Census) => a.n === b.n && a.top === b.top && a.total === b.total;
