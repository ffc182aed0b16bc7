// API fuzz from /openapi.json on both stores: every route gets generated good, broken and random requests
// (paths, query strings, bodies, tokens), the same sequence to a SQLite and a PostgreSQL control plane.
// Wanted: no 5xx, no request left hanging, and the same status from both stores for every request.
import { after, before, test } from 'node:test';
import { request } from 'node:http';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { FlotillaClient } from '../../src/client/index.js';
import { chaosRng } from './rng.js';
import { generate, type FuzzRequest, type TokenKind } from './fuzz-gen.js';
import { report } from './report.js';

const REQUESTS = Number(process.env.CHAOS_FUZZ_REQUESTS ?? (process.env.CHAOS_LONG ? 10_000 : 600));
const HANG_MS = 30_000; // every wait the generator asks for is at most 20 ms; the slowest legitimate answer is far below

interface Side {
  t: TestControlPlane;
  tokens: Record<TokenKind, string | undefined>;
  /** Ids of tasks created so far, in creation order: index k names the same task on both stores. */
  tasks: string[];
}

const sides: Side[] = [];

async function prepare(dialect: 'sqlite' | 'postgres'): Promise<Side> {
  const t = await startTestControlPlane(dialect);
  const side: Side = { t, tasks: [], tokens: { admin: t.cp.adminToken, user: undefined, agent: t.agentToken, none: undefined, bad: 'flt_not-a-real-token' } };
  side.tokens.user = (await t.admin.createToken('fuzz-user', 'user')).token;
  for (const q of ['q0', 'q1']) await t.user.createQueue(q);
  await new FlotillaClient(t.cp.url, t.agentToken).register({ id: 'w0', queues: ['q0', 'q1'] });
  for (let i = 0; i < 3; i++) side.tasks.push((await t.user.createTask({ queue: 'q0', command: 'true' })).id);
  return side;
}

/** node:http, not fetch: fetch refuses a body on GET and normalises paths, and both are cases worth sending. */
function raw(url: string, req: FuzzRequest, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
    if (body) headers['content-length'] = String(body.length);
    const r = request({ host: u.hostname, port: u.port, method: req.method, path, headers, timeout: HANG_MS, agent: false }, (res) => {
      // A live stream (the console's Server-Sent Events) answers with its headers and then stays open by design.
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        resolve({ status: res.statusCode ?? 0, body: '' });
        return void r.destroy();
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(Object.assign(new Error('hang'), { name: 'TimeoutError' })));
    r.on('error', reject);
    r.end(body);
  });
}

async function send(side: Side, req: FuzzRequest, k: number): Promise<{ status: number; ms: number; body: string }> {
  const path = req.path.replace(/\{TASK\}/g, side.tasks[k % side.tasks.length]);
  const headers: Record<string, string> = {};
  const token = side.tokens[req.token];
  if (token) headers.authorization = `Bearer ${token}`;
  if (req.contentType) headers['content-type'] = req.contentType;
  const t0 = performance.now();
  try {
    const res = await raw(side.t.cp.url, req, path, headers);
    if (res.status < 300 && req.method === 'POST' && /\/tasks(\/batch)?$/.test(req.route)) {
      const json = JSON.parse(res.body);
      for (const task of json.tasks ?? [json]) if (task?.id) side.tasks.push(task.id);
    }
    return { ...res, ms: performance.now() - t0 };
  } catch (e) {
    return { status: (e as Error).name === 'TimeoutError' ? -1 : -2, ms: performance.now() - t0, body: String(e) };
  }
}

before(async () => {
  sides.push(await prepare('sqlite'), await prepare('postgres'));
});
after(async () => {
  for (const s of sides) await s.t.stop();
});

test(`fuzz: ${REQUESTS} generated requests over every route, no 5xx, no hang, same status on both stores`, async () => {
  const r = chaosRng('fuzz');
  const res = await fetch(`${sides[0].t.cp.url}/openapi.json`, { headers: { authorization: `Bearer ${sides[0].tokens.admin}` } });
  const doc = await res.json();
  const ops = Object.entries<any>(doc.paths).flatMap(([p, ms]) => Object.entries<any>(ms).map(([m, op]) => ({ p, m, op })));
  assert.ok(ops.length > 30, 'the document lists the routes');
  const byRoute = new Map<string, Map<string, number>>();
  const msByRoute = new Map<string, number>();
  const failures: string[] = [];
  let fiveXx = 0;
  let hangs = 0;
  let diffs = 0;
  let slowest = 0;
  for (let i = 0; i < REQUESTS; i++) {
    // Every route in turn first, then at random.
    const { p, m, op } = i < ops.length ? ops[i] : r.pick(ops);
    const req = generate(p, m, op, r);
    const k = r.int(0, 1_000);
    const [a, b] = await Promise.all(sides.map((s) => send(s, req, k)));
    slowest = Math.max(slowest, a.ms, b.ms);
    msByRoute.set(req.route, (msByRoute.get(req.route) ?? 0) + Math.max(a.ms, b.ms));
    const seen = byRoute.get(req.route) ?? new Map<string, number>();
    seen.set(String(a.status), (seen.get(String(a.status)) ?? 0) + 1);
    byRoute.set(req.route, seen);
    const show = () => `#${i} ${req.method} ${req.path.slice(0, 200)} token=${req.token} body=${(req.body ?? '').slice(0, 300)} ` +
      `→ sqlite ${a.status} ${a.body.slice(0, 200)} | postgres ${b.status} ${b.body.slice(0, 200)}`;
    // A control plane run from source has no agent bundle to serve: a deliberate 503 (BundleUnavailableError).
    const fails = (s: number) => s >= 500 && !(s === 503 && req.route === 'GET /api/v1/bootstrap/bundle');
    if (fails(a.status) || fails(b.status)) fiveXx++;
    if (a.status < 0 || b.status < 0) hangs++;
    if (a.status !== b.status) diffs++;
    if ((fails(a.status) || fails(b.status) || a.status < 0 || b.status < 0 || a.status !== b.status) && failures.length < 20) failures.push(show());
  }
  const coverage = [...byRoute].map(([route, st]) => `${route} ${[...st].map(([s, n]) => `${s}×${n}`).join(' ')} ${Math.round(msByRoute.get(route)!)} ms`);
  if (process.env.CHAOS_VERBOSE) process.stderr.write(`${coverage.join('\n')}\n`);
  report({ part: 'api fuzz', requests: REQUESTS * 2, notes: `${byRoute.size} routes, slowest answer ${Math.round(slowest)} ms`,
    zeros: { fiveXx, hangs, storeDiffs: diffs } });
  assert.deepEqual(failures, [], `seed ${r.seed}: ${fiveXx} × 5xx, ${hangs} hangs, ${diffs} store differences`);
  assert.equal(byRoute.size, ops.length, 'every route was called');
  const ok = [...byRoute.values()].reduce((n, st) => n + [...st].filter(([s]) => s.startsWith('2')).reduce((x, [, c]) => x + c, 0), 0);
  assert.ok(ok > REQUESTS / 20, `some requests were good enough to pass (${ok})`);
});
