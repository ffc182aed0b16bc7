// A real control plane on a random port with a fresh store of the given dialect, for tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../src/server/main.js';
import { FlotillaClient } from '../../src/client/index.js';
import { createTestDb, type TestDb } from './stores.js';

export interface TestControlPlane {
  cp: ControlPlane;
  db: TestDb;
  dataDir: string;
  admin: FlotillaClient;
  /** A user-role client (what people use). */
  user: FlotillaClient;
  agentToken: string;
  /** Stops and starts the control plane on the same port and store; `whileDown` runs in between. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestControlPlane(
  dialect: 'sqlite' | 'postgres',
  opts: Partial<ControlPlaneOptions> = {},
): Promise<TestControlPlane> {
  const db = await createTestDb(dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-cp-'));
  const start = (port = 0) => startControlPlane({ db: db.url, dataDir, port, logLevel: 'silent', ...opts });
  let cp = await start();
  const admin = new FlotillaClient(cp.url, cp.adminToken!);
  const user = new FlotillaClient(cp.url, (await admin.createToken('tester', 'user')).token);
  const agentToken = (await admin.createToken('agents', 'agent')).token;
  const t: TestControlPlane = {
    cp, db, dataDir, admin, user, agentToken,
    async restart(whileDown) {
      const port = Number(new URL(t.cp.url).port);
      await t.cp.close();
      await whileDown?.();
      t.cp = cp = await start(port);
    },
    async stop() {
      await t.cp.close().catch(() => undefined);
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
