// The store: one object holding the database and a repository per concern.
import { openDb, type Db } from './db.js';
import { Events } from './events.js';
import { TaskRepo } from './tasks.js';
import { LogRepo } from './logs.js';
import { WorkerRepo } from './workers.js';
import { QueueRepo } from './queues.js';
import { TokenRepo } from './tokens.js';
import { SecretRepo } from './secrets.js';
import { AppRepo, DecisionRepo, InstanceRepo } from './apps.js';
import { CostRepo } from './costs.js';
import { SessionRepo } from './sessions.js';
import { HistoryRepo } from './history.js';
import type { Clock } from '../domain/clock.js';
import type { JournalSettings } from '../domain/journal.js';

export interface StoreOptions {
  maxLogBytesPerTask?: number;
  workerOfflineAfterMs?: number;
  /** Bounds of the decision journal (default DEFAULT_JOURNAL). */
  journal?: Partial<JournalSettings>;
  /** The journal's clock, for its age bound (tests move it by hand). */
  clock?: Clock;
}

export class Store {
  readonly events: Events;
  readonly tasks: TaskRepo;
  readonly logs: LogRepo;
  readonly workers: WorkerRepo;
  readonly queues: QueueRepo;
  readonly tokens: TokenRepo;
  readonly secrets: SecretRepo;
  readonly apps: AppRepo;
  readonly instances: InstanceRepo;
  readonly decisions: DecisionRepo;
  readonly costs: CostRepo;
  readonly sessions: SessionRepo;
  readonly history: HistoryRepo;

  private constructor(readonly db: Db, opts: StoreOptions) {
    this.events = new Events(db.pool);
    this.tasks = new TaskRepo(db.kysely, db.hot);
    this.logs = new LogRepo(db.kysely, this.events, opts.maxLogBytesPerTask ?? 10 * 1024 * 1024);
    this.workers = new WorkerRepo(db.kysely, opts.workerOfflineAfterMs ?? 30_000);
    this.queues = new QueueRepo(db.kysely);
    this.tokens = new TokenRepo(db.kysely);
    this.secrets = new SecretRepo(db.kysely);
    this.apps = new AppRepo(db.kysely, this.events);
    this.costs = new CostRepo(db.kysely);
    this.instances = new InstanceRepo(db.kysely, this.tokens, this.events, db.dialect);
    this.decisions = new DecisionRepo(db.kysely, { clock: opts.clock, journal: opts.journal, events: this.events });
    this.sessions = new SessionRepo(db.kysely, this.tokens);
    this.history = new HistoryRepo(db.kysely);
  }

  static async open(url: string, opts: StoreOptions = {}): Promise<Store> {
    const store = new Store(await openDb(url), opts);
    await store.events.start();
    return store;
  }

  get kysely() {
    return this.db.kysely;
  }

  async close(): Promise<void> {
    await this.events.stop();
    await this.db.close();
  }
}

export { NotFoundError, ConflictError, ForbiddenError } from '../domain/errors.js';
