//! The index as static files: postings sharded by the hash of the term,
//! one small file per page for excerpts, and the query side's metadata.
//!
//! ```text
//! search/<id>/meta.json    documents, shard counts, folding table, synonyms
//! search/<id>/t/<k>.bin    bigrams and words whose hash is k (mod shards)
//! search/<id>/u/<k>.bin    single characters, likewise
//! search/<id>/n.bin        each page's length, a byte per page
//! search/<id>/d/<n>.json   page n: address, title, section, text by heading
//! search/<id>/p/<x>.json   the folding's phrases that start with U+<x>
//! ```
//!
//! The browser fetches a phrase file only for a query with its first
//! character (`meta.json` lists them); a page file carries the phrases its
//! own text was folded with, so the browser folds it as the index did.
//!
//! A shard is a sequence of entries, sorted by term:
//! `varint term length, term (UTF-8), varint postings n, n varint
//! document-number gaps, n posting bytes`. A posting byte is
//! `fields << 6 | weight code`: the fields say the term is in the title (1)
//! and in a heading (2); the weight code is the page's count of the term
//! (title ×4, headings ×2, body ×1), exact up to 40, in steps above
//! ([`super::scoring`]; `meta.json` has the table). `n.bin` has a byte per
//! page, the code of its length in characters. The query side computes
//! BM25 from these, the average length and the posting count. Lengths are
//! kept apart from the shards so that an edit changing a page's length
//! rewrites only the shards of the terms whose counts changed. The gaps and
//! the bytes are kept apart, and the fields share the weight's byte,
//! because gzip then packs a common term's list into a third fewer bytes
//! than gap-weight-fields triples: a cold query's transfer is mostly these
//! lists. No positions: phrases are checked against the text of the best
//! results. `<id>` is a digest of all of it, so a cached script never mixes
//! two builds' files.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use rayon::prelude::*;
use serde::Serialize;

use super::fold::FoldTable;
use super::postings::{Postings, Raw, read_varint, varint};
use super::scoring::{self, LENGTH_STEPS, WEIGHT_CODE_MAX, Weights, length_code, weight_code};
use super::tokens::{Token, is_cjk, tokens};
use super::{SearchDoc, SearchError};

const TITLE_WEIGHT: u32 = 4;
const HEADING_WEIGHT: u32 = 2;
pub const FIELD_TITLE: u8 = 1;
pub const FIELD_HEADING: u8 = 2;
/// About this many bytes of postings per shard.
const SHARD_BYTES: usize = 4096;
/// Above this many shards, their number is rounded up to a multiple of it,
/// so that an edit seldom changes it (which would move every term).
const SHARD_STEP: usize = 32;
/// What a posting counts for when the shards are sized: above the about
/// two bytes it takes, so that a common term shares its shard with less.
const POSTING_BYTES: usize = 3;
/// The file of the pages' length codes.
const LENGTHS: &str = "n.bin";
/// Shards encoded at once by [`Index::write`]: about a megabyte.
const SHARDS_AT_ONCE: usize = 256;

/// A term without borrowing the text it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(char, char),
    Single(char),
    Word(Box<str>),
}

impl Key {
    fn of(token: &Token<'_>) -> Key {
        match *token {
            Token::Bigram(a, b) => Key::Pair(a, b),
            Token::Unigram(a) => Key::Single(a),
            Token::Word(w) => Key::Word(w.into()),
        }
    }

    fn text(&self) -> String {
        match self {
            Key::Pair(a, b) => [*a, *b].iter().collect(),
            Key::Single(a) => a.to_string(),
            Key::Word(w) => w.to_string(),
        }
    }

    /// A character or a pair as one number (a char has 21 bits); `None`
    /// for a word.
    fn packed(&self) -> Option<u64> {
        match *self {
            Key::Pair(a, b) => Some(1 << 63 | u64::from(a) << 32 | u64::from(b)),
            Key::Single(a) => Some(u64::from(a)),
            Key::Word(_) => None,
        }
    }

    fn len_utf8(&self) -> usize {
        match self {
            Key::Pair(a, b) => a.len_utf8() + b.len_utf8(),
            Key::Single(a) => a.len_utf8(),
            Key::Word(w) => w.len(),
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Counts {
    title: u32,
    heading: u32,
    body: u32,
}

/// FNV-1a over the term's UTF-8: which shard it is in. `search.js` has the
/// same function.
pub fn shard_hash(term: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in term.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// A digest of a file's name and bytes, for the index's `<id>`: the same
/// in every run (FxHash has no random seed), and eight bytes a step, as
/// every page file and changed shard goes through it.
fn file_digest(name: &str, bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(name.as_bytes());
    hasher.write_u8(0xff);
    hasher.write(bytes);
    hasher.finish()
}

/// Everything the index needs of one page, made from its text alone (so
/// pages are done in parallel and their text dropped): its terms with
/// their weighted counts and fields, its length, and its file.
pub struct PageEntry {
    terms: Vec<(Key, u32, u8)>,
    length: u32,
    file: Vec<u8>,
}

impl PageEntry {
    /// The page's file `d/<n>.json`: address, title, section, text.
    pub fn file(&self) -> &[u8] {
        &self.file
    }
}

#[derive(Serialize)]
struct DocFile<'a> {
    url: &'a str,
    title: &'a str,
    section: &'a str,
    /// `[anchor, heading, text]` for the page's start and each heading.
    blocks: Vec<(&'a str, &'a str, &'a str)>,
    /// The phrases the page's text was folded with (rarely any).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    phrases: BTreeMap<&'a str, &'a str>,
}

/// Folds and cuts one page.
pub fn page_entry(doc: &SearchDoc, fold: &FoldTable) -> Result<PageEntry, SearchError> {
    let mut used = BTreeSet::new();
    // About one distinct term per character of text: sized once, the map
    // is not grown and rehashed a dozen times per page.
    let chars: usize = doc.blocks.iter().map(|b| b.text.len() / 3).sum();
    let mut counts: HashMap<Token<'_>, Counts> =
        HashMap::with_capacity_and_hasher(chars + 64, Default::default());
    let title = fold.fold_noting(&doc.title, |k| {
        used.insert(k);
    });
    tokens(&title, |t| counts.entry(t).or_default().title += 1);
    let mut fold_all = |text: &str| {
        fold.fold_noting(text, |k| {
            used.insert(k);
        })
    };
    let headings: Vec<String> = doc.blocks.iter().map(|b| fold_all(&b.heading)).collect();
    let bodies: Vec<String> = doc.blocks.iter().map(|b| fold_all(&b.text)).collect();
    for heading in &headings {
        tokens(heading, |t| counts.entry(t).or_default().heading += 1);
    }
    for body in &bodies {
        tokens(body, |t| counts.entry(t).or_default().body += 1);
    }
    let length: usize = doc.blocks.iter().map(|b| b.text.chars().count()).sum();
    let terms = counts
        .into_iter()
        .map(|(token, c)| {
            let weight = c.title * TITLE_WEIGHT + c.heading * HEADING_WEIGHT + c.body;
            let fields = if c.title > 0 { FIELD_TITLE } else { 0 }
                | if c.heading > 0 { FIELD_HEADING } else { 0 };
            (Key::of(&token), weight, fields)
        })
        .collect();
    let file = DocFile {
        url: &doc.url,
        title: &doc.title,
        section: &doc.section,
        blocks: doc
            .blocks
            .iter()
            .map(|b| (b.anchor.as_str(), b.heading.as_str(), b.text.as_str()))
            .collect(),
        phrases: used
            .iter()
            .filter_map(|k| Some((*k, fold.phrase(k)?)))
            .collect(),
    };
    Ok(PageEntry {
        terms,
        length: u32::try_from(length).map_err(|_| SearchError::TooLarge("characters in a page"))?,
        file: serde_json::to_vec(&file)?,
    })
}

/// What decides where each term goes. While an edit leaves it as it was,
/// only the shards of the edited page's terms change.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Layout {
    shards: usize,
    unigram_shards: usize,
}

/// What `meta.json` says.
#[derive(Serialize)]
struct Meta<'a> {
    version: u32,
    docs: usize,
    /// Shards of bigrams and words, and of single characters.
    shards: usize,
    unigram_shards: usize,
    /// BM25's parameters and the average page length in characters.
    k1: f64,
    b: f64,
    avg_len: f64,
    /// Codes of a page's length (`n.bin`) per doubling of the length.
    length_steps: u32,
    /// The weighted count of each weight code.
    weights: Vec<u32>,
    /// Pairs of characters, `from to from to …`, for every entry that
    /// folds one character into one character.
    fold: String,
    /// Entries that fold one character into several.
    fold_long: BTreeMap<String, String>,
    /// The first characters of phrases: each has a file `p/<hex>.json`.
    phrase_starts: String,
    /// Groups of folded words that find each other.
    synonyms: &'a [Vec<String>],
}

/// The index being built, and kept after a build under `serve` so that an
/// edit updates it in place. Terms are interned: each is stored once, and
/// pages refer to it by number.
pub struct Index {
    /// Words by their text; characters and pairs, most of the terms, by
    /// [`Key::packed`], which hashes and compares as one integer.
    ids: HashMap<Key, u32>,
    cjk_ids: HashMap<u64, u32>,
    lists: Vec<(Key, Postings)>,
    lengths: Vec<u32>,
    /// Each page's terms with their weight and fields, kept (for
    /// [`Index::replace`]) only when asked.
    page_terms: Option<Vec<PageTerms>>,
    /// Every file written, by name, with its digest: `<id>` is made of these.
    files: BTreeMap<String, u64>,
    layout: Option<Layout>,
    /// Per shard, its terms; bigrams and words, then single characters.
    members: [Vec<Vec<u32>>; 2],
    /// Terms whose postings changed since the files were last written.
    dirty: HashSet<u32>,
}

/// A page's terms by number, each with the page's posting.
type PageTerms = Box<[(u32, Raw)]>;

/// Where the caller puts each file of the index.
pub type Emit<'e, E> = dyn FnMut(&str, &[u8]) -> Result<(), E> + 'e;

impl Index {
    /// An empty index; `incremental` keeps what [`Index::replace`] needs.
    pub fn new(incremental: bool) -> Index {
        Index {
            ids: HashMap::default(),
            cjk_ids: HashMap::default(),
            lists: Vec::new(),
            lengths: Vec::new(),
            page_terms: incremental.then(Vec::new),
            files: BTreeMap::new(),
            layout: None,
            members: [Vec::new(), Vec::new()],
            dirty: HashSet::default(),
        }
    }

    pub fn docs(&self) -> usize {
        self.lengths.len()
    }

    /// Can take [`Index::replace`].
    pub fn is_incremental(&self) -> bool {
        self.page_terms.is_some()
    }

    /// The name of page `doc`'s file.
    pub fn page_file(doc: usize) -> String {
        format!("d/{doc}.json")
    }

    /// Every file of the index, by name.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    fn intern(&mut self, key: Key) -> u32 {
        let next = self.lists.len() as u32;
        if let Some(packed) = key.packed() {
            let id = *self.cjk_ids.entry(packed).or_insert(next);
            if id == next {
                self.lists.push((key, Postings::default()));
            }
            return id;
        }
        // Most terms are known after the first pages: look up before
        // cloning the key for the map.
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        self.ids.insert(key.clone(), next);
        self.lists.push((key, Postings::default()));
        next
    }

    /// Adds the next page. Its file is the caller's to write, under
    /// [`Index::page_file`] of the number returned.
    pub fn add(&mut self, page: PageEntry) -> Result<usize, SearchError> {
        let n = self.lengths.len();
        let doc = u32::try_from(n).map_err(|_| SearchError::TooLarge("pages"))?;
        let mut ids = Vec::with_capacity(page.terms.len());
        for (key, weight, fields) in page.terms {
            let id = self.intern(key);
            let posting = Raw {
                doc,
                weight,
                fields,
            };
            self.lists[id as usize].1.push(posting);
            ids.push((id, posting));
            // Before the first write every shard is written anyway.
            if self.layout.is_some() {
                self.dirty.insert(id);
            }
        }
        if let Some(terms) = &mut self.page_terms {
            terms.push(ids.into_boxed_slice());
        }
        self.lengths.push(page.length);
        self.files.insert(
            Self::page_file(n),
            file_digest(&Self::page_file(n), &page.file),
        );
        Ok(n)
    }

    /// Puts page `doc`'s new entry in place of its old one. The caller
    /// writes its file, then [`Index::write`] the shards.
    pub fn replace(&mut self, doc: usize, page: PageEntry) -> Result<(), SearchError> {
        let number = u32::try_from(doc).map_err(|_| SearchError::TooLarge("pages"))?;
        let old: HashMap<u32, Raw> = match self.page_terms.as_ref().and_then(|t| t.get(doc)) {
            Some(old) => old.iter().copied().collect(),
            None => return Err(SearchError::NotIncremental),
        };
        let mut new: HashMap<u32, Raw> = HashMap::default();
        for (key, weight, fields) in page.terms {
            let id = self.intern(key);
            new.insert(
                id,
                Raw {
                    doc: number,
                    weight,
                    fields,
                },
            );
        }
        let touched: HashSet<u32> = old.keys().chain(new.keys()).copied().collect();
        for id in touched {
            let (before, after) = (old.get(&id).copied(), new.get(&id).copied());
            if before != after {
                let list = &mut self.lists[id as usize].1;
                *list = list.replacing(number, after);
                self.dirty.insert(id);
            }
        }
        let mut ids: Vec<(u32, Raw)> = new.into_iter().collect();
        ids.sort_unstable_by_key(|(id, _)| *id);
        if let Some(terms) = &mut self.page_terms {
            terms[doc] = ids.into_boxed_slice();
        }
        self.lengths[doc] = page.length;
        let name = Self::page_file(doc);
        self.files
            .insert(name.clone(), file_digest(&name, &page.file));
        Ok(())
    }

    fn layout(&self) -> Layout {
        let mut bytes = [0usize; 2];
        for (key, list) in self.lists.iter().filter(|(_, l)| !l.is_empty()) {
            bytes[usize::from(matches!(key, Key::Single(_)))] +=
                key.len_utf8() + 4 + POSTING_BYTES * list.count() as usize;
        }
        let count = |bytes: usize| {
            let exact = bytes.div_ceil(SHARD_BYTES).max(1);
            if exact > SHARD_STEP {
                exact.next_multiple_of(SHARD_STEP)
            } else {
                exact
            }
        };
        Layout {
            shards: count(bytes[0]),
            unigram_shards: count(bytes[1]),
        }
    }

    fn shard_of(key: &Key, layout: &Layout) -> (usize, usize) {
        let single = matches!(key, Key::Single(_));
        let count = if single {
            layout.unigram_shards
        } else {
            layout.shards
        };
        (
            usize::from(single),
            shard_hash(&key.text()) as usize % count,
        )
    }

    /// Writes what changed since the last call (the first call: all of
    /// it) through `emit`, and returns the index's `<id>`: the shards of
    /// the changed terms, or every shard when the layout changed, and
    /// `meta.json`. Page files are the caller's.
    pub fn write<E: From<SearchError>>(
        &mut self,
        fold: &FoldTable,
        synonyms: &[Vec<String>],
        emit: &mut Emit<'_, E>,
    ) -> Result<String, E> {
        let mut phases = crate::timing::Phases::start("search index");
        let layout = self.layout();
        phases.lap("layout");
        let mut dirty: BTreeSet<(usize, usize)> = BTreeSet::new();
        if self.layout != Some(layout) {
            let mut members = [
                vec![Vec::new(); layout.shards],
                vec![Vec::new(); layout.unigram_shards],
            ];
            for (id, (key, _)) in self.lists.iter().enumerate() {
                let (kind, k) = Self::shard_of(key, &layout);
                members[kind][k].push(id as u32);
            }
            self.members = members;
            for (kind, (dir, count)) in [("t", layout.shards), ("u", layout.unigram_shards)]
                .into_iter()
                .enumerate()
            {
                dirty.extend((0..count).map(|k| (kind, k)));
                // Shards past the new count are no file of this index.
                let prefix = format!("{dir}/");
                self.files.retain(|name, _| {
                    name.strip_prefix(&prefix)
                        .and_then(|n| n.strip_suffix(".bin"))
                        .and_then(|n| n.parse::<usize>().ok())
                        .is_none_or(|n| n < count)
                });
            }
        } else {
            for &id in &self.dirty {
                let (kind, k) = Self::shard_of(&self.lists[id as usize].0, &layout);
                let shard = &mut self.members[kind][k];
                if !shard.contains(&id) {
                    shard.push(id);
                }
                dirty.insert((kind, k));
            }
        }
        self.dirty.clear();
        self.layout = Some(layout);

        phases.lap("shards chosen");
        let weights = scoring::weights();
        // Encoded in parallel, a batch at a time: a new layout rewrites
        // every shard, and a batch bounds what is held before it is emitted.
        let dirty: Vec<(usize, usize)> = dirty.into_iter().collect();
        for batch in dirty.chunks(SHARDS_AT_ONCE) {
            let encoded: Vec<(String, Vec<u8>, u64)> = batch
                .par_iter()
                .map(|&(kind, k)| {
                    let name = format!("{}/{k}.bin", ["t", "u"][kind]);
                    let bytes = self.encode_shard(&self.members[kind][k], &weights);
                    let digest = file_digest(&name, &bytes);
                    (name, bytes, digest)
                })
                .collect();
            for (name, bytes, digest) in encoded {
                emit(&name, &bytes)?;
                self.files.insert(name, digest);
            }
        }

        // Most edits leave every page's length code as it was.
        let lengths: Vec<u8> = self.lengths.iter().map(|&l| length_code(l)).collect();
        let digest = file_digest(LENGTHS, &lengths);
        if self.files.get(LENGTHS) != Some(&digest) {
            emit(LENGTHS, &lengths)?;
            self.files.insert(LENGTHS.to_owned(), digest);
        }
        phases.lap("shards encoded");
        if !self.files.contains_key("meta.json") {
            for (first, phrases) in fold.phrases_by_start() {
                let name = format!("p/{:x}.json", u32::from(first));
                let bytes = serde_json::to_vec(&phrases).map_err(SearchError::from)?;
                emit(&name, &bytes)?;
                self.files.insert(name.clone(), file_digest(&name, &bytes));
            }
        }
        let meta = self.meta(fold, synonyms, &layout, &weights);
        let bytes = serde_json::to_vec(&meta).map_err(SearchError::from)?;
        emit("meta.json", &bytes)?;
        self.files
            .insert("meta.json".to_owned(), file_digest("meta.json", &bytes));
        phases.lap("meta");
        Ok(self.id())
    }

    /// One shard's bytes: its terms sorted, each with its postings' gaps
    /// and then their bytes (see the module's comment).
    fn encode_shard(&self, members: &[u32], weights: &Weights) -> Vec<u8> {
        let mut terms: Vec<(String, &Postings)> = members
            .iter()
            .map(|&id| &self.lists[id as usize])
            .filter(|(_, list)| !list.is_empty())
            .map(|(key, list)| (key.text(), list))
            .collect();
        terms.sort_by(|a, b| a.0.cmp(&b.0));
        // A posting's gap takes no more bytes here than as it is held, and
        // its weight code no more than its weight did.
        let mut out = Vec::with_capacity(
            terms
                .iter()
                .map(|(term, list)| term.len() + list.byte_len() + 10)
                .sum(),
        );
        let mut bytes = Vec::new();
        for (term, list) in terms {
            varint(&mut out, term.len() as u32);
            out.extend_from_slice(term.as_bytes());
            varint(&mut out, list.count());
            let mut last = 0;
            bytes.clear();
            for (i, p) in list.iter().enumerate() {
                varint(&mut out, if i == 0 { p.doc } else { p.doc - last });
                last = p.doc;
                bytes.push((p.fields & 3) << 6 | weight_code(p.weight, weights));
            }
            out.extend_from_slice(&bytes);
        }
        out
    }

    fn meta<'s>(
        &self,
        fold: &FoldTable,
        synonyms: &'s [Vec<String>],
        layout: &Layout,
        weights: &Weights,
    ) -> Meta<'s> {
        let alphabet: HashSet<char> = self
            .lists
            .iter()
            .filter(|(_, list)| !list.is_empty())
            .filter_map(|(k, _)| match k {
                Key::Single(c) => Some(*c),
                _ => None,
            })
            .collect();
        let table = fold.for_alphabet(|c| !is_cjk(c) || alphabet.contains(&c));
        let mut pairs = String::new();
        let mut long = BTreeMap::new();
        for (from, to) in table {
            if to.chars().count() == 1 {
                pairs.push(from);
                pairs.push_str(&to);
            } else {
                long.insert(from.to_string(), to);
            }
        }
        let total: u64 = self.lengths.iter().map(|&l| u64::from(l)).sum();
        Meta {
            version: 4,
            docs: self.lengths.len(),
            shards: layout.shards,
            unigram_shards: layout.unigram_shards,
            k1: scoring::K1,
            b: scoring::B,
            avg_len: (total as f64 / self.lengths.len().max(1) as f64).round(),
            length_steps: LENGTH_STEPS,
            weights: weights.to_vec(),
            fold: pairs,
            fold_long: long,
            phrase_starts: fold.phrases_by_start().keys().collect(),
            synonyms,
        }
    }

    /// A digest of every file, so a cached script never mixes two builds.
    pub fn id(&self) -> String {
        use std::hash::Hasher;
        let mut hasher = rustc_hash::FxHasher::default();
        for (name, digest) in &self.files {
            hasher.write(name.as_bytes());
            hasher.write_u8(0xff);
            hasher.write_u64(*digest);
        }
        format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
    }
}

/// The files of an index under `search/<id>/`, with `<id>`; for tests and
/// tools (a build writes the files as they are made).
#[derive(Debug)]
pub struct Built {
    pub id: String,
    /// Paths relative to `search/<id>/`, and their bytes.
    pub files: Vec<(String, Vec<u8>)>,
}

pub fn build(
    docs: &[SearchDoc],
    fold: &FoldTable,
    synonyms: &[Vec<String>],
) -> Result<Built, SearchError> {
    let mut index = Index::new(false);
    let mut files = Vec::new();
    for doc in docs {
        let entry = page_entry(doc, fold)?;
        let file = entry.file().to_vec();
        let n = index.add(entry)?;
        files.push((Index::page_file(n), file));
    }
    let id = index.write(fold, synonyms, &mut |name: &str, bytes: &[u8]| {
        files.push((name.to_owned(), bytes.to_vec()));
        Ok::<(), SearchError>(())
    })?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Built { id, files })
}

/// One posting as read back: document number, weight code, fields.
pub type Posting = (u32, u8, u8);

/// Reads a shard back: term → its postings in document order. For tests
/// and tools; the browser has its own reader.
pub fn read_shard(bytes: &[u8]) -> Result<BTreeMap<String, Vec<Posting>>, SearchError> {
    let truncated = || SearchError::BadShard("it ends in the middle of an entry");
    let byte = |at: &mut usize| -> Result<u8, SearchError> {
        let b = *bytes.get(*at).ok_or_else(truncated)?;
        *at += 1;
        Ok(b)
    };
    let read = |at: &mut usize| -> Result<u32, SearchError> {
        if *at >= bytes.len() {
            return Err(truncated());
        }
        read_varint(bytes, at).ok_or(SearchError::BadShard("a number is damaged or too long"))
    };
    let mut out = BTreeMap::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = read(&mut at)? as usize;
        let raw = bytes.get(at..at + len).ok_or_else(truncated)?;
        let term = String::from_utf8(raw.to_vec())
            .map_err(|_| SearchError::BadShard("a term is not UTF-8"))?;
        at += len;
        let n = read(&mut at)?;
        let mut doc = 0u32;
        let mut docs = Vec::new();
        for i in 0..n {
            let gap = read(&mut at)?;
            doc = if i == 0 { gap } else { doc.saturating_add(gap) };
            docs.push(doc);
        }
        let mut list = Vec::with_capacity(docs.len());
        for doc in docs {
            let b = byte(&mut at)?;
            list.push((doc, b & WEIGHT_CODE_MAX, b >> 6));
        }
        out.insert(term, list);
    }
    Ok(out)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::search::Block;

    fn decode(bytes: &[u8]) -> BTreeMap<String, Vec<(u32, u8, u8)>> {
        read_shard(bytes).expect("a shard the index wrote reads back")
    }

    fn doc(title: &str, heading: &str, text: &str) -> SearchDoc {
        SearchDoc {
            url: format!("/{title}/"),
            title: title.into(),
            section: "装修".into(),
            blocks: vec![
                Block {
                    anchor: String::new(),
                    heading: String::new(),
                    text: "引言".into(),
                },
                Block {
                    anchor: heading.into(),
                    heading: heading.into(),
                    text: text.into(),
                },
            ],
        }
    }

    fn all_postings(built: &Built, dir: &str) -> BTreeMap<String, Vec<(u32, u8, u8)>> {
        built
            .files
            .iter()
            .filter(|(name, _)| name.starts_with(dir))
            .flat_map(|(_, bytes)| decode(bytes))
            .collect()
    }

    #[test]
    fn postings_say_where_a_term_is_and_weigh_the_title_above_the_body() {
        let table = FoldTable::from_pairs(&[('裝', "装"), ('電', "电")]);
        let docs = [
            doc("装修押金", "退还", "押金在验收后退还。"),
            doc("电梯", "困人", "電梯困人请拨打值班电话，装修押金另见。"),
        ];
        let built = build(&docs, &table, &[]).unwrap();
        let terms = all_postings(&built, "t/");
        let deposit = &terms["押金"];
        assert_eq!(deposit.iter().map(|p| p.0).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(deposit[0].2, FIELD_TITLE);
        assert_eq!(deposit[1].2, 0);
        assert!(deposit[0].1 > deposit[1].1, "{deposit:?}");
        assert!(
            terms
                .values()
                .flatten()
                .all(|p| (1..=WEIGHT_CODE_MAX).contains(&p.1) && p.2 <= 3)
        );
        assert_eq!(terms["困人"][0], (1, terms["困人"][0].1, FIELD_HEADING));
        // Traditional text in a page is folded before it is indexed.
        assert_eq!(terms["电梯"].len(), 1);
        assert!(!terms.contains_key("電梯"));
        let singles = all_postings(&built, "u/");
        assert_eq!(singles["押"].len(), 2);
        assert!(!terms.contains_key("押"));
        assert!(singles.keys().all(|k| k.chars().count() == 1));
        // Every term is in the shard its hash names.
        let meta: serde_json::Value =
            serde_json::from_slice(&built.files.iter().find(|f| f.0 == "meta.json").unwrap().1)
                .unwrap();
        let shards = meta["shards"].as_u64().unwrap() as u32;
        for (name, bytes) in built.files.iter().filter(|f| f.0.starts_with("t/")) {
            for term in decode(bytes).keys() {
                assert_eq!(format!("t/{}.bin", shard_hash(term) % shards), *name);
            }
        }
        // The browser's table has 電 (电 is on the site), not 裝 → 装… which
        // is on the site too; both are.
        assert_eq!(meta["fold"], "裝装電电");
    }

    #[test]
    fn phrases_are_in_files_by_first_character_and_pages_carry_their_own() {
        let table = FoldTable::from_pairs(&[('覆', "覆")]).with_phrases(&[("回覆", "回复")]);
        let docs = [
            doc("回覆", "时间", "三日内回覆"),
            doc("停水", "时间", "停水通知"),
        ];
        let built = build(&docs, &table, &[]).unwrap();
        let file = |name: &str| -> serde_json::Value {
            serde_json::from_slice(&built.files.iter().find(|f| f.0 == name).unwrap().1).unwrap()
        };
        assert_eq!(file("meta.json")["phrase_starts"], "回");
        assert_eq!(file(&format!("p/{:x}.json", '回' as u32))["回覆"], "回复");
        assert_eq!(file("d/0.json")["phrases"]["回覆"], "回复");
        assert!(file("d/1.json").get("phrases").is_none());
        // The page is indexed under the phrase's fold.
        let terms = all_postings(&built, "t/");
        assert_eq!(terms["回复"].len(), 1);
        assert!(!terms.contains_key("回覆"));
    }

    #[test]
    fn the_same_pages_give_the_same_files() {
        let table = FoldTable::from_pairs(&[]);
        let docs = [
            doc("停水", "时间", "停水通知"),
            doc("停电", "时间", "停电通知"),
        ];
        let a = build(&docs, &table, &[]).unwrap();
        let b = build(&docs, &table, &[]).unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(a.files, b.files);
        let c = build(&docs[..1], &table, &[]).unwrap();
        assert_ne!(a.id, c.id);
    }

    #[test]
    fn a_damaged_shard_is_an_error_not_a_panic() {
        let table = FoldTable::from_pairs(&[]);
        let built = build(&[doc("停水", "时间", "停水通知")], &table, &[]).unwrap();
        let shard = &built.files.iter().find(|f| f.0 == "t/0.bin").unwrap().1;
        for cut in 1..shard.len() {
            let _ = read_shard(&shard[..cut]);
        }
        assert!(read_shard(&shard[..shard.len() - 1]).is_err());
        assert!(read_shard(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).is_err());
    }

    #[test]
    fn a_longer_page_rewrites_only_the_shards_of_its_changed_terms() {
        let table = FoldTable::from_pairs(&[]);
        // Words of letters only, one per page, so the site has many shards.
        let word = |mut n: usize| {
            let mut w = String::from("w");
            loop {
                w.push(char::from(b'a' + (n % 26) as u8));
                n /= 26;
                if n == 0 {
                    return w;
                }
            }
        };
        let body = |n: usize| format!("{0}x {0}y", word(n));
        let page = |n: usize, text: &str| {
            page_entry(&doc(&format!("notice {}", word(n)), "时间", text), &table).unwrap()
        };
        let mut index = Index::new(true);
        for n in 0..1_000 {
            index.add(page(n, &body(n))).unwrap();
        }
        let mut written = Vec::new();
        let mut emit = |name: &str, _: &[u8]| {
            written.push(name.to_owned());
            Ok::<(), SearchError>(())
        };
        index.write(&table, &[], &mut emit).unwrap();
        let shards = index.layout.unwrap().shards;
        assert!(shards > 8, "{shards}");
        let shard = |term: &str| format!("t/{}.bin", shard_hash(term) % shards as u32);

        // Twice as long: its length code changes, and the counts of its
        // body's two words; not those of its title, heading and intro.
        let longer = format!("{0} {0}", body(0));
        let entry = page(0, &longer);
        assert_ne!(length_code(entry.length), length_code(index.lengths[0]));
        index.replace(0, entry).unwrap();
        written.clear();
        let mut emit = |name: &str, bytes: &[u8]| {
            written.push(name.to_owned());
            if name == LENGTHS {
                assert_eq!(bytes.len(), 1_000);
            }
            Ok::<(), SearchError>(())
        };
        index.write(&table, &[], &mut emit).unwrap();
        let changed = [shard(&(word(0) + "x")), shard(&(word(0) + "y"))];
        let mut expected: Vec<String> = changed.to_vec();
        expected.extend([LENGTHS.to_owned(), "meta.json".to_owned()]);
        expected.sort();
        expected.dedup();
        written.sort();
        assert_eq!(written, expected);
        let unchanged = ["notice".to_owned(), word(0), "时间".into(), "引言".into()];
        assert!(
            unchanged.iter().any(|t| !changed.contains(&shard(t))),
            "the page's unchanged terms are in other shards"
        );
    }

    #[test]
    fn fnv_matches_the_reference_values() {
        assert_eq!(shard_hash(""), 0x811c9dc5);
        assert_eq!(shard_hash("a"), 0xe40c292c);
    }
}
