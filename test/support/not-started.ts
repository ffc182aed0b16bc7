// An app started by a real AutoscalerManager on a fresh store of the dialect, for the apps that must NOT start
// (their price cannot be had): the journal's `app-not-started` reason, asserted to exist, and no reconciler made.
import assert from 'node:assert/strict';
import type { AppConfig } from '../../src/domain/autoscaler/config.js';
import { AutoscalerManager } from '../../src/autoscaler/manager.js';
import { Store } from '../../src/store/index.js';
import { QueueService } from '../../src/services/queue.js';
import { createTestDb } from './stores.js';

export async function notStartedReason(dialect: 'sqlite' | 'postgres', cfg: AppConfig): Promise<string> {
  const db = await createTestDb(dialect);
  const store = await Store.open(db.url);
  const logs: string[] = [];
  try {
    await store.apps.put(cfg);
    const manager = new AutoscalerManager({ store, queue: new QueueService(store, { leaseTtlMs: 30_000 }), serverUrl: 'http://127.0.0.1:9',
      dataDir: '/tmp', log: (m) => logs.push(m), timings: { tickMs: 3_600_000 } });
    await manager.start();
    manager.stop();
    assert.equal(manager.reconcilers.size, 0, logs.join('\n'));
    const rows = await store.decisions.recent({ app: cfg.name, kind: 'app-not-started' });
    assert.ok(rows[0], logs.join('\n'));
    return rows[0]!.reason;
  } finally {
    await store.close();
    await db.drop();
  }
}
