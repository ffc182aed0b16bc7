// Copies the SQLite write-ahead log back into the database file from a worker thread. Left to SQLite, the
// copy (and its fsync) runs inside whichever commit crosses the threshold: half of the commit time on a
// busy queue, on the thread that serves the API. A PASSIVE checkpoint never blocks writers; SQLite's own
// checkpoint stays on at a high threshold as a safety net should this thread fall behind.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const CODE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next tick */ } };
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('closed');
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, everyMs = 200): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(CODE, { eval: true, workerData: { module, file, everyMs } });
  worker.unref();
  // A failure here costs speed, not data: SQLite's own checkpoint still runs.
  worker.on('error', () => undefined);
  return {
    async stop() {
      const closed = new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
      });
      worker.postMessage('stop');
      await closed;
      await worker.terminate();
    },
  };
}
