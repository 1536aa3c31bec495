// The search benchmark's browser half (bench/search.sh runs it): serves a
// built site on 127.0.0.1 and runs bench/search-queries.json through
// site-gen's search and, when the site also has a pagefind/ folder, through
// Pagefind, in one headless Chromium.
//
//   node bench/search.mjs PUBLIC_DIR QUERIES_JSON BUILD_RESULTS_JSONL
//
// Recall is measured against a lexical oracle: the pages whose folded text
// (site-gen's table, from the index) contains every folded query word
// (`expect` when the query is a regional word or another script). Bytes are
// what the server sent for search files only (search.js and search/… for
// site-gen; pagefind/… for Pagefind), gzip-compressed as a static host
// would serve them (Pagefind's own files are compressed already), on a
// cold cache (a fresh browser context) and warm (the next query).

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, '..', 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');
const [PUBLIC, QUERIES, BUILDS] = process.argv.slice(2);
const queries = JSON.parse(fs.readFileSync(QUERIES, 'utf8'));
const hasPagefind = fs.existsSync(path.join(PUBLIC, 'pagefind', 'pagefind.js'));

// --- the oracle, from site-gen's index files
const id = fs.readdirSync(path.join(PUBLIC, 'search')).find(d => fs.existsSync(path.join(PUBLIC, 'search', d, 'meta.json')));
const dir = path.join(PUBLIC, 'search', id);
const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
const table = new Map();
const pairs = Array.from(meta.fold);
for (let i = 0; i + 1 < pairs.length; i += 2) table.set(pairs[i], pairs[i + 1]);
for (const k in meta.fold_long) table.set(k, meta.fold_long[k]);
const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u{20000}-\u{323af}]/u;
const keep = c => CJK.test(c) || /\p{Alphabetic}|\p{N}/u.test(c);
// The phrases of the folding (all of them), longest first, as fold.rs.
const phrases = new Map();
for (const f of fs.existsSync(path.join(dir, 'p')) ? fs.readdirSync(path.join(dir, 'p')) : []) {
  for (const [k, v] of Object.entries(JSON.parse(fs.readFileSync(path.join(dir, 'p', f), 'utf8')))) phrases.set(k, v);
}
const longest = Math.max(1, ...[...phrases.keys()].map(k => Array.from(k).length));
const starts = new Set([...phrases.keys()].map(k => Array.from(k)[0]));
const fold = s => {
  const cs = Array.from(s.normalize('NFKC').toLowerCase());
  let out = '';
  for (let i = 0; i < cs.length;) {
    let n = starts.has(cs[i]) ? Math.min(longest, cs.length - i) : 1, to;
    for (; n > 1; n--) if ((to = phrases.get(cs.slice(i, i + n).join(''))) !== undefined) break;
    if (n < 2) { n = 1; to = table.get(cs[i]) ?? cs[i]; }
    out += to;
    i += n;
  }
  return out;
};
const compact = s => Array.from(s).filter(keep).join('');
const docs = [];
for (let i = 0; i < meta.docs; i++) {
  const d = JSON.parse(fs.readFileSync(path.join(dir, 'd', `${i}.json`), 'utf8'));
  docs.push({ url: d.url, text: compact(fold([d.title, ...d.blocks.flatMap(b => [b[1], b[2]])].join(' '))) });
}
const oracle = q => {
  const words = fold(q).split(/\s+/).map(compact).filter(Boolean);
  return new Set(docs.filter(d => words.every(w => d.text.includes(w))).map(d => d.url));
};

// --- a static server that counts what it sends
let counted = 0, counting = () => false;
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.json': 'application/json', '.css': 'text/css', '.wasm': 'application/wasm' };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  let file = path.join(PUBLIC, decodeURIComponent(url.pathname));
  if (!file.startsWith(PUBLIC)) { res.writeHead(403).end(); return; }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
  if (!fs.existsSync(file)) { res.writeHead(404).end(); return; }
  let body = fs.readFileSync(file);
  const headers = { 'Content-Type': types[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'max-age=3600' };
  const precompressed = /\.pf_(meta|index|fragment|filter)$/.test(file) || file.endsWith('.pagefind');
  if (!precompressed && /gzip/.test(req.headers['accept-encoding'] || '')) {
    body = zlib.gzipSync(body, { level: 6 });
    headers['Content-Encoding'] = 'gzip';
  }
  if (counting(url.pathname)) counted += body.length;
  res.writeHead(200, headers).end(body);
});
await new Promise(r => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
fs.writeFileSync(path.join(PUBLIC, 'pf-bench.html'),
  `<!doctype html><html lang="zh-Hans"><meta charset="utf-8"><title>pagefind</title><script type="module">
window.pfReady = import('/pagefind/pagefind.js').then(async m => { await m.init(); window.pf = m; });</script></html>`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-quic'],
});
const newPage = async () => {
  const context = await browser.newContext();
  await context.route(u => !u.href.startsWith(base), r => r.abort());
  return [context, await context.newPage()];
};
const median = xs => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };

// --- site-gen
const ours = [];
counting = p => p.startsWith('/search/') && p !== '/search/' || p.startsWith('/static/search.js');
for (const [i, q] of queries.entries()) {
  const [context, page] = await newPage();
  counted = 0;
  await page.goto(`${base}/search/?q=${encodeURIComponent(q.q)}`);
  await page.waitForSelector('#search-form[data-state="done"]', { timeout: 60_000 });
  const cold = counted;
  const urls = await page.evaluate(async q => (await window.siteSearch.search(q)).hits.map(h => h.doc), q.q);
  const ms = await page.evaluate(async q => {
    const t = [];
    for (let k = 0; k < 5; k++) { const t0 = performance.now(); await window.siteSearch.search(q); t.push(performance.now() - t0); }
    return t.sort((a, b) => a - b)[2];
  }, q.q);
  // Warm: the next query of the list on the same page (fresh terms, cached script and table).
  const next = queries[(i + 1) % queries.length].q;
  counted = 0;
  await page.fill('#search-q', next);
  await page.press('#search-q', 'Enter');
  await page.waitForFunction(n => new URLSearchParams(location.search).get('q') === n && document.getElementById('search-form').dataset.state === 'done', next);
  const warm = counted;
  ours.push({ ...q, found: new Set(urls.map(d => docs[d].url)), cold, warm, ms });
  await context.close();
}

// --- Pagefind
const theirs = [];
if (hasPagefind) {
  counting = p => p.startsWith('/pagefind/');
  for (const [i, q] of queries.entries()) {
    const [context, page] = await newPage();
    counted = 0;
    await page.goto(`${base}/pf-bench.html`);
    await page.waitForFunction(() => window.pfReady).then(() => page.evaluate(() => window.pfReady));
    // As a results page would: the search, then the first ten results' data.
    const n = await page.evaluate(async q => {
      const r = await window.pf.search(q);
      await Promise.all(r.results.slice(0, 10).map(x => x.data()));
      return r.results.length;
    }, q.q);
    const cold = counted;
    const ms = await page.evaluate(async q => {
      const t = [];
      for (let k = 0; k < 5; k++) { const t0 = performance.now(); await window.pf.search(q); t.push(performance.now() - t0); }
      return t.sort((a, b) => a - b)[2];
    }, q.q);
    const next = queries[(i + 1) % queries.length].q;
    counted = 0;
    await page.evaluate(async q => {
      const r = await window.pf.search(q);
      await Promise.all(r.results.slice(0, 10).map(x => x.data()));
    }, next);
    const warm = counted;
    // Every result's address, for recall (not counted in the bytes).
    counting = () => false;
    const urls = await page.evaluate(async q => {
      const r = await window.pf.search(q), out = [];
      for (let k = 0; k < r.results.length; k += 200) {
        out.push(...(await Promise.all(r.results.slice(k, k + 200).map(x => x.data()))).map(d => d.url));
      }
      return out;
    }, q.q);
    counting = p => p.startsWith('/pagefind/');
    theirs.push({ ...q, found: new Set(urls.map(u => u.replace(/index\.html$/, ''))), count: n, cold, warm, ms });
    await context.close();
  }
}
await browser.close();
server.close();

// --- report
const kb = b => (b / 1024).toFixed(1);
const recall = (found, want) => want.size ? [...want].filter(u => found.has(u)).length / want.size : NaN;
const pct = x => Number.isNaN(x) ? '  n/a' : (100 * x).toFixed(0).padStart(4) + '%';
console.log(`\n${docs.length} pages. Recall against the oracle; KB sent for search files (gzip), cold / warm; ms per query once loaded.`);
const head = ['query', 'type', 'oracle', 'site-gen recall', 'KB cold/warm', 'ms'];
if (hasPagefind) head.push('Pagefind recall', 'KB cold/warm', 'ms');
console.log(head.join(' | '));
const rows = [];
for (const [i, o] of ours.entries()) {
  const want = oracle(o.expect || o.q);
  const row = { q: o.q, want: want.size, ours: recall(o.found, want), oursExtra: [...o.found].filter(u => !want.has(u)).length };
  const cells = [o.q, o.type, want.size, pct(row.ours) + (row.oursExtra ? ` (+${row.oursExtra})` : ''), `${kb(o.cold)}/${kb(o.warm)}`, o.ms.toFixed(1)];
  if (hasPagefind) {
    const t = theirs[i];
    row.theirs = recall(t.found, want);
    cells.push(pct(row.theirs) + ` (${t.count})`, `${kb(t.cold)}/${kb(t.warm)}`, t.ms.toFixed(1));
  }
  rows.push(row);
  console.log(cells.join(' | '));
}
const mean = xs => xs.filter(x => !Number.isNaN(x)).reduce((a, b) => a + b, 0) / xs.filter(x => !Number.isNaN(x)).length;
const typical = ours.filter(o => !o.q.includes(' ') && [...o.q].length >= 2 && [...o.q].length <= 4);
console.log('\nsummary | site-gen' + (hasPagefind ? ' | Pagefind | ratio' : ''));
const line = (name, a, b, unit = '', digits = 1) => console.log(`${name} | ${a.toFixed(digits)}${unit}` + (hasPagefind ? ` | ${b.toFixed(digits)}${unit} | ${(a / b).toFixed(2)}` : ''));
line('mean recall', 100 * mean(rows.map(r => r.ours)), 100 * mean(rows.map(r => r.theirs ?? NaN)), '%');
line('median KB cold, 2–4 character queries', median(typical.map(o => o.cold)) / 1024, median(theirs.filter((_, i) => typical.includes(ours[i])).map(t => t.cold)) / 1024, ' KB');
line('max KB cold, 2–4 character queries', Math.max(...typical.map(o => o.cold)) / 1024, Math.max(...theirs.filter((_, i) => typical.includes(ours[i])).map(t => t.cold)) / 1024, ' KB');
line('median KB warm', median(ours.map(o => o.warm)) / 1024, median(theirs.map(t => t.warm)) / 1024, ' KB');
line('median ms per query, loaded', median(ours.map(o => o.ms)), median(theirs.map(t => t.ms)), ' ms');
if (BUILDS && fs.existsSync(BUILDS)) {
  const b = Object.fromEntries(fs.readFileSync(BUILDS, 'utf8').trim().split('\n').map(l => JSON.parse(l)).map(r => [r.tool, r]));
  const s = b['site-gen'], n = b['site-gen-nosearch'], p = b.pagefind;
  if (s && n) {
    const extra = s.best - n.best, mem = (s.peak_kib - n.peak_kib) / 1024;
    console.log(`index build, added to the site build | ${extra.toFixed(2)} s, ${mem.toFixed(0)} MB` +
      (p ? ` | ${p.best.toFixed(2)} s, ${(p.peak_kib / 1024).toFixed(0)} MB | ${(extra / p.best).toFixed(3)}, ${(mem / (p.peak_kib / 1024)).toFixed(3)}` : ''));
    console.log(`  (site-gen build ${s.best.toFixed(2)} s / ${(s.peak_kib / 1024).toFixed(0)} MB with search, ${n.best.toFixed(2)} s / ${(n.peak_kib / 1024).toFixed(0)} MB without)`);
  }
}
const size = d => fs.readdirSync(d, { withFileTypes: true }).reduce((a, e) => a + (e.isDirectory() ? size(path.join(d, e.name)) : fs.statSync(path.join(d, e.name)).size), 0);
console.log(`index on disk | ${(size(dir) / 1048576).toFixed(1)} MB` + (hasPagefind ? ` | ${(size(path.join(PUBLIC, 'pagefind')) / 1048576).toFixed(1)} MB |` : ''));
console.log('targets: 2–4 character query < 60 KB cold; index < 1 s and < 50 MB added; < 50 ms per query once loaded.');
