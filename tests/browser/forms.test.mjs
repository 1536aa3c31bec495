// End-to-end tests of the request-desk forms in a real browser.
//
//   cargo build -p site-gen          # the binary under test
//   bash scripts/browser-deps.sh     # Debian's chromium + playwright-core
//   node --test tests/browser/       # this file
//
// The repository's own site (config.yaml, content/, themes/) is copied to a
// temporary folder and served by `site-gen serve --port 0`; Chromium (never
// a browser build of Playwright's own) talks to that server on 127.0.0.1 and
// to nothing else. Environment:
//   SITE_GEN_BIN   the binary to test [default: <repo>/target/debug/site-gen]
//   CHROMIUM_PATH  the browser        [default: /usr/bin/chromium]
//   KEEP_TMP=1     keep the temporary site and its data folder afterwards
// On a failure the test's page is saved to tests/browser/screenshots/<test>.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './a11y.mjs';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

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
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SCREENSHOTS = path.join(HERE, 'screenshots');
const BIN = process.env.SITE_GEN_BIN || path.join(REPO, 'target', 'debug', 'site-gen');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic',
];

const SERVER_START_MS = 60_000;
const TEST_MS = 30_000;
const OUTBOX_WAIT_MS = 5_000;
const PHONE = { width: 390, height: 844 };

// Reference: two capital letters, the local date, six Crockford base-32 digits.
const refPattern = prefix => new RegExp(`^${prefix}-\\d{8}-[0-9A-HJKMNP-TV-Z]{6}$`);
const REPAIR_REF = refPattern('BX');
const COMPLAINT_REF = refPattern('TS');

let tmp; // the temporary site root
let dataDir; // --data: tickets.sqlite3 and outbox/
let server; // the site-gen child process
let serverLog = '';
let base; // http://127.0.0.1:PORT/
let browser;
let anyFailed = false;

const sleep = ms => new Promise(r => setTimeout(r, ms));

/** Rejects after `ms` with `what` in the message; never leaves a timer behind. */
function within(ms, what, promise) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function startServer() {
  if (!fs.existsSync(BIN)) {
    throw new Error(`site-gen binary not found at ${BIN}: run \`cargo build -p site-gen\` in ${REPO} first, or set SITE_GEN_BIN`);
  }
  // The desk reads DESK_* settings from the environment; a developer's own
  // (another store, SMTP mail, a lower rate limit) must not leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DESK_')));
  server = spawn(BIN, ['serve', '--root', tmp, '--port', '0', '--data', dataDir], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
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
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'site-gen-browser-'));
  dataDir = path.join(tmp, 'data');
  for (const name of ['config.yaml', 'estate.yaml', 'content', 'themes']) {
    fs.cpSync(path.join(REPO, name), path.join(tmp, name), { recursive: true });
  }
  base = await startServer();
  // launch() gives the browser a fresh temporary user-data dir of its own
  // (and deletes it on close); each test then opens its own context, so no
  // cookie, cache or storage passes from one test to the next.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}, { timeout: SERVER_START_MS + 40_000 });

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

/**
 * A test with a browser: `body` gets `open({ javaScript, viewport })`, which
 * opens a page in a new context that may reach only the test server. On a
 * failure the most recent page is saved as screenshots/<name>.png.
 */
function browserTest(name, body) {
  test(name, { timeout: TEST_MS }, async () => {
    const contexts = [];
    const offsite = [];
    const pageErrors = [];
    let last;
    const open = async ({ javaScript = true, viewport = PHONE } = {}) => {
      const context = await browser.newContext({ javaScriptEnabled: javaScript, viewport, locale: 'zh-CN' });
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

const outboxDir = () => path.join(dataDir, 'outbox');
const outboxFiles = () => (fs.existsSync(outboxDir()) ? fs.readdirSync(outboxDir()).filter(f => f.endsWith('.eml')) : []);

/** The desk's email for `reference`, waited for up to OUTBOX_WAIT_MS. */
async function deskEmail(reference) {
  const file = path.join(outboxDir(), `${reference}.eml`);
  const deadline = Date.now() + OUTBOX_WAIT_MS;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) {
      assert.fail(`no ${file} within ${OUTBOX_WAIT_MS} ms; outbox holds [${outboxFiles().join(', ')}]`);
    }
    await sleep(100);
  }
  // Written then renamed by the desk, so it is whole once it exists.
  return fs.readFileSync(file, 'utf8');
}

/** Polls `fn` (a page.evaluate or similar) until it returns truthy, up to `ms`. */
async function eventually(what, fn, ms = 5_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

async function fillRepair(page, { phone = '138 0000 0000', description = '厨房水槽下面的水管接头漏水，地上已经积水。' } = {}) {
  await page.fill('#f-unit', '3-2-1502');
  await page.fill('#f-name', '王先生');
  await page.fill('#f-phone', phone);
  await page.check('#f-urgency-1'); // emergency
  await page.selectOption('#f-category', 'plumbing');
  await page.fill('#f-description', description);
  await page.check('#f-consent');
}

browserTest('repair form with JavaScript on: the script posts JSON and shows the reference', async open => {
  const page = await open({ javaScript: true, viewport: PHONE });
  await page.goto(new URL('forms/repair/', base).href);
  await fillRepair(page);

  const posted = page.waitForResponse(r => r.request().method() === 'POST' && new URL(r.url()).pathname === '/forms/repair');
  await page.click('form[data-form="repair"] button[type=submit]');
  const response = await posted;
  assert.equal(response.status(), 201, 'the desk answers the script with 201 Created');
  assert.match(response.request().headers()['content-type'], /^application\/json/);
  const json = await response.json();

  // The form is replaced by the script's success panel, which takes focus.
  const panel = page.locator('section.receipt');
  await panel.waitFor({ state: 'visible' });
  const reference = (await panel.locator('.reference').textContent()).trim();
  assert.match(reference, REPAIR_REF);
  assert.equal(reference, json.reference);
  assert.equal(await page.locator('form[data-form]').count(), 0, 'the form is gone');
  assert.ok(await panel.evaluate(el => el === document.activeElement), 'the success panel has focus');
  // The emergency answer promises the emergency response time.
  assert.ok((await panel.textContent()).includes('30 分钟内响应'), 'the emergency commitment is shown');

  const eml = await deskEmail(reference);
  assert.match(eml, /^Subject:/m);
  assert.ok(eml.includes(reference), 'the desk email names the reference');

  // The panel's link opens the receipt page, which shows the same reference.
  assert.equal(await panel.locator('a').getAttribute('href'), json.receipt_url);
  await Promise.all([page.waitForURL(u => u.pathname.startsWith(`/forms/repair/received/${reference}/`)), panel.locator('a').click()]);
  assert.equal((await page.locator('.reference').textContent()).trim(), reference);
});

browserTest('complaint form with JavaScript off: the browser follows the 303 to the receipt', async open => {
  const page = await open({ javaScript: false });
  const statuses = [];
  page.on('response', r => { if (r.request().method() === 'POST') statuses.push(r.status()); });
  await page.goto(new URL('forms/complaint/', base).href);
  assert.equal(await page.locator('input[name=submission_token]').count(), 0, 'forms.js did not run');
  await page.fill('#f-unit', '5-1-802');
  await page.fill('#f-name', '李女士');
  await page.fill('#f-phone', '139 1234 5678');
  await page.selectOption('#f-category', 'service');
  await page.fill('#f-description', '昨天下午在客服前台办理门禁卡，等了一个多小时没有人接待。');
  await page.check('#f-consent');

  await Promise.all([
    page.waitForURL(u => u.pathname.startsWith('/forms/complaint/received/')),
    page.click('form[data-form="complaint"] button[type=submit]'),
  ]);
  // The status page's address: …/received/<reference>/<key>.
  const [reference, key] = new URL(page.url()).pathname.split('/').slice(-2);
  assert.match(reference, COMPLAINT_REF);
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.deepEqual(statuses, [303], 'the form post was answered with 303 See Other');
  assert.equal((await page.locator('.reference').textContent()).trim(), reference);
  assert.ok((await page.title()).startsWith(`投诉 ${reference}`), await page.title());

  const eml = await deskEmail(reference);
  assert.match(eml, /^Subject:/m);
  assert.ok(eml.includes(reference), 'the desk email names the reference');
});

browserTest('invalid repair form with JavaScript off: the desk answers 422 and keeps every value', async open => {
  // With JavaScript off the browser's own constraint validation would stop
  // this submit (empty required description, phone not matching pattern).
  // page.evaluate still works in a javaScriptEnabled:false context: Playwright
  // runs it through the DevTools protocol, not the page's scripts (the
  // check below that forms.js left no submission_token proves the page's
  // own script stayed off). So we just set form.noValidate, exactly what a
  // browser without HTML validation would do, and the server has to judge.
  const page = await open({ javaScript: false });
  const statuses = [];
  page.on('response', r => { if (r.request().method() === 'POST') statuses.push(r.status()); });
  await page.goto(new URL('forms/repair/', base).href);
  assert.equal(await page.locator('input[name=submission_token]').count(), 0, 'forms.js did not run');
  await fillRepair(page, { phone: 'abc', description: '' });
  assert.equal(await page.locator('form[data-form="repair"]').evaluate(f => { f.noValidate = true; return f.noValidate; }), true);
  const before = outboxFiles().length;

  await Promise.all([
    page.waitForURL(u => u.pathname === '/forms/repair'),
    page.click('form[data-form="repair"] button[type=submit]'),
  ]);
  assert.deepEqual(statuses, [422], 'the desk answers an invalid form with 422');
  assert.ok((await page.title()).startsWith('错误：'), `the title marks the error: ${await page.title()}`);

  const summary = page.locator('.error-summary');
  await summary.waitFor({ state: 'visible' });
  const links = await summary.locator('a').evaluateAll(as => as.map(a => [a.getAttribute('href'), a.textContent]));
  assert.deepEqual(links.map(([href]) => href), ['#f-phone', '#f-description'], JSON.stringify(links));
  assert.ok(links[0][1].startsWith('联系电话：'), links[0][1]);
  assert.ok(links[1][1].startsWith('问题描述：'), links[1][1]);

  // Each message beside its field, and the control points at it.
  assert.equal((await page.locator('#f-phone-error').textContent()).trim(), '错误：请填写有效的电话号码，例如 138 0000 0000');
  assert.equal((await page.locator('#f-description-error').textContent()).trim(), '错误：请填写问题描述');
  assert.match(await page.getAttribute('#f-phone', 'aria-describedby'), /\bf-phone-error\b/);
  assert.equal(await page.getAttribute('#f-phone', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('#f-description', 'aria-invalid'), 'true');
  assert.equal(await page.locator('#f-unit-error').count(), 0, 'no error on a valid field');

  // Everything typed is still there.
  assert.equal(await page.inputValue('#f-unit'), '3-2-1502');
  assert.equal(await page.inputValue('#f-name'), '王先生');
  assert.equal(await page.inputValue('#f-phone'), 'abc');
  assert.equal(await page.inputValue('#f-category'), 'plumbing');
  assert.ok(await page.isChecked('#f-urgency-1'), 'the urgency choice is kept');
  assert.ok(await page.isChecked('#f-consent'), 'consent is kept');

  await sleep(300);
  assert.equal(outboxFiles().length, before, 'nothing was filed');
});

browserTest('empty repair form with JavaScript on: the script shows the errors and posts nothing', async open => {
  const page = await open({ javaScript: true });
  const posts = [];
  page.on('request', r => { if (r.method() === 'POST') posts.push(r.url()); });
  await page.goto(new URL('forms/repair/', base).href);
  // The script has run once it has added its token.
  await page.locator('input[name=submission_token]').waitFor({ state: 'attached' });
  const before = outboxFiles().length;

  await page.click('form[data-form="repair"] button[type=submit]');
  const summary = page.locator('.error-summary');
  await summary.waitFor({ state: 'visible' });
  await eventually('the error summary has focus',
    () => summary.evaluate(el => el === document.activeElement));
  const hrefs = await summary.locator('a').evaluateAll(as => as.map(a => a.getAttribute('href')));
  assert.deepEqual(hrefs, ['#f-unit', '#f-name', '#f-phone', '#f-urgency', '#f-category', '#f-description', '#f-consent']);
  assert.equal((await page.locator('#f-unit-error').textContent()).trim(), '错误：请填写房号');
  assert.equal(await page.getAttribute('#f-unit', 'aria-invalid'), 'true');

  // A summary link moves focus to its field.
  await summary.locator('a[href="#f-phone"]').click();
  assert.ok(await page.locator('#f-phone').evaluate(el => el === document.activeElement), 'the phone field has focus');

  await sleep(1_000);
  assert.deepEqual(posts, [], 'nothing was posted');
  assert.equal(outboxFiles().length, before, 'nothing was filed');
});


browserTest('home page on a phone: the tasks come first, the numbers are tap-to-call, axe-core finds nothing', async open => {
  const page = await open({ javaScript: true, viewport: PHONE });
  await page.goto(base);
  const tasks = page.locator('main .task-list a');
  const hrefs = await tasks.evaluateAll(as => as.map(a => a.getAttribute('href')));
  assert.deepEqual(hrefs.slice(0, 3), ['/forms/repair/', '/forms/complaint/', '/forms/feedback/']);
  assert.ok(hrefs.slice(3).every(h => h.startsWith('tel:')) && hrefs.length === 5, `two call buttons: ${hrefs}`);
  // The first task is on the first screen of a phone.
  const box = await tasks.first().boundingBox();
  assert.ok(box && box.y + box.height <= PHONE.height, `the first task is below the fold: ${JSON.stringify(box)}`);
  await assertAccessible(page, 'the home page at a phone viewport');

  await page.goto(new URL('emergencies/lift-entrapment/', base).href);
  const first = await page.locator('main > *').first().evaluate(el => el.className);
  assert.equal(first, 'call-block');
  await assertAccessible(page, 'an emergency page at a phone viewport');
});
