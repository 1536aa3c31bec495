// The search page's query side. The index is written by site-gen
// (site-gen/src/search/): folding, cutting and hashing here must stay the
// same as there; tests/browser/search.test.mjs checks both on one list.
(() => {
'use strict';
const D = document, form = D.getElementById('search-form');
if (!form) return;
const BASE = form.dataset.index, PAGE = 10;
const $ = id => D.getElementById(id);
const input = $('search-q'), list = $('search-results'), status = $('search-status');
const more = $('search-more'), moreWrap = $('search-more-wrap'), empty = $('search-empty');

// What site-gen's tokens.rs calls CJK, letters and digits.
const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u{20000}-\u{323af}]/u;
const LETTER = /\p{Alphabetic}/u, DIGIT = /\p{N}/u;
const kind = c => CJK.test(c) ? 1 : LETTER.test(c) ? 2 : DIGIT.test(c) ? 3 : 0;

let meta, table, starts, lengths;
const shards = new Map(), docs = new Map(), phrases = new Map(), phraseFiles = new Map();
let longest = 0;
const get = (url, how) => fetch(BASE + url).then(r => {
  if (!r.ok) throw new Error(url + ': ' + r.status);
  return r[how]();
});
const ready = () => meta ? Promise.resolve() : get('meta.json', 'json').then(m => {
  const t = new Map(), pairs = Array.from(m.fold);
  for (let i = 0; i + 1 < pairs.length; i += 2) t.set(pairs[i], pairs[i + 1]);
  for (const k in m.fold_long) t.set(k, m.fold_long[k]);
  table = t; meta = m; starts = new Set(m.phrase_starts);
});
// n.bin: a byte per page, the code of its length (scoring.rs), as BM25's
// length part k1 · (1 − b + b · length / average), per code.
const loadLengths = () => lengths || (lengths = get('n.bin', 'arrayBuffer').then(buf => {
  const part = new Float64Array(256), avg = Math.max(meta.avg_len, 1);
  for (let c = 1; c < 256; c++) part[c] = meta.k1 * (1 - meta.b + meta.b * 2 ** ((c - 1) / meta.length_steps) / avg);
  part[0] = meta.k1 * (1 - meta.b);
  const codes = new Uint8Array(buf);
  return doc => part[codes[doc]];
}));
const addPhrases = o => {
  for (const k in o) { phrases.set(k, o[k]); longest = Math.max(longest, Array.from(k).length); }
};
const norm = s => s.normalize('NFKC').toLowerCase();
// The phrase files of the characters of `s` that start a phrase: with
// them, every phrase that can start in `s` is known.
const phrasesFor = s => Promise.all([...new Set(norm(s))].filter(c => starts.has(c)).map(c => {
  if (!phraseFiles.has(c)) phraseFiles.set(c, get('p/' + c.codePointAt(0).toString(16) + '.json', 'json').then(addPhrases));
  return phraseFiles.get(c);
}));

// fold.rs: at each character the longest known phrase, else the table.
// cs: normalised characters; gives [folded, first, count] pieces.
const foldPieces = cs => {
  const out = [];
  for (let i = 0; i < cs.length;) {
    let n = starts.has(cs[i]) ? Math.min(longest, cs.length - i) : 1, to;
    for (; n > 1; n--) if ((to = phrases.get(cs.slice(i, i + n).join(''))) !== undefined) break;
    if (n < 2) { n = 1; to = table.get(cs[i]) ?? cs[i]; }
    out.push([to, i, n]);
    i += n;
  }
  return out;
};
const fold = s => foldPieces(Array.from(norm(s))).map(p => p[0]).join('');
const compact = s => Array.from(s).filter(c => kind(c)).join('');

// tokens.rs: bigrams of CJK runs (the character alone for a run of one),
// runs of letters, runs of digits. [term, isUnigram]
const tokens = s => {
  const out = [];
  let run = '', k = 0;
  const flush = () => {
    if (k === 1) {
      const cs = Array.from(run);
      if (cs.length === 1) out.push([cs[0], true]);
      for (let i = 1; i < cs.length; i++) out.push([cs[i - 1] + cs[i], false]);
    } else if (k) out.push([run, false]);
    run = '';
  };
  for (const c of s) {
    const n = kind(c);
    if (n !== k) { flush(); k = n; }
    if (n) run += c;
  }
  flush();
  return out;
};

// FNV-1a over UTF-8: index.rs's shard_hash.
const utf8 = new TextEncoder();
const hash = s => {
  let h = 0x811c9dc5;
  for (const b of utf8.encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
};
const shardOf = ([t, uni]) => (uni ? 'u/' + hash(t) % meta.unigram_shards : 't/' + hash(t) % meta.shards) + '.bin';

// A shard (index.rs): per term its gaps, then a byte per posting,
// fields << 6 | weight code. term → [gaps offset, count, bytes offset].
const loadShard = name => {
  if (!shards.has(name)) shards.set(name, get(name, 'arrayBuffer').then(buf => {
    const b = new Uint8Array(buf), dec = new TextDecoder(), terms = new Map();
    let at = 0;
    const vint = () => { let v = 0, s = 0, x; do { x = b[at++]; v += (x & 127) * 2 ** s; s += 7; } while (x > 127); return v; };
    while (at < b.length) {
      const len = vint(), term = dec.decode(b.subarray(at, at + len));
      at += len;
      const n = vint(), start = at;
      for (let i = 0; i < n; i++) vint();
      terms.set(term, [start, n, at]);
      at += n;
    }
    return { b, terms };
  }));
  return shards.get(name);
};
// A term's postings: its documents in order, and each document's posting
// byte by document number (0: not there; a weight code is never 0), so that
// checking a candidate against the other terms is one array read.
const decoded = new Map();
const postings = tok => {
  const key = (tok[1] ? 'u' : 't') + tok[0];
  if (!decoded.has(key)) decoded.set(key, decode(tok));
  return decoded.get(key);
};
const decode = async tok => {
  const sh = await loadShard(shardOf(tok)), e = sh.terms.get(tok[0]);
  if (!e) return { docs: [], at: new Uint8Array(meta.docs), size: 0 };
  const b = sh.b, [start, n, bytes] = e, docs = new Uint32Array(n), at = new Uint8Array(meta.docs);
  let p = start, doc = 0;
  for (let i = 0; i < n; i++) {
    let v = 0, s = 0, x;
    do { x = b[p++]; v += (x & 127) * 2 ** s; s += 7; } while (x > 127);
    doc = i ? doc + v : v;
    docs[i] = doc;
    at[doc] = b[bytes + i];
  }
  return { docs, at, size: n };
};

// The query: terms (space-separated, all required), each with its synonym
// variants (any may match).
const parse = q => {
  const terms = [];
  for (const raw of fold(q).split(/\s+/)) {
    if (!compact(raw) || terms.some(t => t.text === raw)) continue;
    const variants = [raw];
    for (let i = 0; i < variants.length && variants.length < 12; i++) {
      for (const group of meta.synonyms) for (const w of group) {
        if (!variants[i].includes(w)) continue;
        for (const o of group) {
          const v = variants[i].split(w).join(o);
          if (!variants.includes(v) && variants.length < 12) variants.push(v);
        }
      }
    }
    terms.push({ text: raw, variants: variants.map(v => ({ toks: tokens(v), phrase: compact(v) })).filter(v => v.toks.length) });
  }
  return terms.filter(t => t.variants.length);
};

const search = async q => {
  await ready();
  await phrasesFor(q);
  const terms = parse(q);
  if (!terms.length) return { terms, hits: [] };
  const uniq = new Map();
  for (const t of terms) for (const v of t.variants) for (const k of v.toks) uniq.set(k.join('|'), k);
  const lists = new Map();
  const [lengthPart] = await Promise.all([loadLengths(), ...[...uniq].map(async ([key, tok]) => lists.set(key, await postings(tok)))]);
  const N = meta.docs, K1 = meta.k1, W = meta.weights, idf = n => Math.log(1 + (N - n + 0.5) / (n + 0.5));
  let scores = null;
  for (const t of terms) {
    const best = new Map(); // doc → [score, tier]
    for (const v of t.variants) {
      const ls = v.toks.map(k => lists.get(k.join('|'))).sort((a, b) => a.size - b.size);
      const w = ls.map(l => idf(l.size) * (K1 + 1));
      for (const doc of ls[0].docs) {
        let s = 0, title = true, head = true;
        for (let j = 0; j < ls.length; j++) {
          const p = ls[j].at[doc];
          if (!p) { s = -1; break; }
          const tf = W[p & 63];
          s += w[j] * tf / (tf + lengthPart(doc));
          title = title && (p & 64); head = head && (p & 192);
        }
        if (s < 0) continue;
        const tier = title ? 2 : head ? 1 : 0, old = best.get(doc);
        if (!old || old[1] < tier || (old[1] === tier && old[0] < s)) best.set(doc, [s, tier]);
      }
    }
    if (!scores) scores = best;
    else {
      const next = new Map();
      for (const [doc, [s, tier]] of best) {
        const o = scores.get(doc);
        if (o) next.set(doc, [o[0] + s, Math.min(o[1], tier)]);
      }
      scores = next;
    }
  }
  const hits = [...scores].map(([doc, [score, tier]]) => ({ doc, score, tier, phrase: 0 }));
  hits.sort(order);
  return { terms, hits };
};
const order = (a, b) => b.phrase - a.phrase || b.tier - a.tier || b.score - a.score || a.doc - b.doc;

// A page file, with the phrases its text was folded with.
const loadDoc = n => {
  if (!docs.has(n)) docs.set(n, get('d/' + n + '.json', 'json').then(d => { addPhrases(d.phrases); return d; }));
  return docs.get(n);
};

// Where the terms' phrases are in a page: all of them somewhere (phrase),
// all in the title (tier 2) or in the title and headings (1), and the first
// heading and the first text block that has one.
const place = (terms, d) => {
  const title = compact(fold(d.title));
  const heads = d.blocks.map(b => compact(fold(b[1]))), texts = d.blocks.map(b => compact(fold(b[2])));
  let inTitle = true, inHead = true, all = true, head = -1, text = -1;
  for (const t of terms) {
    const ps = t.variants.map(v => v.phrase), has = s => ps.some(p => s.includes(p));
    const h = heads.findIndex(has), x = texts.findIndex(has), ti = has(title);
    inTitle = inTitle && ti; inHead = inHead && (ti || h >= 0);
    all = all && (ti || h >= 0 || x >= 0);
    if (head < 0) head = h;
    if (text < 0) text = x;
  }
  return { phrase: all ? 1 : 0, tier: inTitle ? 2 : inHead ? 1 : 0, head, text };
};

// The text of block `i` around the first match, with the matches marked.
const excerpt = (text, wanted) => {
  const chars = Array.from(text), at = [], cs = [], src = [];
  let flat = '';
  chars.forEach((c, i) => { for (const n of norm(c)) { cs.push(n); src.push(i); } });
  for (const [to, i, n] of foldPieces(cs)) for (const f of compact(to)) { flat += f; at.push([src[i], src[i + n - 1]]); }
  const fl = Array.from(flat), marked = new Uint8Array(chars.length);
  let first = -1;
  for (const p of wanted) {
    const pl = Array.from(p).length;
    if (!pl) continue;
    for (let i = 0; i + pl <= fl.length; i++) {
      if (fl.slice(i, i + pl).join('') !== p) continue;
      for (let j = at[i][0]; j <= at[i + pl - 1][1]; j++) marked[j] = 1;
      if (first < 0 || at[i][0] < first) first = at[i][0];
    }
  }
  const from = Math.max(0, (first < 0 ? 0 : first) - 30), to = Math.min(chars.length, from + 110);
  const p = D.createElement('p');
  p.className = 'excerpt';
  if (from > 0) p.append('…');
  for (let i = from; i < to;) {
    let j = i;
    while (j < to && marked[j] === marked[i]) j++;
    const s = chars.slice(i, j).join('');
    if (marked[i]) { const m = D.createElement('mark'); m.textContent = s; p.append(m); } else p.append(s);
    i = j;
  }
  if (to < chars.length) p.append('…');
  return p;
};

// A result: the link goes to the heading that has the words, else to the
// part whose text has them, unless the title has them all.
const item = (terms, hit, d) => {
  const li = D.createElement('li'), a = D.createElement('a'), where = D.createElement('span');
  const at = hit.head >= 0 ? hit.head : hit.tier < 2 ? hit.text : -1, b = d.blocks[at];
  a.href = d.url + (b && b[0] ? '#' + encodeURIComponent(b[0]) : '');
  a.className = 'result-title';
  a.textContent = d.title + (b && b[1] ? ' › ' + b[1] : '');
  where.className = 'result-section';
  where.textContent = d.section || '首页';
  li.append(a, where);
  const phrases = terms.flatMap(t => t.variants.map(v => v.phrase));
  const part = d.blocks[hit.text >= 0 ? hit.text : at] || d.blocks.find(x => x[2]);
  if (part && part[2]) li.append(excerpt(part[2], phrases));
  return li;
};

let current = 0;
const run = async q => {
  const mine = ++current, t0 = performance.now();
  form.dataset.state = 'busy';
  list.replaceChildren(); moreWrap.hidden = true; empty.hidden = true;
  if (!q.trim()) { status.textContent = ''; form.dataset.state = 'idle'; return; }
  status.textContent = '正在搜索…';
  let res;
  try { res = await search(q); } catch (e) {
    status.textContent = '搜索暂时无法使用，请稍后再试，或从下面的栏目中查找。';
    form.dataset.state = 'error';
    return;
  }
  if (mine !== current) return;
  const { terms, hits } = res;
  let shown = 0;
  const page = async () => {
    const slice = hits.slice(shown, shown + PAGE), ds = await Promise.all(slice.map(h => loadDoc(h.doc)));
    slice.forEach((h, i) => Object.assign(h, place(terms, ds[i])));
    const order2 = slice.map((h, i) => [h, ds[i]]).sort((x, y) => order(x[0], y[0]));
    if (mine !== current) return;
    for (const [h, d] of order2) list.append(item(terms, h, d));
    shown += slice.length;
    moreWrap.hidden = shown >= hits.length;
  };
  if (hits.length) {
    await page();
    if (mine !== current) return;
    status.textContent = `找到 ${hits.length} 个页面包含“${q.trim()}”。`;
  } else {
    status.textContent = `没有找到包含“${q.trim()}”的页面。`;
    empty.hidden = false;
  }
  more.onclick = () => page();
  form.dataset.ms = (performance.now() - t0).toFixed(1);
  form.dataset.state = 'done';
};

const fromUrl = () => new URLSearchParams(location.search).get('q') || '';
form.addEventListener('submit', e => {
  e.preventDefault();
  const q = input.value;
  const url = new URL(location.href);
  if (q.trim()) url.searchParams.set('q', q); else url.searchParams.delete('q');
  history.pushState(null, '', url);
  run(q);
});
addEventListener('popstate', () => { input.value = fromUrl(); run(input.value); });
input.value = fromUrl();
const box = D.getElementById('site-search-q');
if (box) box.value = input.value;
run(input.value);
// For the tests and the benchmark: the same folding the results use.
window.siteSearch = { ready, phrasesFor, fold: s => fold(s), tokens: s => tokens(fold(s)), search };
})();
