//! The index as static files: postings sharded by the hash of the term,
//! one small file per page for excerpts, and the query side's metadata.
//!
//! ```text
//! search/<id>/meta.json    documents, shard counts, folding table, synonyms
//! search/<id>/t/<k>.bin    bigrams and words whose hash is k (mod shards)
//! search/<id>/u/<k>.bin    single characters, likewise
//! search/<id>/d/<n>.json   page n: address, title, section, text by heading
//! search/<id>/p/<x>.json   the folding's phrases that start with U+<x>
//! ```
//!
//! The browser fetches a phrase file only for a query with its first
//! character (`meta.json` lists them); a page file carries the phrases its
//! own text was folded with, so the browser folds it as the index did.
//!
//! A shard is a sequence of entries, sorted by term:
//! `varint term length, term (UTF-8), varint postings, postings`; a posting
//! is `varint document-number gap, impact byte, field byte`. The impact is
//! the BM25 term-frequency part (title ×4, headings ×2, body ×1; k1 1.2,
//! b 0.75) scaled to 1–255; the field byte says the term is in the title
//! (1) and in a heading (2). The query side multiplies by the IDF it
//! computes from the posting count. No positions: phrases are checked
//! against the text of the best results. `<id>` is a digest of all of it,
//! so a cached script never mixes two builds' files.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use super::fold::FoldTable;
use super::tokens::{Token, is_cjk, tokens};
use super::{SearchDoc, SearchError};

const K1: f64 = 1.2;
const B: f64 = 0.75;
const TITLE_WEIGHT: u32 = 4;
const HEADING_WEIGHT: u32 = 2;
pub const FIELD_TITLE: u8 = 1;
pub const FIELD_HEADING: u8 = 2;
/// About this many bytes of postings per shard.
const SHARD_BYTES: usize = 4096;
/// Pages indexed at once; bounds the memory of the parallel step.
const CHUNK: usize = 256;

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
}

#[derive(Default, Clone, Copy)]
struct Counts {
    title: u32,
    heading: u32,
    body: u32,
}

/// A term's postings, encoded as they are added (in document order).
#[derive(Default)]
struct Postings {
    last: u32,
    count: u32,
    bytes: Vec<u8>,
}

impl Postings {
    fn push(&mut self, doc: u32, impact: u8, fields: u8) {
        let gap = if self.count == 0 {
            doc
        } else {
            doc - self.last
        };
        varint(&mut self.bytes, gap);
        self.bytes.push(impact);
        self.bytes.push(fields);
        self.last = doc;
        self.count += 1;
    }
}

pub fn varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
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

fn digest(parts: &[(String, Vec<u8>)]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, bytes) in parts {
        for byte in name.bytes().chain(bytes.iter().copied()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{:012x}", hash & 0xffff_ffff_ffff)
}

/// One page's terms with their impact and fields, and the phrases its
/// text was folded with.
fn page_terms<'f>(
    doc: &SearchDoc,
    fold: &'f FoldTable,
    avg_len: f64,
) -> (Vec<(Key, u8, u8)>, BTreeSet<&'f str>) {
    let mut used = BTreeSet::new();
    let mut counts: HashMap<Token<'_>, Counts> = HashMap::new();
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
    let length = doc
        .blocks
        .iter()
        .map(|b| b.text.chars().count())
        .sum::<usize>() as f64;
    let norm = K1 * (1.0 - B + B * length / avg_len.max(1.0));
    let terms = counts
        .into_iter()
        .map(|(token, c)| {
            let weighted = f64::from(c.title * TITLE_WEIGHT + c.heading * HEADING_WEIGHT + c.body);
            let impact = weighted * (K1 + 1.0) / (weighted + norm) / (K1 + 1.0) * 255.0;
            let fields = if c.title > 0 { FIELD_TITLE } else { 0 }
                | if c.heading > 0 { FIELD_HEADING } else { 0 };
            (
                Key::of(&token),
                impact.ceil().clamp(1.0, 255.0) as u8,
                fields,
            )
        })
        .collect();
    (terms, used)
}

/// What `meta.json` says.
#[derive(Serialize)]
struct Meta<'a> {
    version: u32,
    docs: usize,
    /// Shards of bigrams and words, and of single characters.
    shards: usize,
    unigram_shards: usize,
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

/// The files of the index under `search/<id>/`, with `<id>`.
#[derive(Debug)]
pub struct Built {
    pub id: String,
    /// Paths relative to `search/<id>/`, and their bytes.
    pub files: Vec<(String, Vec<u8>)>,
    pub terms: usize,
    pub postings: usize,
}

pub fn build(
    docs: &[SearchDoc],
    fold: &FoldTable,
    synonyms: &[Vec<String>],
) -> Result<Built, SearchError> {
    let total_len: usize = docs
        .iter()
        .flat_map(|d| &d.blocks)
        .map(|b| b.text.chars().count())
        .sum();
    let avg_len = total_len as f64 / docs.len().max(1) as f64;

    let mut ids: HashMap<Key, u32> = HashMap::new();
    let mut lists: Vec<(Key, Postings)> = Vec::new();
    let mut postings = 0;
    let mut phrases_of: Vec<BTreeSet<&str>> = Vec::with_capacity(docs.len());
    for (chunk_index, chunk) in docs.chunks(CHUNK).enumerate() {
        let terms: Vec<_> = chunk
            .par_iter()
            .map(|doc| page_terms(doc, fold, avg_len))
            .collect();
        for (offset, (page, used)) in terms.into_iter().enumerate() {
            phrases_of.push(used);
            let doc = u32::try_from(chunk_index * CHUNK + offset)
                .map_err(|_| SearchError::TooLarge("pages"))?;
            postings += page.len();
            for (key, impact, fields) in page {
                let next = lists.len() as u32;
                let id = *ids.entry(key.clone()).or_insert(next);
                if id == next {
                    lists.push((key, Postings::default()));
                }
                lists[id as usize].1.push(doc, impact, fields);
            }
        }
    }
    drop(ids);

    let alphabet: HashSet<char> = lists
        .iter()
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

    let terms = lists.len();
    let (singles, others): (Vec<_>, Vec<_>) = lists
        .into_iter()
        .map(|(k, p)| (matches!(k, Key::Single(_)), k.text(), p))
        .partition(|(single, _, _)| *single);
    let mut files = Vec::new();
    let unigram_shards = write_shards("u", singles, &mut files);
    let shards = write_shards("t", others, &mut files);

    let mut phrase_starts = String::new();
    for (first, phrases) in fold.phrases_by_start() {
        phrase_starts.push(first);
        files.push((
            format!("p/{:x}.json", u32::from(first)),
            serde_json::to_vec(&phrases)?,
        ));
    }
    for (n, (doc, used)) in docs.iter().zip(&phrases_of).enumerate() {
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
        files.push((format!("d/{n}.json"), serde_json::to_vec(&file)?));
    }
    let meta = Meta {
        version: 2,
        docs: docs.len(),
        shards,
        unigram_shards,
        fold: pairs,
        fold_long: long,
        phrase_starts,
        synonyms,
    };
    files.push(("meta.json".to_owned(), serde_json::to_vec(&meta)?));
    Ok(Built {
        id: digest(&files),
        files,
        terms,
        postings,
    })
}

/// Writes the shards of one kind of term; returns how many there are.
fn write_shards(
    dir: &str,
    lists: Vec<(bool, String, Postings)>,
    files: &mut Vec<(String, Vec<u8>)>,
) -> usize {
    let bytes: usize = lists
        .iter()
        .map(|(_, t, p)| t.len() + p.bytes.len() + 4)
        .sum();
    let count = bytes.div_ceil(SHARD_BYTES).max(1);
    let mut shards: Vec<Vec<(String, Postings)>> = (0..count).map(|_| Vec::new()).collect();
    for (_, term, list) in lists {
        let k = shard_hash(&term) as usize % count;
        shards[k].push((term, list));
    }
    for (k, mut shard) in shards.into_iter().enumerate() {
        shard.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::new();
        for (term, list) in shard {
            varint(&mut out, term.len() as u32);
            out.extend_from_slice(term.as_bytes());
            varint(&mut out, list.count);
            out.extend_from_slice(&list.bytes);
        }
        files.push((format!("{dir}/{k}.bin"), out));
    }
    count
}

/// One posting as read back: document number, impact, fields.
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
        let (mut value, mut shift) = (0u32, 0);
        loop {
            let b = byte(at)?;
            if shift > 28 {
                return Err(SearchError::BadShard("a number is too long"));
            }
            value |= u32::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(value);
            }
            shift += 7;
        }
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
        let mut list = Vec::new();
        for i in 0..n {
            let gap = read(&mut at)?;
            doc = if i == 0 { gap } else { doc.saturating_add(gap) };
            list.push((doc, byte(&mut at)?, byte(&mut at)?));
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
    fn fnv_matches_the_reference_values() {
        assert_eq!(shard_hash(""), 0x811c9dc5);
        assert_eq!(shard_hash("a"), 0xe40c292c);
    }
}
