// End-to-end test of the staff app at /desk/ in a real browser: an owner's
// repair goes from the form (script off) through the desk's dispatch, the
// engineering department's visit and completion, to the desk's follow-up
// call, at a desktop and at a phone viewport, with axe-core checking the
// sign-in, queue and ticket pages at both. Beside it a second repair's owner
// keeps the status page from the receipt (script off), reloads it after each
// step to watch status and steps move (never a staff name, an internal note
// or the owner's own details), and answers the acceptance form: solved and
// 5 at the desktop (已回访, no 回访 call left for the desk), not solved at
// the phone (重新处理中, first in the desk's 新工单). The lookup at /track
// is checked with right and wrong digits; axe-core checks the status page
// with its acceptance form and /track at both viewports. Two emergencies
// filed online reach the duty robot at once without personal data; the one
// the desk acts on is not escalated, the other reaches the manager's robot
// after the delay, and its owner's confirmation email opens the status page.
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
// tests/browser/screenshots/desk-ticket-<viewport>.png and the owner's status
// page with its acceptance form as screenshots/owner-status-<viewport>.png
// (for a person to look at), and on a failure the failing page as
// screenshots/<test>.png.
//
// Emergencies alert a group robot: a webhook receiver on 127.0.0.1 started
// here (DESK_ALERT_WEBHOOK_URL, and the manager's for escalations), with
// the escalation delay cut to seconds (DESK_ESCALATE_AFTER).
//
// Every form post and acceptance counts against the server's rate limit
// (DESK_RATE_LIMIT, raised to 30 a minute here): the whole file makes 10.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './a11y.mjs';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
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
let robot; // the group robots' webhook receiver
const robotTexts = { duty: [], manager: [] };
const ESCALATE_AFTER_S = 6;

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
    env: {
      ...cleanEnv(),
      DESK_FOLLOW_UP_AFTER: '0s',
      DESK_RATE_LIMIT: '30',
      DESK_ALERT_WEBHOOK_URL: `http://127.0.0.1:${robot.address().port}/duty`,
      DESK_ALERT_MANAGER_WEBHOOK_URL: `http://127.0.0.1:${robot.address().port}/manager`,
      DESK_ESCALATE_AFTER: `${ESCALATE_AFTER_S}s`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
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
  for (const name of ['config.yaml', 'estate.yaml', 'content', 'themes']) {
    fs.cpSync(path.join(REPO, name), path.join(tmp, name), { recursive: true });
  }
  for (const s of STAFF) addStaff(s);
  // A robot answers as WeCom's does, and remembers each text by its path.
  robot = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', chunk => { body += chunk; });
    req.on('end', () => {
      const texts = robotTexts[req.url.slice(1)];
      try {
        if (texts) texts.push(JSON.parse(body).text.content);
      } catch { /* a malformed body is counted as nothing */ }
      res.setHeader('content-type', 'application/json');
      res.end(texts ? '{"errcode":0,"errmsg":"ok"}' : '{"errcode":93000,"errmsg":"invalid webhook url"}');
    });
  });
  await new Promise((resolve, reject) => robot.listen(0, '127.0.0.1', resolve).once('error', reject));
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
  if (robot) await new Promise(r => robot.close(r));
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


/** Nothing on the page is wider than the viewport (wide tables scroll in their own region). */
async function assertNoSidewaysScroll(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${what} scrolls sideways by ${overflow}px (${page.url()})`);
}

const OWNER = { name: '陈先生', phone: '138 0000 0000' };

/**
 * Files a repair with script off; returns its reference and the receipt's
 * address (the owner's status page), and with `keep` the owner's page, still
 * open on it.
 */
async function fileRepair(open, device, { category, unit, description, phone = OWNER.phone, emergency = false, email = '' }, { keep = false } = {}) {
  const page = await open({ javaScript: false, device });
  const statuses = [];
  page.on('response', r => { if (r.request().method() === 'POST') statuses.push(r.status()); });
  await page.goto(url('forms/repair/'));
  assert.equal(await page.locator('input[name=submission_token]').count(), 0, 'forms.js did not run');
  await page.fill('#f-unit', unit);
  await page.fill('#f-name', OWNER.name);
  await page.fill('#f-phone', phone);
  if (email) await page.fill('#f-email', email);
  await page.check(emergency ? '#f-urgency-1' : '#f-urgency-2');
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
  const statusUrl = page.url();
  if (!keep) {
    await page.context().close();
    return { reference, statusUrl };
  }
  return { reference, statusUrl, owner: page };
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

/** `visitAt()`'s value as the status page shows it (the estate's clock, as the desk entered it). */
function shownAt(local) {
  const [, y, m, d, hm] = local.match(/^(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d)$/);
  return `${y}年${Number(m)}月${Number(d)}日 ${hm}`;
}

// The owner's status page.
const ownerStatus = page =>
  text(page.locator('.receipt-details > div', { has: page.locator('dt', { hasText: '当前状态' }) }).locator('dd'));
/** The steps under 处理进度, each without its time. */
const ownerSteps = page => page.locator('ol.progress > li').evaluateAll(items => items.map(li =>
  [...li.childNodes].filter(n => n.nodeName !== 'TIME').map(n => n.textContent).join('').replace(/\s+/g, ' ').trim()));

/**
 * Reloads the owner's status page and checks its status and steps; nothing
 * in `secrets` (staff names, internal notes, the owner's own details) is
 * anywhere in it, markup included.
 */
async function assertOwnerSees(page, secrets, wanted, steps) {
  const response = await page.reload();
  assert.equal(response.status(), 200, `the status page ${page.url()}`);
  assert.equal(response.headers()['cache-control'], 'no-store', 'the status page is never cached');
  assert.equal(await ownerStatus(page), wanted, 'the status the owner sees');
  assert.deepEqual(await ownerSteps(page), steps, 'the steps the owner sees');
  const html = await page.content();
  for (const secret of secrets) {
    assert.ok(!html.includes(secret), `the owner's status page shows ${JSON.stringify(secret)}`);
  }
}

/** Answers the acceptance form with script off; back on the same page after a 303. */
async function acceptAs(page, { solved, satisfaction, comment }) {
  const statusUrl = page.url();
  const section = page.locator('section[aria-labelledby="acceptance-heading"]');
  assert.equal(await text(section.locator('#acceptance-heading')), '请您验收');
  await page.check(`#accept-solved-${solved}`);
  await page.check(`#accept-satisfaction-${satisfaction}`);
  await page.fill('#accept-comment', comment);
  const [back] = await Promise.all([
    page.waitForResponse(r => r.url() === statusUrl && r.request().method() === 'GET' && r.request().isNavigationRequest()),
    section.getByRole('button', { name: '提交验收', exact: true }).click(),
  ]);
  await page.waitForLoadState('load');
  const posted = back.request().redirectedFrom();
  assert.ok(posted, 'the acceptance was answered with a redirect');
  assert.equal(posted.method(), 'POST');
  assert.equal((await posted.response()).status(), 303, 'the acceptance was answered with 303 See Other');
  assert.equal(page.url(), statusUrl, 'back on the same status page');
  assert.equal(await page.locator('#acceptance-heading').count(), 0, 'no acceptance form once answered');
}

// What the owner answers at each viewport: both outcomes, one ticket each.
const OWNER_ANSWER = {
  desktop: { solved: 'yes', satisfaction: 5, comment: '很满意，谢谢师傅。' },
  phone: { solved: 'no', satisfaction: 3, comment: '玻璃装歪了，边上还有缝。' },
};

for (const [viewportName, device] of Object.entries(VIEWPORTS)) {
  browserTest(`staff flow at the ${viewportName} viewport: file, dispatch, visit, complete, follow up; the owner watches and accepts`, FLOW_MS, async open => {
    // 1. An owner files a repair without script, in a category the desk dispatches.
    const unit = viewportName === 'phone' ? '7-1-301' : '3-2-1502';
    const { reference } = await fileRepair(open, device, {
      category: 'other',
      unit,
      description: '楼道里的公告栏玻璃碎了，边缘很锋利，怕伤到小孩。',
    });
    // And another owner files one too, and keeps the status page the receipt is.
    const ownerUnit = viewportName === 'phone' ? '7-2-802' : '3-1-601';
    const ownerDescription = '单元门的闭门器坏了，门关不上，风很大。';
    const mine = await fileRepair(open, device, {
      category: 'other',
      unit: ownerUnit,
      description: ownerDescription,
    }, { keep: true });
    const owner = mine.owner;
    const dispatchNote = '这户业主上次投诉过，上门前务必先打电话。';
    const scheduleNote = '已电话联系业主，约好上门时间。';
    const completeNote = '更换了公告栏玻璃，清理了碎片。';
    const secrets = [
      ...STAFF.map(s => s.name), dispatchNote, scheduleNote, completeNote,
      OWNER.name, OWNER.phone, ownerUnit, ownerDescription,
    ];
    const steps = ['收到您的请求'];
    await assertOwnerSees(owner, secrets, '已受理，等待派单', steps);

    // 2. The desk finds it among the new tickets and dispatches it to engineering, to li.
    const wang = await signIn(open, device, 'wang', { checkA11y: true });
    const fresh = await openView(wang, '新工单（待派单）');
    assert.ok(fresh.includes(reference), `${reference} is in 新工单`);
    assert.ok(fresh.includes(mine.reference), `${mine.reference} is in 新工单`);
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
    // The owner's ticket too, with a note for staff only.
    await openView(wang, '新工单（待派单）');
    await openTicket(wang, mine.reference);
    await wang.selectOption('#in-dispatch-department', 'engineering');
    await wang.selectOption('#in-dispatch-assignee', 'li');
    await wang.fill('#in-dispatch-note', dispatchNote);
    await act(wang, mine.reference, 'dispatch', '派单');
    steps.push('已派给工程部（机电维修）处理');
    await assertOwnerSees(owner, secrets, '已派单，等待安排', steps);

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
    await li.fill('#in-schedule-note', scheduleNote);
    await act(li, reference, 'schedule', '预约上门');
    assert.equal(await status(li), '已预约');
    await li.fill('#in-complete-note', completeNote);
    await act(li, reference, 'complete', '完工，请业主验收');
    assert.equal(await status(li), '待验收');
    assert.equal(await li.locator('form#action-follow_up').count(), 0, 'still no 记录回访 form for li');
    assert.equal(await li.locator('form#action-dispatch').count(), 0, 'still no 派单 form for li');
    // The owner's ticket: the owner watches each step.
    await openView(li, '我的');
    await openTicket(li, mine.reference);
    const visit = visitAt();
    await li.fill('#in-schedule-visit_at', visit);
    await li.fill('#in-schedule-note', scheduleNote);
    await act(li, mine.reference, 'schedule', '预约上门');
    steps.push(`已约定上门时间：${shownAt(visit)}`);
    await assertOwnerSees(owner, secrets, '已预约上门', steps);
    assert.equal(await owner.locator('#acceptance-heading').count(), 0, 'no acceptance form before the work is done');
    await li.fill('#in-complete-note', completeNote);
    await act(li, mine.reference, 'complete', '完工，请业主验收');
    steps.push('已处理完毕，请您验收');
    await assertOwnerSees(owner, secrets, '已处理，等待您验收', steps);

    // 4. The owner is asked to accept the work; the page a person looks at after the run.
    assert.equal(await owner.locator('#acceptance-heading').count(), 1, 'the acceptance form is shown');
    // axe-core needs script: checked as family with the shared address see it, script on.
    const family = await open({ javaScript: true, device });
    assert.equal((await family.goto(mine.statusUrl)).status(), 200);
    assert.equal(await family.locator('#acceptance-heading').count(), 1, 'the acceptance form is shown to family too');
    await assertAccessible(family, 'the status page with its acceptance form');
    await family.context().close();
    await assertNoSidewaysScroll(owner, `the status page at ${viewportName}`);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await owner.screenshot({ path: path.join(SCREENSHOTS, `owner-status-${viewportName}.png`), fullPage: true });
    const answer = OWNER_ANSWER[viewportName];
    await acceptAs(owner, answer);
    if (answer.solved === 'yes' && answer.satisfaction >= 3) {
      steps.push(`您已验收，评价 ${answer.satisfaction} 分，谢谢`);
      await assertOwnerSees(owner, [...secrets, answer.comment], '已回访', steps);
    } else {
      steps.push('您反馈问题未解决或不满意，已重新处理，物业经理会跟进');
      await assertOwnerSees(owner, [...secrets, answer.comment], '重新处理中', steps);
      // Back to the desk, ahead of every other new ticket.
      const queue = await openView(wang, '新工单（待派单）');
      assert.equal(queue[0], mine.reference, `the reopened ${mine.reference} is first in 新工单: ${queue.join(', ')}`);
      await openTicket(wang, mine.reference);
      assert.equal(await status(wang), '重新处理');
      assert.equal((await timeline(wang)).at(-1), '验收评价');
      assert.ok(await wang.locator('form#action-dispatch').count() === 1, 'the desk can dispatch it again');
    }

    // 5. The desk calls the first owner back and records it; the second owner needs no call.
    const awaiting = await openView(wang, '待回访');
    assert.ok(awaiting.includes(reference), `${reference} is in 待回访`);
    assert.ok(!awaiting.includes(mine.reference), `${mine.reference}, answered by its owner, is not in 待回访`);
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
    await wang.screenshot({ path: path.join(SCREENSHOTS, `desk-ticket-${viewportName}.png`), fullPage: true });
    await assertNoSidewaysScroll(wang, `the ticket page at ${viewportName}`);

    // And li's page, checked too, in its final state (no actions of the desk's).
    assert.equal((await li.goto(url(`desk/tickets/${reference}`))).status(), 200);
    assert.equal(await text(li.locator('h1 .reference')), reference);
    assert.equal(await status(li), '已回访');
    await assertAccessible(li, "li's ticket page");
  });
}

browserTest("a department account gets 404 for another department's ticket", TEST_MS, async open => {
  // Cleaning goes straight to the environment department.
  const { reference } = await fileRepair(open, VIEWPORTS.desktop, {
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


browserTest('an owner finds the status page at /track with the reference and the last four digits of the phone', TEST_MS, async open => {
  const { reference } = await fileRepair(open, VIEWPORTS.desktop, {
    category: 'other',
    unit: '9-1-1101',
    description: '地下车库 B2 的一盏灯一直在闪。',
    phone: '139 1234 5678',
  });
  for (const [viewportName, device] of Object.entries(VIEWPORTS)) {
    // Script on, for axe-core; the page has none of its own.
    const page = await open({ javaScript: true, device });
    const posts = [];
    page.on('response', r => { if (r.request().method() === 'POST') posts.push(r.status()); });
    assert.equal((await page.goto(url('track'))).status(), 200);
    assert.equal(await text(page.locator('h1')), '查询处理进度');
    await assertAccessible(page, `/track at ${viewportName}`);
    await assertNoSidewaysScroll(page, `/track at ${viewportName}`);

    // Wrong digits: a 404 with the message, and nothing of the ticket.
    await page.fill('#t-reference', reference);
    await page.fill('#t-phone', '5679');
    const [refused] = await Promise.all([
      page.waitForResponse(r => r.request().method() === 'POST' && r.request().isNavigationRequest()),
      page.getByRole('button', { name: '查询', exact: true }).click(),
    ]);
    await page.waitForLoadState('load');
    assert.equal(refused.status(), 404, `wrong digits for ${reference}`);
    assert.match(await text(page.locator('[role=alert]')), /^没有找到与这个编号和电话后四位都相符的请求/);
    assert.equal(await page.locator('.reference, ol.progress, .receipt-details').count(), 0, 'no status shown');
    assert.ok(!(await text(page.locator('main'))).includes('已受理'), 'no status in words');
    await assertAccessible(page, `/track with the wrong digits at ${viewportName}`);

    // The right digits (the reference as read out over the phone at the phone size): the status page.
    await page.fill('#t-reference', viewportName === 'phone' ? reference.toLowerCase().replace(/-/g, ' - ') : reference);
    await page.fill('#t-phone', '5678');
    await Promise.all([
      page.waitForURL(u => u.pathname.startsWith('/forms/repair/received/')),
      page.getByRole('button', { name: '查询', exact: true }).click(),
    ]);
    assert.match(new URL(page.url()).pathname, new RegExp(`^/forms/repair/received/${reference}/[0-9a-f]{64}$`));
    assert.equal(await text(page.locator('.reference')), reference);
    assert.equal(await ownerStatus(page), '已受理，等待派单');
    assert.deepEqual(await ownerSteps(page), ['收到您的请求']);
    assert.deepEqual(posts, [404, 303], 'the lookups were answered 404, then 303 See Other');
    await page.context().close();
  }
});

/** Waits until `check()` is true, polling; fails with `what` after `ms`. */
async function eventually(ms, what, check) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

browserTest('an emergency filed online alerts the duty robot at once, and the manager when nobody acts', FLOW_MS, async open => {
  const wang = await signIn(open, VIEWPORTS.desktop, 'wang');
  const ignored = await fileRepair(open, VIEWPORTS.phone, {
    category: 'lift',
    unit: '2-1 电梯',
    description: '2 单元电梯停在 7 楼和 8 楼之间，里面有人。',
    emergency: true,
    email: 'chen@example.org',
  }, { keep: true });
  const handled = await fileRepair(open, VIEWPORTS.desktop, {
    category: 'plumbing',
    unit: '6-3-602',
    description: '卫生间水管爆裂，水已经漫到客厅。',
    emergency: true,
  });
  // The desk takes the second one at once: any action acknowledges it.
  await wang.goto(url(`desk/tickets/${handled.reference}`));
  await wang.locator('form#action-call textarea[name=note]').fill('已电话联系业主，工程部在路上');
  await act(wang, handled.reference, 'call', '记录致电业主');

  await eventually(5_000, 'both alerts at the duty robot', () => robotTexts.duty.length >= 2);
  for (const { reference } of [ignored, handled]) {
    const alerts = robotTexts.duty.filter(t => t.includes(reference));
    assert.equal(alerts.length, 1, `one alert for ${reference}: ${JSON.stringify(robotTexts.duty)}`);
    for (const secret of [OWNER.name, '138 0000 0000', '13800000000', '楼之间', '水管爆裂', 'chen@example.org']) {
      assert.ok(!alerts[0].includes(secret), `the alert carries ${secret}: ${alerts[0]}`);
    }
    assert.ok(alerts[0].includes(`/desk/tickets/${reference}`), 'the alert links to the ticket');
  }

  // The owner's page says what was done, and to phone.
  await ignored.owner.reload();
  const note = await text(ignored.owner.locator('.receipt-details > div', { has: ignored.owner.locator('dt', { hasText: '值班通知' }) }).locator('dd'));
  assert.match(note, /^已通知值班人员；/);
  assert.ok((await text(ignored.owner.locator('main'))).includes('请同时拨打 24 小时值班电话'));
  const withScript = await open({ javaScript: true, device: VIEWPORTS.phone });
  assert.equal((await withScript.goto(ignored.statusUrl)).status(), 200);
  await assertAccessible(withScript, 'the status page of an emergency, at the phone viewport');

  await eventually((ESCALATE_AFTER_S + 10) * 1000, 'the escalation at the manager robot', () => robotTexts.manager.length >= 1);
  await new Promise(r => setTimeout(r, 1_500));
  assert.equal(robotTexts.manager.length, 1, `one escalation: ${JSON.stringify(robotTexts.manager)}`);
  assert.ok(robotTexts.manager[0].includes(ignored.reference) && robotTexts.manager[0].includes('升级'));
  assert.equal(robotTexts.duty.length, 2, 'the alerts were not repeated');

  // The owner's confirmation is in the outbox, and its link opens the status page.
  const eml = path.join(dataDir, 'outbox', `${ignored.reference}.confirmation.email.eml`);
  await eventually(5_000, `the confirmation ${eml}`, () => fs.existsSync(eml));
  const raw = fs.readFileSync(eml, 'utf8');
  assert.match(raw, /^To: chen@example\.org\r?$/m);
  const [, encoded] = raw.split(/\r?\n\r?\n/, 2);
  const body = /^Content-Transfer-Encoding: base64/mi.test(raw) ? Buffer.from(encoded.replace(/\s+/g, ''), 'base64').toString('utf8') : raw;
  const link = body.match(/https?:\/\/\S+\/received\/\S+/)[0];
  const fromEmail = await open({ javaScript: false });
  assert.equal((await fromEmail.goto(link)).status(), 200, `the email's link ${link}`);
  assert.equal(await text(fromEmail.locator('.reference')), ignored.reference);
});
