// End-to-end test of the staff app at /desk/ in a real browser: an owner's
// repair goes from the form (script off) through the desk's dispatch, the
// engineering department's visit and completion, to the desk's follow-up
// call, at a desktop and at a phone viewport, with axe-core checking the
// sign-in, queue and ticket pages at both.
//
//   cargo build --workspace          # site-gen and desk-admin
//   bash scripts/browser-deps.sh     # Debian's chromium, playwright-core, axe-core
//   node --test tests/browser/desk.test.mjs
//
// As in forms.test.mjs, the repository's own site is copied to a temporary
// folder and served by `site-gen serve --port 0`; Chromium (never a browser
// build of Playwright's own) talks to that server on 127.0.0.1 and to
// nothing else. The staff accounts are made with `desk-admin` in the same
// --data folder before the server starts. Environment:
//   SITE_GEN_BIN    the binary to test [default: <repo>/target/debug/site-gen]
//   DESK_ADMIN_BIN  desk-admin         [default: desk-admin beside SITE_GEN_BIN]
//   CHROMIUM_PATH   the browser        [default: /usr/bin/chromium]
//   KEEP_TMP=1      keep the temporary site and its data folder afterwards
// Each run saves the ticket page at both viewports as
// tests/browser/screenshots/desk-ticket-<viewport>.png (for a person to look
// at), and on a failure the failing page as screenshots/<test>.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  throw new Error(`playwright-core is not installed (${e.message}): run \`bash scripts/browser-deps.sh\``);
}
let AXE_SCRIPT;
try {
  AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
} catch (e) {
  throw new Error(`axe-core is not installed (${e.message}): run \`bash scripts/browser-deps.sh\``);
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SCREENSHOTS = path.join(HERE, 'screenshots');
const BIN = process.env.SITE_GEN_BIN || path.join(REPO, 'target', 'debug', 'site-gen');
const ADMIN_BIN = process.env.DESK_ADMIN_BIN || path.join(path.dirname(BIN), 'desk-admin');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic',
];

const SERVER_START_MS = 60_000;
const FLOW_MS = 90_000;
const TEST_MS = 30_000;

const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 },
};

// Accounts made with desk-admin before the server starts.
const PASSWORD = 'correct-horse-battery';
const STAFF = [
  { username: 'wang', name: '王芳', role: 'desk' },
  { username: 'li', name: '李强', role: 'department:engineering' },
  { username: 'zhao', name: '赵敏', role: 'manager' },
];

const REPAIR_REF = /^BX-\d{8}-[0-9A-HJKMNP-TV-Z]{6}$/;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

let tmp; // the temporary site root
let dataDir; // --data: tickets.sqlite3 and outbox/
let server; // the site-gen child process
let serverLog = '';
let base; // http://127.0.0.1:PORT/
let browser;
let anyFailed = false;

/** Rejects after `ms` with `what` in the message; never leaves a timer behind. */
function within(ms, what, promise) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** The environment without the developer's own DESK_* settings. */
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DESK_')));

function addStaff({ username, name, role }) {
  const r = spawnSync(ADMIN_BIN, [
    '--root', tmp, '--data', dataDir,
    'add-staff', '--username', username, '--name', name, '--role', role, '--password-stdin',
  ], { input: `${PASSWORD}\n`, encoding: 'utf8', env: cleanEnv(), timeout: 30_000 });
  if (r.error) throw new Error(`cannot run ${ADMIN_BIN}: ${r.error.message}`);
  assert.equal(r.status, 0, `desk-admin add-staff ${username} failed:\n${r.stdout}\n${r.stderr}`);
}

function startServer() {
  if (!fs.existsSync(BIN)) {
    throw new Error(`site-gen binary not found at ${BIN}: run \`cargo build --workspace\` in ${REPO} first, or set SITE_GEN_BIN`);
  }
  server = spawn(BIN, ['serve', '--root', tmp, '--port', '0', '--data', dataDir], {
    // Done tickets go to 待回访 at once, rather than after the owners' two days.
    env: { ...cleanEnv(), DESK_FOLLOW_UP_AFTER: '0s' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return within(SERVER_START_MS, `waiting for "Serving http://127.0.0.1:PORT/" from ${BIN}`,
    new Promise((resolve, reject) => {
      let stdout = '';
      server.stdout.setEncoding('utf8');
      server.stderr.setEncoding('utf8');
      // Keep draining both pipes for the server's whole life.
      server.stdout.on('data', chunk => {
        serverLog += chunk;
        stdout += chunk;
        const m = stdout.match(/Serving (http:\/\/127\.0\.0\.1:\d+\/) /);
        if (m) resolve(m[1]);
      });
      server.stderr.on('data', chunk => { serverLog += chunk; });
      server.once('error', e => reject(new Error(`cannot start ${BIN}: ${e.message}`)));
      server.once('exit', (code, signal) => reject(new Error(
        `site-gen serve exited (code ${code}, signal ${signal}) before serving:\n${serverLog}`)));
    }));
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise(r => server.once('exit', r));
  // SIGTERM ends it at once; SIGINT would wait for open connections.
  server.kill('SIGTERM');
  try {
    await within(5_000, 'site-gen serve to exit after SIGTERM', exited);
  } catch {
    server.kill('SIGKILL');
    await within(5_000, 'site-gen serve to exit after SIGKILL', exited);
  }
}

before(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: run \`bash scripts/browser-deps.sh\`, or set CHROMIUM_PATH`);
  }
  if (!fs.existsSync(ADMIN_BIN)) {
    throw new Error(`desk-admin not found at ${ADMIN_BIN}: run \`cargo build --workspace\` in ${REPO} first, or set DESK_ADMIN_BIN`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'site-gen-desk-'));
  dataDir = path.join(tmp, 'data');
  for (const name of ['config.yaml', 'content', 'themes']) {
    fs.cpSync(path.join(REPO, name), path.join(tmp, name), { recursive: true });
  }
  for (const s of STAFF) addStaff(s);
  base = await startServer();
  // launch() gives the browser a fresh temporary user-data dir of its own
  // (and deletes it on close); every person below gets a context of their
  // own, so no session cookie passes from one to another.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}, { timeout: SERVER_START_MS + 60_000 });

after(async () => {
  // The browser first: its pages hold the live-reload stream open.
  if (browser) await within(10_000, 'closing Chromium', browser.close()).catch(e => console.error(e.message));
  await stopServer();
  if (!tmp) return;
  if (anyFailed || process.env.KEEP_TMP) {
    console.error(`kept the temporary site and data in ${tmp}\n--- site-gen output ---\n${serverLog}`);
  } else {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, { timeout: 30_000 });

const url = p => new URL(p, base).href;
const text = async locator => (await locator.textContent()).replace(/\s+/g, ' ').trim();

/**
 * A test with a browser: `body` gets `open({ javaScript, device })`, which
 * opens a page in a new context (one person) that may reach only the test
 * server. On a failure the most recent page is saved as screenshots/<name>.png.
 */
function browserTest(name, timeout, body) {
  test(name, { timeout }, async () => {
    const contexts = [];
    const offsite = [];
    const pageErrors = [];
    let last;
    const open = async ({ javaScript = true, device = VIEWPORTS.desktop } = {}) => {
      const context = await browser.newContext({ javaScriptEnabled: javaScript, ...device, locale: 'zh-CN' });
      contexts.push(context);
      context.setDefaultTimeout(10_000);
      context.setDefaultNavigationTimeout(15_000);
      // Only the server under test is ever contacted.
      await context.route(u => u.protocol !== 'data:' && u.host !== new URL(base).host, route => {
        offsite.push(route.request().url());
        return route.abort();
      });
      const page = await context.newPage();
      page.on('pageerror', e => pageErrors.push(e.message));
      page.on('framenavigated', f => { if (f === page.mainFrame()) last = page; });
      last = page;
      return page;
    };
    try {
      await body(open);
      assert.deepEqual(offsite, [], 'the page tried to reach something other than the test server');
      assert.deepEqual(pageErrors, [], 'script errors on the page');
    } catch (err) {
      anyFailed = true;
      if (last && !last.isClosed()) {
        fs.mkdirSync(SCREENSHOTS, { recursive: true });
        const file = path.join(SCREENSHOTS, `${name.replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '')}.png`);
        await last.screenshot({ path: file, fullPage: true, timeout: 10_000 })
          .then(() => console.error(`screenshot of the failing page: ${file}`))
          .catch(e => console.error(`no screenshot: ${e.message}`));
      }
      throw err;
    } finally {
      for (const c of contexts) await c.close().catch(() => {});
    }
  });
}

/** Runs axe-core's WCAG 2.0/2.1 A and AA rules on the page; fails listing every violation. */
async function assertAccessible(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.addScriptTag({ path: AXE_SCRIPT });
  }
  const result = await page.evaluate(
    tags => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }),
    AXE_TAGS,
  );
  const violations = result.violations.map(v => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map(n => ({ target: n.target.join(' '), html: n.html.slice(0, 200), summary: n.failureSummary })),
  }));
  assert.deepEqual(violations, [], `axe-core found accessibility violations on ${what} (${page.url()}):\n${JSON.stringify(violations, null, 2)}`);
}

/** Nothing on the page is wider than the viewport (wide tables scroll in their own region). */
async function assertNoSidewaysScroll(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${what} scrolls sideways by ${overflow}px (${page.url()})`);
}

/** Files a repair with script off; returns its reference from the receipt page. */
async function fileRepair(open, device, { category, unit, description }) {
  const page = await open({ javaScript: false, device });
  const statuses = [];
  page.on('response', r => { if (r.request().method() === 'POST') statuses.push(r.status()); });
  await page.goto(url('forms/repair/'));
  assert.equal(await page.locator('input[name=submission_token]').count(), 0, 'forms.js did not run');
  await page.fill('#f-unit', unit);
  await page.fill('#f-name', '陈先生');
  await page.fill('#f-phone', '138 0000 0000');
  await page.check('#f-urgency-2'); // ordinary
  await page.selectOption('#f-category', category);
  await page.fill('#f-description', description);
  await page.check('#f-consent');
  await Promise.all([
    page.waitForURL(u => u.pathname.startsWith('/forms/repair/received/')),
    page.click('form[data-form="repair"] button[type=submit]'),
  ]);
  assert.deepEqual(statuses, [303], 'the form post was answered with 303 See Other');
  const reference = await text(page.locator('.reference'));
  assert.match(reference, REPAIR_REF);
  assert.match(new URL(page.url()).pathname, new RegExp(`^/forms/repair/received/${reference}/[0-9a-f]{64}$`));
  await page.context().close();
  return reference;
}

/** Signs `username` in on a page of their own; checks the sign-in page on the way. */
async function signIn(open, device, username, { checkA11y = false } = {}) {
  const page = await open({ javaScript: true, device });
  await page.goto(url('desk/'));
  // Not signed in: the queue sends the browser to the sign-in page.
  assert.equal(new URL(page.url()).pathname, '/desk/signin');
  assert.equal(await text(page.locator('h1')), '员工登录');
  if (checkA11y) await assertAccessible(page, 'the sign-in page');
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await Promise.all([
    page.waitForURL(u => u.pathname === '/desk/'),
    page.getByRole('button', { name: '登录' }).click(),
  ]);
  const name = STAFF.find(s => s.username === username).name;
  assert.ok((await text(page.locator('.desk-who'))).startsWith(name), `the staff bar names ${name}`);
  return page;
}

/** Follows the queue view link `label`; returns the references listed. */
async function openView(page, label) {
  const nav = page.locator('nav[aria-label="工单队列"]');
  if (await nav.count() === 0) {
    // On a ticket page: back to the queues through the staff bar.
    await Promise.all([
      page.waitForURL(u => u.pathname === '/desk/'),
      page.locator('nav.desk-bar').getByRole('link', { name: '工单', exact: true }).click(),
    ]);
  }
  const link = nav.getByRole('link', { name: label, exact: true });
  const target = new URL(await link.getAttribute('href'), page.url()).href;
  // The response, not the address: the link may be the page already open.
  await Promise.all([
    page.waitForResponse(r => r.url() === target && r.request().isNavigationRequest()),
    link.click(),
  ]);
  await page.waitForLoadState('load');
  assert.equal(await nav.locator('[aria-current="page"]').textContent(), label, `the ${label} tab is current`);
  if (await page.locator('table#queue').count() === 0) return [];
  return page.locator('table#queue tbody tr > :first-child a').allTextContents();
}

async function openTicket(page, reference) {
  await Promise.all([
    page.waitForURL(u => u.pathname === `/desk/tickets/${reference}`),
    page.locator('table#queue tbody tr > :first-child a', { hasText: reference }).click(),
  ]);
  assert.equal(await text(page.locator('h1 .reference')), reference);
}

/** Submits the form of `action`, whose button says `label`; waits for the notice. */
async function act(page, reference, action, label) {
  const form = page.locator(`form#action-${action}`);
  await Promise.all([
    page.waitForURL(u => u.pathname === `/desk/tickets/${reference}` && u.searchParams.get('done') === action),
    form.getByRole('button', { name: label, exact: true }).click(),
  ]);
  assert.equal(await text(page.locator('.callout-ok')), `已保存：${label}`);
}

const status = page => text(page.locator('.ticket-facts .badge[class*="status-"]'));
const timeline = page => page.locator('ol.timeline > li > .timeline-head strong').allTextContents();

/** A local date a few days ahead, as `datetime-local` wants it. */
function visitAt() {
  const d = new Date(Date.now() + 3 * 24 * 3600 * 1000);
  const pad = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T09:30`;
}

for (const [viewportName, device] of Object.entries(VIEWPORTS)) {
  browserTest(`staff flow at the ${viewportName} viewport: file, dispatch, visit, complete, follow up`, FLOW_MS, async open => {
    // 1. An owner files a repair without script, in a category the desk dispatches.
    const reference = await fileRepair(open, device, {
      category: 'other',
      unit: viewportName === 'phone' ? '7-1-301' : '3-2-1502',
      description: '楼道里的公告栏玻璃碎了，边缘很锋利，怕伤到小孩。',
    });

    // 2. The desk finds it among the new tickets and dispatches it to engineering, to li.
    const wang = await signIn(open, device, 'wang', { checkA11y: true });
    assert.ok((await openView(wang, '新工单（待派单）')).includes(reference), `${reference} is in 新工单`);
    await assertAccessible(wang, 'the 新工单 queue');
    await assertNoSidewaysScroll(wang, `the 新工单 queue at ${viewportName}`);
    await openTicket(wang, reference);
    assert.equal(await status(wang), '待派单');
    assert.equal(await wang.locator('form#action-follow_up').count(), 0, 'no follow-up before the work is done');
    await wang.selectOption('#in-dispatch-department', 'engineering');
    await wang.selectOption('#in-dispatch-assignee', 'li');
    await act(wang, reference, 'dispatch', '派单');
    assert.equal(await status(wang), '已派单');
    assert.match(await text(wang.locator('.ticket-facts')), /负责部门\s*工程部（机电维修） · 李强/);

    // 3. li (engineering) sees it under 本部门 and 我的, schedules the visit, completes it.
    const li = await signIn(open, device, 'li');
    assert.equal(await li.locator('nav[aria-label="工单队列"] a', { hasText: '新工单' }).count(), 0,
      'a department account has no 新工单 queue');
    assert.ok((await openView(li, '我的')).includes(reference), `${reference} is in li's 我的`);
    assert.ok((await openView(li, '本部门')).includes(reference), `${reference} is in li's 本部门`);
    await assertAccessible(li, 'the 本部门 queue');
    await openTicket(li, reference);
    assert.equal(await li.locator('form#action-dispatch').count(), 0, 'li is offered no 派单 form');
    assert.equal(await li.locator('form#action-follow_up').count(), 0, 'li is offered no 记录回访 form');
    await li.fill('#in-schedule-visit_at', visitAt());
    await li.fill('#in-schedule-note', '已电话联系业主，约好上门时间。');
    await act(li, reference, 'schedule', '预约上门');
    assert.equal(await status(li), '已预约');
    await li.fill('#in-complete-note', '更换了公告栏玻璃，清理了碎片。');
    await act(li, reference, 'complete', '完工，请业主验收');
    assert.equal(await status(li), '待验收');
    assert.equal(await li.locator('form#action-follow_up').count(), 0, 'still no 记录回访 form for li');
    assert.equal(await li.locator('form#action-dispatch').count(), 0, 'still no 派单 form for li');

    // 4. The desk calls the owner back and records it.
    assert.ok((await openView(wang, '待回访')).includes(reference), `${reference} is in 待回访`);
    await openTicket(wang, reference);
    await wang.selectOption('#in-follow_up-reached', 'yes');
    await wang.selectOption('#in-follow_up-satisfaction', '5');
    await wang.fill('#in-follow_up-comment', '业主说修得很快，很满意。');
    await act(wang, reference, 'follow_up', '记录回访');
    assert.equal(await status(wang), '已回访');
    assert.deepEqual(await timeline(wang), ['业主提交', '派单', '预约上门', '完工，请业主验收', '记录回访']);
    const followUp = await text(wang.locator('ol.timeline > li').last());
    assert.ok(followUp.includes('满意度：5 / 5') && followUp.includes('联系上业主：是'), followUp);
    await assertAccessible(wang, 'the ticket page');

    // The page a person looks at after the run.
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await wang.screenshot({ path: path.join(SCREENSHOTS, `desk-ticket-${viewportName}.png`), fullPage: true });
    await assertNoSidewaysScroll(wang, `the ticket page at ${viewportName}`);

    // And li's page, checked too, in its final state (no actions of the desk's).
    await li.reload();
    assert.equal(await status(li), '已回访');
    await assertAccessible(li, "li's ticket page");
  });
}

browserTest("a department account gets 404 for another department's ticket", TEST_MS, async open => {
  // Cleaning goes straight to the environment department.
  const reference = await fileRepair(open, VIEWPORTS.desktop, {
    category: 'cleaning',
    unit: '5 栋大堂',
    description: '大堂地面有一大片油渍，很滑。',
  });
  const li = await signIn(open, VIEWPORTS.desktop, 'li');
  const csrf = await li.locator('.desk-bar input[name=csrf]').inputValue();
  const response = await li.goto(url(`desk/tickets/${reference}`));
  assert.equal(response.status(), 404, `li (engineering) opening ${reference} (environment)`);
  assert.equal(await li.locator('form[id^="action-"]').count(), 0, 'no action forms on the 404 page');
  assert.ok(!(await li.content()).includes(reference), 'the 404 page does not name the ticket');
  // An action on it, with li's own valid CSRF token, is refused the same way.
  const posted = await li.request.post(url(`desk/tickets/${reference}/note`), {
    form: { note: '试试', version: '1', csrf },
    maxRedirects: 0,
  });
  assert.equal(posted.status(), 404, `li posting a note to ${reference}`);
  // The desk does see it (so the 404 above is about the department, not the reference).
  const zhao = await signIn(open, VIEWPORTS.desktop, 'zhao');
  assert.equal((await zhao.goto(url(`desk/tickets/${reference}`))).status(), 200);
  assert.equal(await text(zhao.locator('h1 .reference')), reference);
});
