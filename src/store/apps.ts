// Autoscaler apps (their validated config), the instances they launched, and the decision journal.
import type { TokenRepo } from './tokens.js';
import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { Dialect } from './driver-types.js';
import type { Database, InstanceTable } from './schema.js';
import type { Events } from './events.js';
import { AppConfigSchema, type AppConfig } from '../domain/autoscaler/config.js';
import { parseDroppingUnknownKeys } from '../domain/config-keys.js';
import type { Offering } from '../domain/autoscaler/offering.js';
import { InvalidTransitionError, NotFoundError } from '../domain/errors.js';
import { showNul } from '../domain/text.js';
import { AGE_PRUNE_EVERY_MS, DEFAULT_JOURNAL, FOLDED_KINDS, type JournalSettings } from '../domain/journal.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { checkTransition, ENDED_STATES, LIVE_STATES, type DecisionKind, type InstanceState } from '../domain/autoscaler/lifecycle.js';

export { LIVE_STATES, type InstanceState, type DecisionKind } from '../domain/autoscaler/lifecycle.js';

export interface InstanceRecord {
  id: string;
  app: string;
  resource: string;
  providerId: string | null;
  state: InstanceState;
  offering: Offering;
  pricePerHour: number;
  launchedAt: number;
  stateChangedAt: number;
  endedAt: number | null;
  workerId: string | null;
  message: string | null;
  /** The queue whose task caused the launch; null when none did (adopted, or launched before migration 005). */
  causeQueue: string | null;
  /** When its worker registered; null while booting (or never). */
  readyAt: number | null;
  /** What a person asked from the console, not yet done: 'drain' or 'terminate'. */
  requested?: 'drain' | 'terminate';
  /** Set anew by every write (migration 007): what the reconciler's census of its records compares. */
  rev: number;
}

export interface Decision {
  id: number;
  at: number;
  app: string;
  queue: string | null;
  kind: DecisionKind;
  reason: string;
  detail: Record<string, unknown>;
}

/** A row as read back: how many times it happened, the last at `lastAt` (`at` is the first). */
export interface Folded { count: number; lastAt: number }

/** The Kubernetes glue keeps its own journal in the same table, with kinds of its own. */
export type GlueDecision = Omit<Decision, 'app' | 'kind'> & { app: 'k8s-glue'; kind: string };
/** A row as read back: an autoscaler app's decision or one of the glue's. */
export type JournalRow = Omit<Decision, 'kind'> & { kind: DecisionKind | GlueDecision['kind'] } & Folded;

const patchColumns = (patch: InstancePatch) => ({
  ...(patch.providerId !== undefined ? { provider_id: patch.providerId } : {}),
  ...(patch.workerId !== undefined ? { worker_id: patch.workerId } : {}),
  ...(patch.message !== undefined ? { message: patch.message } : {}),
});

export const toInstance = (r: Selectable<InstanceTable>): InstanceRecord => ({
  id: r.id, app: r.app, resource: r.resource, providerId: r.provider_id, state: r.state as InstanceState,
  offering: JSON.parse(r.offering), pricePerHour: r.price_per_hour, launchedAt: r.launched_at,
  stateChangedAt: r.state_changed_at, endedAt: r.ended_at, workerId: r.worker_id, message: r.message,
  causeQueue: r.cause_queue, readyAt: r.ready_at, rev: Number(r.rev),
  ...(r.requested ? { requested: r.requested as 'drain' | 'terminate' } : {}),
});

/** A stored app was validated when applied; a key a later version no longer knows is dropped, so it still loads. */
const parseStoredApp = (config: string): AppConfig => parseDroppingUnknownKeys(AppConfigSchema, JSON.parse(config));

export class AppRepo {
  constructor(private readonly db: Kysely<Database>, private readonly events: Events) {}

  async put(cfg: AppConfig, now = Date.now()): Promise<{ created: boolean }> {
    const config = JSON.stringify(cfg);
    const existing = await this.db.selectFrom('apps').select('name').where('name', '=', cfg.name).executeTakeFirst();
    if (existing) await this.db.updateTable('apps').set({ config, updated_at: now }).where('name', '=', cfg.name).execute();
    else await this.db.insertInto('apps').values({ name: cfg.name, config, created_at: now, updated_at: now }).execute();
    this.events.publish({ kind: 'apps' });
    return { created: !existing };
  }

  async get(name: string): Promise<AppConfig> {
    const r = await this.db.selectFrom('apps').select('config').where('name', '=', name).executeTakeFirst();
    if (!r) throw new NotFoundError(`autoscaler app "${name}" not found`);
    return parseStoredApp(r.config);
  }

  async list(): Promise<(AppConfig & { updatedAt: number })[]> {
    const rows = await this.db.selectFrom('apps').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ ...parseStoredApp(r.config), updatedAt: r.updated_at }));
  }

  async delete(name: string): Promise<void> {
    const r = await this.db.deleteFrom('apps').where('name', '=', name).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NotFoundError(`autoscaler app "${name}" not found`);
    this.events.publish({ kind: 'apps' });
  }
}

/** What an instance write may set besides its state (the state changes only through `move`). */
export interface InstancePatch { providerId?: string; workerId?: string | null; message?: string }

/** The live instances of an app in three numbers: a write by anyone changes at least one (live-instances.ts). */
export interface Census { n: number; top: number; total: number }

export class InstanceRepo {
  /** The value of `rev` for a write: larger than any before it (migration 007). */
  private readonly nextRev: RawBuilder<number>;

  constructor(private readonly db: Kysely<Database>, private readonly tokens: TokenRepo, private readonly events?: Events,
    dialect: Dialect = 'sqlite') {
    this.nextRev = dialect === 'postgres' ? sql<number>`nextval('instances_rev_seq')` : sql<number>`(SELECT coalesce(max(rev), 0) + 1 FROM instances)`;
  }

  /** Every instance starts `requested`; from there only `move` changes its state. */
  async create(i: Omit<InstanceRecord, 'stateChangedAt' | 'endedAt' | 'workerId' | 'message' | 'providerId' | 'state' | 'causeQueue' | 'readyAt' | 'rev'>
    & { state?: 'requested'; causeQueue?: string | null }): Promise<InstanceRecord> {
    const row = await this.db.insertInto('instances').values({
      id: i.id, app: i.app, resource: i.resource, provider_id: null, state: 'requested', offering: JSON.stringify(i.offering),
      price_per_hour: i.pricePerHour, launched_at: i.launchedAt, state_changed_at: i.launchedAt, ended_at: null,
      worker_id: null, message: null, cause_queue: i.causeQueue ?? null, ready_at: null, requested: null, rev: this.nextRev,
    }).returningAll().executeTakeFirstOrThrow();
    this.events?.publish({ kind: 'instances', app: i.app });
    return toInstance(row);
  }

  /** Fields other than the state; the state changes only through `move`. Null: no such instance, or nothing to set. */
  async update(id: string, patch: InstancePatch): Promise<InstanceRecord | null> {
    const set = patchColumns(patch);
    if (!Object.keys(set).length) return null;
    const row = await this.db.updateTable('instances').set({ ...set, rev: this.nextRev }).where('id', '=', id).returningAll().executeTakeFirst();
    return row ? toInstance(row) : null;
  }

  /**
   * Moves an instance from one state to another if the lifecycle table allows it and the record is still
   * in `from` (compare-and-set): a move the table forbids, or one that lost a race to another writer, is
   * refused with an InvalidTransitionError naming both states. Returns the record as written.
   */
  async move(id: string, from: InstanceState, to: InstanceState, patch: InstancePatch = {}, now = Date.now()): Promise<InstanceRecord> {
    checkTransition(id, from, to);
    const ended = ENDED_STATES.includes(to);
    const row = await this.db.updateTable('instances').set({
      state: to, state_changed_at: now, ...patchColumns(patch), rev: this.nextRev,
      ...(ended ? { ended_at: now } : {}),
      ...(to === 'ready' ? { ready_at: now } : {}),
    }).where('id', '=', id).where('state', '=', from).returningAll().executeTakeFirst();
    if (!row) {
      const cur = await this.get(id);
      if (!cur) throw new NotFoundError(`instance ${id} not found`);
      throw new InvalidTransitionError(`instance ${id}`, cur.state, to, `expected ${from}: it changed meanwhile`);
    }
    // An ended machine's agent and bootstrap tokens die with it.
    if (ended) await this.tokens.revokeScoped([id, ...(row.provider_id ? [row.provider_id] : [])]);
    this.events?.publish({ kind: 'instances', app: row.app });
    return toInstance(row);
  }

  /**
   * A person's request from the console: 'drain' (no new task, stopped when idle) or 'terminate' (now). The app's
   * reconciler carries it out at its next pass, which the event wakes. Only a live instance can be asked.
   */
  async request(id: string, what: 'drain' | 'terminate'): Promise<InstanceRecord> {
    const row = await this.db.updateTable('instances').set({ requested: what, rev: this.nextRev }).where('id', '=', id)
      .where('state', 'in', ['requested', 'booting', 'ready']).returningAll().executeTakeFirst();
    if (!row) {
      const cur = await this.get(id);
      if (!cur) throw new NotFoundError(`instance ${id} not found`);
      throw new InvalidTransitionError(`instance ${id}`, cur.state, what === 'drain' ? 'draining' : 'terminating', 'it is no longer running');
    }
    this.events?.publish({ kind: 'instances', app: row.app, requested: true });
    return toInstance(row);
  }

  /** How many live instances the app has, their largest rev and the sum of their revs: one read of a covering index. */
  async census(app: string): Promise<Census> {
    const r = await this.db.selectFrom('instances')
      .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.max<number | string | null>('rev').as('top'),
        eb.fn.sum<number | string | null>('rev').as('total')])
      .where('app', '=', app).where('state', 'in', [...LIVE_STATES]).executeTakeFirstOrThrow();
    return { n: Number(r.n), top: Number(r.top ?? 0), total: Number(r.total ?? 0) };
  }

  /** The app's instances written after `rev` (any state: one that ended since is among them). */
  async changedSince(app: string, rev: number): Promise<InstanceRecord[]> {
    return (await this.db.selectFrom('instances').selectAll().where('rev', '>', rev).where('app', '=', app).execute()).map(toInstance);
  }

  /** These instances as stored now (any state); the ones not found are left out. */
  async byIds(ids: readonly string[]): Promise<InstanceRecord[]> {
    if (!ids.length) return [];
    return (await this.db.selectFrom('instances').selectAll().where('id', 'in', [...ids]).execute()).map(toInstance);
  }

  async get(id: string): Promise<InstanceRecord | null> {
    const r = await this.db.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toInstance(r) : null;
  }

  async live(app: string): Promise<InstanceRecord[]> {
    // The id breaks ties: launches of one step share a millisecond, and PostgreSQL returned ties in any order,
    // so the policy's "waiting for instance X to boot" named another X each pass, a journal row each time.
    const rows = await this.db.selectFrom('instances').selectAll().where('app', '=', app)
      .where('state', 'in', [...LIVE_STATES]).orderBy('launched_at').orderBy('id').execute();
    return rows.map(toInstance);
  }


  /** Every app's instances that ran at some time after `since` (the console's spend of all apps in one query). */
  async ranSince(since: number): Promise<InstanceRecord[]> {
    const rows = await this.db.selectFrom('instances').selectAll()
      .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>=', since)])).execute();
    return rows.map(toInstance);
  }

  async listAll(app?: string, limit = 200): Promise<InstanceRecord[]> {
    let q = this.db.selectFrom('instances').selectAll().orderBy('launched_at', 'desc').limit(limit);
    if (app) q = q.where('app', '=', app);
    return (await q.execute()).map(toInstance);
  }
}

/**
 * The decision journal, bounded: a row that repeats the newest row of its app and queue (same kind and reason, and
 * the same detail unless the kind is in FOLDED_KINDS) adds to that row's count instead of adding a row; each new row
 * prunes its app to `maxRowsPerApp` rows, and rows whose last repeat is older than `maxAgeMs` go (at most once per
 * AGE_PRUNE_EVERY_MS). Ages are measured with the repository's clock.
 */
export class DecisionRepo {
  private readonly settings: JournalSettings;
  private lastAgePrune = -Infinity;

  private readonly events?: Events;

  constructor(private readonly db: Kysely<Database>, o: { clock?: Clock; journal?: Partial<JournalSettings>; events?: Events } = {}) {
    this.settings = { ...DEFAULT_JOURNAL, ...o.journal };
    this.clock = o.clock ?? systemClock;
    this.events = o.events;
  }

  private readonly clock: Clock;

  async add(d: Omit<Decision, 'id'> | Omit<GlueDecision, 'id'>): Promise<void> {
    // A reason may quote user text (a task's name, a cloud's or a pod's message): U+0000 is written as `\0`,
    // which PostgreSQL can keep (the detail is JSON, where it is `\u0000` already).
    d = { ...d, app: showNul(d.app), queue: d.queue === null ? null : showNul(d.queue), kind: showNul(d.kind),
      reason: showNul(d.reason) } as typeof d;
    const detail = JSON.stringify(d.detail);
    let last = this.db.selectFrom('decisions').select(['id', 'kind', 'reason', 'detail']).where('app', '=', d.app);
    last = d.queue === null ? last.where('queue', 'is', null) : last.where('queue', '=', d.queue);
    const prev = await last.orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (prev && prev.kind === d.kind && prev.reason === d.reason && (FOLDED_KINDS.includes(d.kind) || prev.detail === detail)) {
      await this.db.updateTable('decisions')
        .set((eb) => ({ count: eb('count', '+', 1), last_at: d.at, detail }))
        .where('id', '=', prev.id).execute();
    } else {
      await this.db.insertInto('decisions').values({
        at: d.at, last_at: d.at, app: d.app, queue: d.queue, kind: d.kind, reason: d.reason, detail,
      }).execute();
      await this.pruneApp(d.app);
    }
    if (this.clock.now() - this.lastAgePrune >= AGE_PRUNE_EVERY_MS) await this.pruneOld();
    this.events?.publish({ kind: 'decisions', app: d.app });
  }

  /** Keeps the newest maxRowsPerApp rows of `app`: one DELETE (no edge: the comparison is NULL, nothing goes). */
  private async pruneApp(app: string): Promise<void> {
    await this.db.deleteFrom('decisions').where('app', '=', app).where('id', '<=', (eb) => eb.selectFrom('decisions')
      .select('id').where('app', '=', app).orderBy('id', 'desc').limit(1).offset(this.settings.maxRowsPerApp)).execute();
  }

  /** Deletes rows of every app whose last repeat is older than maxAgeMs. */
  async pruneOld(): Promise<void> {
    const now = this.clock.now();
    this.lastAgePrune = now;
    await this.db.deleteFrom('decisions').where('last_at', '<', now - this.settings.maxAgeMs).execute();
  }

  async recent(f: { app?: string; queue?: string; kind?: DecisionKind; kinds?: DecisionKind[]; since?: number; limit?: number }): Promise<JournalRow[]> {
    let q = this.db.selectFrom('decisions').selectAll().orderBy('id', 'desc').limit(f.limit ?? 50);
    if (f.app) q = q.where('app', '=', f.app);
    if (f.queue) q = q.where('queue', '=', f.queue);
    if (f.kind) q = q.where('kind', '=', f.kind);
    if (f.kinds?.length) q = q.where('kind', 'in', f.kinds);
    if (f.since !== undefined) q = q.where('last_at', '>=', f.since);
    const rows = await q.execute();
    return rows.map(({ last_at, count, ...r }) => ({
      ...r, id: Number(r.id), detail: JSON.parse(r.detail), count: Number(count), lastAt: last_at ?? r.at,
    }));
  }

  /** Decisions made, by app and kind (a folded row counts as many times as it happened; pruned rows no longer count). */
  async countByKind(): Promise<{ app: string; kind: string; n: number }[]> {
    const rows = await this.db.selectFrom('decisions')
      .select(['app', 'kind', (eb) => eb.fn.sum<number>('count').as('n')]).groupBy(['app', 'kind']).execute();
    return rows.map((r) => ({ ...r, n: Number(r.n) }));
  }
}
