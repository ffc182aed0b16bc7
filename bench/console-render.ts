// How fast the console's overview renders with a full store: 100 queues, 10,000 tasks and 1,000 instances
// (10 apps on the simulated provider, launched by the real autoscaler), in Debian's Chromium. Also prints the
// first-load JavaScript (gzipped) of web/dist. Run: npm run bench:console (target: ≤ 1 s, ≤ 300 KB).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startTestControlPlane } from '../test/support/control-plane.js';
import { waitFor } from '../test/support/wait.js';
import { launchBrowser, signIn } from '../test/console/browser.js';

const QUEUES = 100;
const TASKS = 10_000;
const APPS = 10;
const PER_APP = 100;
const RUNS = 5;

function firstLoadKb(): number {
  const dist = resolve(import.meta.dirname, '..', 'web', 'dist');
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  return files.reduce((s, f) => s + gzipSync(readFileSync(join(dist, f))).length, 0) / 1024;
}

const t = await startTestControlPlane('sqlite', { logLevel: 'silent' });
const b = await launchBrowser();
try {
  const queues = Array.from({ length: QUEUES }, (_, i) => `q${String(i).padStart(3, '0')}`);
  for (const q of queues) await t.admin.createQueue(q);
  for (let a = 0; a < APPS; a++) {
    const mine = queues.slice(a * (QUEUES / APPS), (a + 1) * (QUEUES / APPS));
    await t.admin.request('PUT', `/api/v1/autoscalers/sim-${a}`, {
      name: `sim-${a}`, provider: { kind: 'simulated' },
      resources: [{ name: 'gpu', instanceType: 'g5.xlarge', pricePerHour: 1, maxInstances: PER_APP }],
      queues: Object.fromEntries(mine.map((q) => [q, ['gpu']])),
      budget: { maxInstances: PER_APP, maxPerHour: 1000 },
      timings: { idleTimeoutS: 3600, bootTimeoutS: 3600, capacityCooldownS: 60 },
      simulation: { bootTime: { distribution: 'fixed', seconds: 3600 } },
    });
  }
  const started = Date.now();
  for (let i = 0; i < TASKS; i += 1000)
    await t.admin.createTasks(Array.from({ length: 1000 }, (_, j) => ({ queue: queues[(i + j) % QUEUES], command: 'true' })));
  process.stdout.write(`seeded ${QUEUES} queues and ${TASKS} tasks in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const live = async () => {
    let n = 0;
    for (let a = 0; a < APPS; a++) n += (await t.cp.store.instances.live(`sim-${a}`)).length;
    return n;
  };
  await waitFor(`${APPS * PER_APP} instances`, async () => (await live()) >= APPS * PER_APP, 300_000, 500);
  process.stdout.write(`the autoscaler launched ${await live()} instances\n`);

  const ctx = await b.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await signIn(page, t.cp.url, t.cp.adminToken!);
  const api = Date.now();
  const body = await (await page.request.get(`${t.cp.url}/api/v1/overview`)).text();
  process.stdout.write(`GET /api/v1/overview: ${Date.now() - api} ms, ${(body.length / 1024).toFixed(0)} KB\n`);
  const times: number[] = [];
  let parts = '';
  for (let r = 0; r < RUNS; r++) {
    await page.goto(t.cp.url);
    // Measured by the browser itself: from the start of the navigation to the frame where every row is in the page.
    const shown = await page.waitForFunction(([queues, apps]) => {
      const q = document.querySelectorAll('section[aria-labelledby="ov-queues"] tbody tr').length;
      const a = document.querySelectorAll('section[aria-labelledby="ov-apps"] tbody tr').length;
      return q === queues && a === apps ? performance.now() : 0;
    }, [QUEUES, APPS] as const, { polling: 'raf', timeout: 30_000 });
    times.push(Math.round(await shown.jsonValue()));
    // A string, not a function: tsx would wrap named helpers in a function the page does not have.
    parts = await page.evaluate(`(() => {
      const at = (re) => Math.round(performance.getEntriesByType('resource').find((e) => re.test(e.name))?.responseEnd ?? NaN);
      const nav = performance.getEntriesByType('navigation')[0];
      return 'HTML ' + Math.round(nav.responseEnd) + ' ms, script ' + at(/assets\\/index-.*\\.js/) + ' ms, session ' +
        at(/\\/api\\/v1\\/session/) + ' ms, overview data ' + at(/\\/api\\/v1\\/overview/) + ' ms';
    })()`);
  }
  times.sort((x, y) => x - y);
  process.stdout.write(`overview render (navigation → ${QUEUES} queues and ${APPS} apps shown), ${RUNS} runs: ` +
    `median ${times[RUNS >> 1]} ms, worst ${times[RUNS - 1]} ms (target ≤ 1000 ms)\n`);
  process.stdout.write(`last run, when each part had arrived: ${parts}\n`);
  process.stdout.write(`first-load JavaScript: ${firstLoadKb().toFixed(1)} KB gzipped (target ≤ 300 KB)\n`);
} finally {
  await b.close();
  await t.stop();
}
