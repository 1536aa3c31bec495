// End-to-end tests of the site search in a real browser.
//
//   cargo build -p site-gen          # the binary under test
//   bash scripts/browser-deps.sh     # Debian's chromium, playwright-core, axe-core
//   node --test tests/browser/search.test.mjs
//
// The repository's own site is copied to a temporary folder and served by
// `site-gen serve --port 0`; Chromium talks to that server on 127.0.0.1 and
// to nothing else. The browser's folding is checked against the list in
// tests/fixtures/search/fold-cases.tsv, which the Rust unit tests check the
// Rust folding against: both must give the listed text.
// Environment: SITE_GEN_BIN, CHROMIUM_PATH, KEEP_TMP=1 (as forms.test.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './a11y.mjs';
import { spawn } from 'node:child_process';
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
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic',
];
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const SERVER_START_MS = 60_000;
const TEST_MS = 30_000;
const PHONE = { width: 390, height: 844 };

const FOLD_CASES = fs.readFileSync(path.join(REPO, 'tests/fixtures/search/fold-cases.tsv'), 'utf8')
  .split('\n').filter(l => l && !l.startsWith('#')).map(l => l.split('\t'));

let tmp;
let server;
let serverLog = '';
let base;
let browser;
let anyFailed = false;

const sleep = ms => new Promise(r => setTimeout(r, ms));

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
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DESK_')));
  server = spawn(BIN, ['serve', '--root', tmp, '--port', '0', '--data', path.join(tmp, 'data')], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return within(SERVER_START_MS, `waiting for "Serving http://127.0.0.1:PORT/" from ${BIN}`,
    new Promise((resolve, reject) => {
      let stdout = '';
      server.stdout.setEncoding('utf8');
      server.stderr.setEncoding('utf8');
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
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'site-gen-search-'));
  for (const name of ['config.yaml', 'estate.yaml', 'content', 'themes']) {
    fs.cpSync(path.join(REPO, name), path.join(tmp, name), { recursive: true });
  }
  base = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}, { timeout: SERVER_START_MS + 40_000 });

after(async () => {
  if (browser) await within(10_000, 'closing Chromium', browser.close()).catch(e => console.error(e.message));
  await stopServer();
  if (!tmp) return;
  if (anyFailed || process.env.KEEP_TMP) {
    console.error(`kept the temporary site in ${tmp}\n--- site-gen output ---\n${serverLog}`);
  } else {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, { timeout: 30_000 });

/** As in forms.test.mjs: `open()` gives a page that may reach only the test server. */
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
        const file = path.join(SCREENSHOTS, `search-${name.replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '')}.png`);
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


const searchUrl = q => new URL(`search/?q=${encodeURIComponent(q)}`, base).href;

/** Opens /search/?q=… and waits for the results: [{ title, href, section, excerpt, marks }]. */
async function results(page, q) {
  await page.goto(searchUrl(q));
  // `error`: the index was replaced under the page by a rebuild (serve).
  await page.waitForSelector('#search-form[data-state="done"], #search-form[data-state="error"]');
  return page.$$eval('#search-results > li', lis => lis.map(li => {
    const a = li.querySelector('a');
    return {
      title: a.textContent,
      href: new URL(a.href).pathname + decodeURIComponent(new URL(a.href).hash),
      section: li.querySelector('.result-section')?.textContent,
      excerpt: li.querySelector('.excerpt')?.textContent ?? '',
      marks: [...li.querySelectorAll('mark')].map(m => m.textContent),
    };
  }));
}
const paths = rs => rs.map(r => r.href.split('#')[0]);

browserTest('the browser folds the shared strings exactly as site-gen does', async open => {
  const page = await open();
  await page.goto(new URL('search/', base).href);
  await page.waitForFunction(() => window.siteSearch);
  const folded = await page.evaluate(async cases => {
    await window.siteSearch.ready();
    const out = [];
    for (const [input] of cases) {
      // As a query does: the phrase files of its characters, then the fold.
      await window.siteSearch.phrasesFor(input);
      out.push(window.siteSearch.fold(input));
    }
    return out;
  }, FOLD_CASES);
  const wrong = FOLD_CASES.filter(([, expected], i) => folded[i] !== expected)
    .map(([input, expected], i) => `${input}: Rust ${expected}, browser ${folded[FOLD_CASES.findIndex(c => c[0] === input)]}`);
  assert.deepEqual(wrong, []);
  assert.ok(FOLD_CASES.length >= 20);
});

browserTest('Simplified and Traditional queries find the same pages, the best first', async open => {
  const page = await open();
  const simplified = await results(page, '电梯困人');
  const traditional = await results(page, '電梯困人');
  assert.equal(simplified[0].href.split('#')[0], '/emergencies/lift-entrapment/');
  assert.deepEqual(paths(traditional), paths(simplified));
  assert.ok(simplified[0].marks.length > 0 || simplified[0].title.includes('电梯困人'));

  const deposit = await results(page, '裝修押金');
  assert.deepEqual(paths(deposit), paths(await results(page, '装修押金')));
  assert.ok(paths(deposit).includes('/renovation/completion/'), JSON.stringify(deposit));
  // Every page whose text has the words is found, with them highlighted.
  for (const p of ['/renovation/procedure/', '/fees/invoices/', '/fees/what-it-pays-for/']) {
    assert.ok(paths(deposit).includes(p), `${p} in ${paths(deposit)}`);
  }
  const top = deposit.find(r => r.excerpt.includes('装修押金'));
  assert.ok(top && top.marks.includes('装修押金'), JSON.stringify(deposit[0]));
});

browserTest('a Traditional phrase finds what only its phrase folding gives', async open => {
  const page = await open();
  // 覆 alone stays 覆 and 傢 stays 傢: only OpenCC's phrases 回覆 → 回复 and
  // 傢俱 → 家具 make these find anything.
  for (const [traditional, simplified] of [['回覆', '回复'], ['傢俱', '家具']]) {
    const found = await results(page, traditional);
    const want = await results(page, simplified);
    assert.ok(want.length > 0, simplified);
    assert.deepEqual(paths(found).sort(), paths(want).sort(), traditional);
    assert.ok(found.some(r => r.marks.includes(simplified)), JSON.stringify(found[0]));
  }
});

browserTest('regional words find the standard ones', async open => {
  const page = await open();
  const lift = await results(page, '升降機');
  assert.ok(paths(lift).includes('/emergencies/lift-entrapment/'), JSON.stringify(paths(lift)));
  assert.ok(lift.some(r => r.marks.includes('电梯')));
  const deposit = await results(page, '按金');
  const simplified = await results(page, '押金');
  assert.deepEqual(paths(deposit).sort(), paths(simplified).sort());
  assert.ok(paths(deposit).includes('/renovation/completion/'));
  const fee = await results(page, '管理費');
  assert.ok(fee.length > 0 && fee[0].href.startsWith('/fees/'), JSON.stringify(fee.slice(0, 3)));
});

browserTest('full-width input, a query with spaces, and no result', async open => {
  const page = await open();
  const full = await results(page, '（停水）');
  assert.deepEqual(paths(full), paths(await results(page, '停水')));
  assert.ok(full.length > 0);

  // Both words must occur: every page found has both, and it is fewer
  // pages than either word finds alone.
  const docs = q => page.evaluate(async q => (await window.siteSearch.search(q)).hits.map(h => h.doc), q);
  const [both, water, lift] = [await docs('停水 电梯'), await docs('停水'), await docs('电梯')];
  assert.ok(both.length > 0 && both.length < water.length && both.length < lift.length,
    `${both.length}, ${water.length}, ${lift.length}`);
  for (const d of both) assert.ok(water.includes(d) && lift.includes(d), d);
  assert.deepEqual(await docs('停水　電梯'), both);

  const none = await results(page, '火星移民');
  assert.equal(none.length, 0);
  assert.match(await page.textContent('#search-status'), /没有找到包含“火星移民”的页面/);
  assert.ok(await page.isVisible('#search-empty'));
  assert.ok(await page.isVisible('#search-empty a[href^="tel:"]'));
  assert.ok(await page.isVisible('#site-map a[href="/fees/"]'));
});

browserTest('a result links to the heading nearest the match', async open => {
  const page = await open();
  const rs = await results(page, '押金退还');
  const r = rs.find(x => x.href.startsWith('/renovation/completion/'));
  assert.ok(r, JSON.stringify(rs));
  assert.equal(r.href, '/renovation/completion/#押金退还');
  assert.equal(r.section, '装修');
});

browserTest('the header box submits to the search page, by keyboard; results are links', async open => {
  const page = await open();
  await page.goto(new URL('fees/', base).href);
  // The box is reachable with Tab from the top of the page.
  let focused = '';
  for (let i = 0; i < 5 && focused !== 'site-search-q'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement.id);
  }
  assert.equal(focused, 'site-search-q');
  await page.keyboard.type('快遞');
  await Promise.all([page.waitForURL(/\/search\/\?q=/), page.keyboard.press('Enter')]);
  await page.waitForSelector('#search-form[data-state="done"]');
  assert.equal(await page.inputValue('#search-q'), '快遞');
  const links = await page.$$eval('#search-results > li > a[href]', as => as.length);
  assert.ok(links > 0);
  // No script on other pages: it is loaded by the search page only.
  const other = await open();
  const scripts = [];
  other.on('request', r => scripts.push(r.url()));
  await other.goto(new URL('fees/', base).href);
  assert.ok(!scripts.some(u => u.includes('search.js') || u.includes('/search/')), scripts.join('\n'));
  // A query typed on the search page goes into the address, to share.
  await page.fill('#search-q', '停车');
  await page.press('#search-q', 'Enter');
  await page.waitForFunction(() => location.search.includes('q='));
  assert.equal(new URL(page.url()).searchParams.get('q'), '停车');
});

browserTest('without JavaScript the search page is a site map of every page', async open => {
  const page = await open({ javaScript: false });
  await page.goto(searchUrl('电梯'));
  const hrefs = await page.$$eval('#site-map a', as => as.map(a => a.getAttribute('href')));
  for (const p of ['/emergencies/lift-entrapment/', '/renovation/completion/', '/fees/', '/forms/repair/']) {
    assert.ok(hrefs.includes(p), `${p} in the site map`);
  }
  const pages = fs.readdirSync(path.join(tmp, 'content', 'emergencies')).filter(f => f.endsWith('.md') && f !== '_index.md');
  for (const f of pages) assert.ok(hrefs.includes(`/emergencies/${f.replace(/\.md$/, '')}/`), f);
  assert.ok(await page.isVisible('noscript, .notice').catch(() => true));
});

browserTest('axe-core finds no violations on the search page, with results and without', async open => {
  const page = await open();
  await results(page, '装修押金');
  await assertAccessible(page, 'the search page with results');
  await results(page, '火星移民');
  await assertAccessible(page, 'the search page without results');
});

browserTest('a query answers within 50 ms once its shards are loaded', async open => {
  const page = await open();
  await results(page, '电梯困人');
  const ms = await page.evaluate(async () => {
    const t = performance.now();
    for (let i = 0; i < 10; i++) await window.siteSearch.search('电梯困人');
    return (performance.now() - t) / 10;
  });
  assert.ok(ms < 50, `${ms} ms`);
});

browserTest('serve keeps the index current: a new word is found after an edit', async open => {
  const page = await open();
  const file = path.join(tmp, 'content', 'fees', 'payment.md');
  fs.appendFileSync(file, '\n## 新增说明\n\n缴费可以使用翠湖通小程序。\n');
  const deadline = Date.now() + 15_000;
  let found = [];
  while (Date.now() < deadline) {
    // serve's live reload may abort a navigation made while it rebuilds.
    found = await results(page, '翠湖通').catch(e => {
      if (!/ERR_ABORTED/.test(e.message)) throw e;
      return [];
    });
    if (found.length) break;
    await sleep(300);
  }
  assert.equal(found[0]?.href, '/fees/payment/#新增说明');
});
