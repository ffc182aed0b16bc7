// The web console in a real browser (Debian's Chromium) against a real control plane with the local provider:
// sign in, create an app in the form (a field error first), choose the aws provider and see its own fields, enqueue
// from the UI and see instances appear live, follow a running task's log, abort it, replay a trace, sign out and be
// refused; axe-core on every page.
// CONSOLE_SCREENSHOTS=docs/console also saves a PNG of each page (1280×800, and the overview at phone width).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { waitFor } from '../support/wait.js';
import { killLocalWorkers } from '../autoscaler/helpers.js';
import { launchBrowser, seriousA11yViolations, signIn, type TestBrowser } from './browser.js';

const APP = 'console-app';
const QUEUE = 'console';
const SHOTS = process.env.CONSOLE_SCREENSHOTS;
const DESKTOP = { width: 1280, height: 800 };

let t: TestControlPlane;
let b: TestBrowser;
let ctx: BrowserContext;
let page: Page;
let adminToken: string;
let userToken: string;

/** Checks the page with axe-core, and saves a screenshot of it when asked. */
async function look(p: Page, name: string, show?: Locator): Promise<void> {
  const found = await seriousA11yViolations(p);
  assert.deepEqual(found, [], `accessibility of the ${name} page`);
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    if (show) await show.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await p.screenshot({ path: join(SHOTS, `${name}.png`) });
  }
}

const heading = (p: Page, name: string | RegExp) => p.getByRole('heading', { level: 1, name }).waitFor();

before(async () => {
  t = await startTestControlPlane('sqlite');
  adminToken = t.cp.adminToken!;
  userToken = (await t.admin.createToken('viewer', 'user')).token;
  b = await launchBrowser();
  ctx = await b.browser.newContext({ viewport: DESKTOP });
  page = await ctx.newPage();
});

after(async () => {
  await b?.close();
  await killLocalWorkers(APP);
  await t?.stop();
});

test('sign in with a token: the overview shows, and an unknown route shows a page', async () => {
  await page.goto(t.cp.url);
  await page.getByLabel('Token').waitFor();
  await look(page, 'sign-in');
  await page.getByLabel('Token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: /token/i }).waitFor();
  await signIn(page, t.cp.url, adminToken);
  const cookies = await ctx.cookies();
  const session = cookies.find((c) => c.name === 'flotilla_session');
  assert.ok(session?.httpOnly && session.sameSite === 'Strict', 'an HttpOnly, SameSite=Strict session cookie');
  assert.equal(await page.evaluate(() => JSON.stringify(localStorage)), '{}', 'nothing kept in localStorage');
  await t.admin.createQueue('empty');
  await page.getByRole('link', { name: 'Queues' }).click();
  await heading(page, 'Queues');
  await page.getByRole('link', { name: 'empty' }).waitFor();
  await look(page, 'queues');
  await page.goto(`${t.cp.url}/no/such/page`);
  await heading(page, 'Page not found');
  await look(page, 'not-found');
});

test('create an app in the form: a field error beside its field first, then a valid app', async () => {
  await page.goto(`${t.cp.url}/apps/new`);
  await heading(page, 'New autoscaler app');
  await page.getByLabel('Name', { exact: true }).first().fill(APP);
  await page.getByLabel('Queue 1', { exact: true }).fill(QUEUE);
  const resource = page.locator('[data-path="resources.0"]');
  await resource.getByLabel('Max instances').fill('0');
  await page.getByRole('button', { name: 'Review changes' }).click();
  const error = resource.locator('.field.invalid', { has: page.getByLabel('Max instances') });
  await error.locator('.error').waitFor();
  assert.equal(await resource.getByLabel('Max instances').inputValue(), '0', 'what was typed is kept');
  assert.equal(await page.getByLabel('Name', { exact: true }).first().inputValue(), APP);
  assert.ok(await page.getByRole('button', { name: 'Apply' }).isDisabled(), 'nothing applies while a field is wrong');
  await look(page, 'app-editor-error', error);
  await resource.getByLabel('Max instances').fill('2');
  await page.getByRole('button', { name: 'Review changes' }).click();
  await page.getByText(/At most it could spend/).waitFor();
  await page.getByRole('button', { name: 'Apply' }).click();
  await heading(page, APP);
  const apps = (await t.user.request<{ apps: { name: string }[] }>('GET', '/api/v1/autoscalers')).apps;
  assert.deepEqual(apps.map((a) => a.name), [APP]);
});

test('choose aws: its settings and launch fields appear labelled, and a bad value is shown beside its field', async () => {
  await page.goto(`${t.cp.url}/apps/new`);
  await heading(page, 'New autoscaler app');
  const settings = page.locator('[data-path="provider.settings"]');
  assert.equal(await settings.getByLabel('Region').count(), 0, 'no AWS field while the kind is local');
  await page.locator('[data-path="provider"]').getByLabel('Kind').selectOption('aws');
  // The fields come from the aws provider's own schema: labelled, with its help text.
  const region = settings.getByLabel('Region', { exact: true });
  await region.waitFor();
  assert.match(await settings.locator('.field', { has: page.getByLabel('Region', { exact: true }) }).locator('.help').innerText(), /AWS region, e\.g\. us-east-1/);
  const launch = page.locator('[data-path="resources.0.launch"]');
  for (const label of ['AMI', 'IAM instance profile', 'Key pair', 'Security groups']) await launch.getByLabel(label, { exact: true }).waitFor();
  await page.getByLabel('Name', { exact: true }).first().fill('aws-app');
  await page.getByLabel('Queue 1', { exact: true }).fill('gpu');
  await region.fill('us-east-1');
  await launch.getByLabel('AMI', { exact: true }).fill('ami-0123456789abcdef0');
  await launch.getByRole('button', { name: 'Add zone' }).click();
  await launch.getByLabel('Zone 1', { exact: true }).fill('us-east-1a');
  const subnet = launch.getByLabel('Subnet 1', { exact: true });
  await subnet.fill('net-123');
  await page.getByRole('button', { name: 'Review changes' }).click();
  const error = launch.locator('.field.invalid', { has: page.getByLabel('Subnet 1', { exact: true }) }).locator('.error');
  await error.waitFor();
  assert.match(await error.innerText(), /subnet-/);
  assert.equal(await page.locator('.error-box').count(), 0, 'every issue found its field');
  await look(page, 'app-editor-aws', error);
  // Back to local: the AWS fields go, and so do their values (the local provider would refuse them).
  await page.locator('[data-path="provider"]').getByLabel('Kind').selectOption('local');
  await region.waitFor({ state: 'detached' });
  await page.getByRole('tab', { name: 'JSON' }).click();
  assert.ok(!(await page.getByLabel('The app as JSON').inputValue()).includes('us-east-1'));
});

test('the secret form shows the chosen kind\'s keys as labelled fields, from the kinds\' schemas', async () => {
  await page.goto(`${t.cp.url}/secrets`);
  await heading(page, 'Secrets');
  await page.getByLabel('Username', { exact: true }).waitFor();
  await page.getByLabel('Kind', { exact: true }).selectOption('aws');
  await page.getByLabel('Access key id', { exact: true }).fill('AKIAEXAMPLE');
  assert.match(await page.locator('.field', { has: page.getByLabel('Session token', { exact: true }) }).innerText(), /optional/);
  await page.getByLabel('Secret name').fill('cloud');
  await page.getByLabel('Secret access key', { exact: true }).fill('s3cr3t');
  await page.getByRole('button', { name: 'Save secret' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  assert.deepEqual((await t.admin.listSecrets()).map((x) => [x.name, x.kind]), [['cloud', 'aws']]);
});

let taskIds: string[] = [];

test('enqueue tasks from the UI: instances appear on the watch page without reload within 2 s', async () => {
  const watch = await ctx.newPage();
  await watch.goto(`${t.cp.url}/apps/${APP}`);
  await watch.getByTestId('no-instances').waitFor();
  await watch.evaluate(() => { (window as unknown as { stayed: boolean }).stayed = true; });
  await look(watch, 'app-watch-empty');

  await page.goto(`${t.cp.url}/tasks?queue=${QUEUE}`);
  await page.getByRole('button', { name: 'Enqueue a task…' }).click();
  await page.getByLabel('Command').fill('for i in $(seq 1 60); do echo line $i; sleep 1; done');
  await page.getByLabel('How many').fill('2');
  await look(page, 'enqueue');
  await page.getByRole('button', { name: 'Enqueue', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Queued.' }).waitFor();
  const enqueued = Date.now();

  await watch.locator('[data-testid="instances"] tbody tr').first().waitFor({ timeout: 2_000 });
  const ms = Date.now() - enqueued;
  assert.ok(await watch.evaluate(() => (window as unknown as { stayed?: boolean }).stayed), 'the page did not reload');
  process.stderr.write(`console: instance shown ${ms} ms after the enqueue\n`);
  taskIds = (await t.user.listTasks({ queue: QUEUE })).map((x) => x.id);
  assert.equal(taskIds.length, 2);
  await watch.close();
});

test('open a running task: its log lines arrive as it runs; abort it', async () => {
  await page.goto(`${t.cp.url}/tasks?queue=${QUEUE}`);
  await page.locator(`a[href="/tasks/${taskIds[0]}"]`).click();
  await page.locator('h1 .status-running').waitFor({ timeout: 30_000 });
  const log = page.getByTestId('log');
  await log.locator('.line', { hasText: 'line ' }).first().waitFor({ timeout: 15_000 });
  const seen = Math.max(...(await log.locator('.line').allInnerTexts()).map((l) => Number(/line (\d+)/.exec(l)?.[1] ?? 0)));
  const ranFor = page.locator('dt:text-is("Ran for") + dd');
  const ranBefore = await ranFor.innerText();
  // The task prints a line a second: two more must arrive while the page is open, without a reload.
  await log.getByText(`line ${seen + 2}`, { exact: true }).waitFor({ timeout: 15_000 });
  assert.notEqual(await ranFor.innerText(), ranBefore, '"Ran for" counts up while the task runs');
  await look(page, 'task');
  await page.getByRole('button', { name: 'Abort' }).click();
  await page.locator('h1 .status-aborted').waitFor({ timeout: 30_000 });
  assert.equal((await t.user.getTask(taskIds[0])).status, 'aborted');
  await t.user.abortTask(taskIds[1]);
});

test('replay a trace in the editor: the edited, running and ClearML figures side by side', async () => {
  await page.goto(`${t.cp.url}/apps/${APP}/edit`);
  await heading(page, `Edit ${APP}`);
  await page.getByLabel('Upload a CSV').check();
  const rows = Array.from({ length: 40 }, (_, i) => `j${i},${i * 90},${300 + (i % 5) * 120},1,${QUEUE}`);
  await page.getByLabel('Trace file (CSV)').setInputFiles({
    name: 'trace.csv', mimeType: 'text/csv', buffer: Buffer.from(['job_id,submission_time,duration,num_gpu,queue', ...rows].join('\n')),
  });
  await page.getByRole('button', { name: 'Replay' }).click();
  const figures = page.getByTestId('replay-figures');
  await figures.waitFor({ timeout: 30_000 });
  const headers = await figures.locator('thead th').allInnerTexts();
  assert.ok(headers.includes('Edited config') && headers.includes("ClearML's policy"), headers.join(' | '));
  const cost = await figures.locator('tbody tr').first().locator('td').allInnerTexts();
  assert.ok(cost.every((c) => /^\$\d/.test(c)), `a cost for each policy: ${cost.join(' | ')}`);
  await look(page, 'app-editor-replay', figures);
});

test('every other page passes axe; a user sees no secrets or tokens pages', async () => {
  for (const [path, name, title] of [['/', 'overview', 'Overview'], ['/apps', 'apps', 'Autoscaler apps'], [`/apps/${APP}`, 'app-watch', APP],
    [`/tasks?queue=${QUEUE}`, 'tasks', 'Tasks'],
    ['/k8s', 'k8s', 'Kubernetes glue'], ['/secrets', 'secrets', 'Secrets'], ['/tokens', 'tokens', 'Tokens']] as const) {
    await page.goto(t.cp.url + path);
    await heading(page, title);
    await look(page, name);
  }
  if (SHOTS) {
    const phone = await ctx.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(t.cp.url);
    await heading(phone, 'Overview');
    await phone.screenshot({ path: join(SHOTS, 'overview-phone.png') });
    await phone.close();
  }
  const userCtx = await b.browser.newContext({ viewport: DESKTOP });
  const user = await userCtx.newPage();
  await signIn(user, t.cp.url, userToken);
  assert.equal(await user.getByRole('link', { name: 'Secrets' }).count(), 0);
  assert.equal(await user.getByRole('link', { name: 'Tokens' }).count(), 0);
  await user.goto(`${t.cp.url}/secrets`);
  await heading(user, 'Page not found');
  await userCtx.close();
});

test('sign out: the session is revoked and the API refuses it', async () => {
  await page.goto(t.cp.url);
  await heading(page, 'Overview');
  const cookie = (await ctx.cookies()).find((c) => c.name === 'flotilla_session')!;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Token').waitFor();
  // The old cookie, sent again by hand, is refused: sign-out ended the session on the server, not only here.
  const res = await fetch(`${t.cp.url}/api/v1/overview`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
  assert.equal(res.status, 401);
  await page.goto(`${t.cp.url}/queues`);
  await page.getByLabel('Token').waitFor();
});

test('a lost live stream shows "reconnecting" and recovers', async () => {
  await signIn(page, t.cp.url, adminToken);
  await t.restart();
  await page.getByText('reconnecting').waitFor({ timeout: 10_000 });
  await page.getByText('reconnecting').waitFor({ state: 'detached', timeout: 30_000 });
  // A change after the restart reaches the page over the resumed stream.
  await t.admin.createQueue('after-restart');
  await t.admin.createTask({ queue: 'after-restart', command: 'true' });
  await page.getByRole('link', { name: 'after-restart' }).waitFor({ timeout: 10_000 });
});
