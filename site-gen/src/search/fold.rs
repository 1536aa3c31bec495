//! The one normalisation that the index and the browser both apply.
//!
//! `fold(text)` is, in order: Unicode NFKC (full-width letters, digits and
//! punctuation become half-width, compatibility ideographs become unified
//! ones), full lower case, then OpenCC's Traditional → Simplified
//! conversion as a table: at each character, the longest phrase of the
//! phrase table that starts there, else the character's own entry.
//!
//! - Characters: Hong Kong and Taiwan variants to standard Traditional,
//!   then Traditional to Simplified, as OpenCC's `hk2s` and `tw2s`
//!   conversions of that one character give it (the dictionaries
//!   ferrous-opencc carries).
//! - Phrases: the keys of OpenCC's phrase lists for those conversions
//!   (`HKVariantsRevPhrases`, `TWVariantsRevPhrases`, `TSPhrases`, copied
//!   from the ferrous-opencc package by `build.rs`), each mapped to what
//!   `hk2s` then `tw2s` make of it, where that differs from the characters'
//!   fold: 回覆 → 回复 (覆 alone stays 覆), 一目瞭然 → 一目了然, 乾坤 stays
//!   乾坤 (乾 alone is 干).
//!
//! The browser applies exactly these tables (emitted into the index: the
//! characters cut to what can change a match on this site, the phrases in
//! files by first character), so the two sides cannot fold a text
//! differently.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::OnceLock;

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use unicode_normalization::UnicodeNormalization;

use super::SearchError;

/// The code points the table is probed over: every CJK ideograph block
/// (unified, extensions, compatibility) and the radicals.
const PROBED: [(u32, u32); 6] = [
    (0x2E80, 0x2FDF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FA1F),
    (0x30000, 0x323AF),
];

/// OpenCC's phrase lists, as `build.rs` copied them: `key<TAB>values`.
const PHRASE_LISTS: [&str; 3] = [
    include_str!(concat!(env!("OUT_DIR"), "/HKVariantsRevPhrases.txt")),
    include_str!(concat!(env!("OUT_DIR"), "/TWVariantsRevPhrases.txt")),
    include_str!(concat!(env!("OUT_DIR"), "/TSPhrases.txt")),
];

/// Character → what it folds to, for every character that changes, and
/// phrase → what it folds to, for every phrase whose fold is not its
/// characters' fold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoldTable {
    map: HashMap<char, String>,
    phrases: HashMap<String, String>,
    /// The longest phrase, in characters.
    longest: usize,
    /// The first characters of phrases: elsewhere no phrase is looked up.
    starts: HashSet<char>,
    /// A bit per character of the main ideograph block: set when it folds
    /// to itself and starts no phrase (most of a page's text).
    plain: Vec<u64>,
    /// The same for ASCII.
    ascii_plain: u128,
}

static OPENCC_TABLE: OnceLock<Result<FoldTable, String>> = OnceLock::new();

impl FoldTable {
    /// The table OpenCC's data gives, built once per process (about 0.1 s)
    /// and shared by every build that `serve` makes.
    pub fn opencc() -> Result<&'static FoldTable, SearchError> {
        OPENCC_TABLE
            .get_or_init(|| FoldTable::probe().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|message| SearchError::Converter(message.clone()))
    }

    /// Converts each probed character alone with `hk2s` and then `tw2s`
    /// and keeps those that change; then each phrase of OpenCC's lists,
    /// keeping those that fold otherwise than their characters.
    fn probe() -> Result<FoldTable, ferrous_opencc::error::OpenCCError> {
        let hk = OpenCC::from_config(BuiltinConfig::Hk2s)?;
        let tw = OpenCC::from_config(BuiltinConfig::Tw2s)?;
        let mut map = HashMap::default();
        let mut buf = [0u8; 4];
        for (start, end) in PROBED {
            for c in (start..=end).filter_map(char::from_u32) {
                let original: &str = c.encode_utf8(&mut buf);
                // NFKC first, as `fold` does: the table is only ever looked
                // up with characters NFKC leaves alone.
                let normal: String = original.nfkc().collect();
                if normal != original {
                    continue;
                }
                let folded = tw.convert(&hk.convert(original));
                if folded != original && !folded.is_empty() {
                    map.insert(c, folded);
                }
            }
        }
        let mut table = FoldTable {
            map,
            ..FoldTable::default()
        };
        let keys = PHRASE_LISTS.iter().flat_map(|list| {
            list.lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split('\t').next())
        });
        let mut phrases = HashMap::default();
        for key in keys {
            // Keys NFKC or lower case would change can never be met.
            if key.chars().count() < 2 || key.nfkc().collect::<String>().to_lowercase() != key {
                continue;
            }
            let folded = tw.convert(&hk.convert(key));
            if folded != table.fold(key) {
                phrases.insert(key.to_owned(), folded);
            }
        }
        table.longest = phrases.keys().map(|k| k.chars().count()).max().unwrap_or(0);
        table.starts = phrases.keys().filter_map(|k| k.chars().next()).collect();
        table.phrases = phrases;
        Ok(table.with_plain())
    }

    /// A table of the given pairs, for tests.
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(char, &str)]) -> FoldTable {
        FoldTable {
            map: pairs.iter().map(|(c, s)| (*c, (*s).to_owned())).collect(),
            ..FoldTable::default()
        }
        .with_plain()
    }

    /// The same with phrases, for tests.
    #[cfg(test)]
    pub fn with_phrases(mut self, phrases: &[(&str, &str)]) -> FoldTable {
        for (from, to) in phrases {
            self.phrases.insert((*from).to_owned(), (*to).to_owned());
            self.longest = self.longest.max(from.chars().count());
            self.starts.extend(from.chars().next());
        }
        self.with_plain()
    }

    /// Folds `text`: NFKC, lower case, then the tables.
    pub fn fold(&self, text: &str) -> String {
        self.fold_noting(text, |_| {})
    }

    /// Folds `text`, calling `used` with each phrase applied.
    pub fn fold_noting<'t>(&'t self, text: &str, mut used: impl FnMut(&'t str)) -> String {
        let normal = normalise(text);
        let mut out = String::with_capacity(normal.len());
        let mut at = 0;
        while at < normal.len() {
            // Most of a page folds to itself: copy such runs whole.
            let rest = &normal[at..];
            let plain = rest.find(|c: char| !self.is_plain(c)).unwrap_or(rest.len());
            out.push_str(&rest[..plain]);
            at += plain;
            let Some(c) = normal[at..].chars().next() else {
                break;
            };
            if self.starts.contains(&c)
                && let Some((key, to, end)) = self.phrase_at(&normal, at)
            {
                out.push_str(to);
                used(key);
                at = end;
                continue;
            }
            match self.map.get(&c) {
                Some(to) => out.push_str(to),
                None => out.push(c),
            }
            at += c.len_utf8();
        }
        out
    }

    /// The longest phrase of the table at byte `at` of `text`, with what
    /// it folds to and where it ends.
    fn phrase_at<'t>(&'t self, text: &str, at: usize) -> Option<(&'t str, &'t str, usize)> {
        // Where each of the next characters starts; the text's end after.
        let mut bounds: Vec<usize> = text[at..]
            .char_indices()
            .map(|(i, _)| at + i)
            .take(self.longest + 1)
            .collect();
        if bounds.len() <= self.longest {
            bounds.push(text.len());
        }
        for len in (2..bounds.len()).rev() {
            if let Some((key, to)) = self.phrases.get_key_value(&text[at..bounds[len]]) {
                return Some((key, to, bounds[len]));
            }
        }
        None
    }

    /// A character that folds to itself and starts no phrase.
    fn is_plain(&self, c: char) -> bool {
        if c.is_ascii() {
            return self.ascii_plain >> (c as u32) & 1 == 1;
        }
        let Some(i) = (c as usize).checked_sub(PLAIN_FIRST) else {
            return false;
        };
        self.plain
            .get(i / 64)
            .is_some_and(|bits| bits >> (i % 64) & 1 == 1)
    }

    /// Notes which characters of the main ideograph block are plain, once
    /// the table is complete.
    fn with_plain(mut self) -> FoldTable {
        let mut plain = vec![0u64; (PLAIN_LAST - PLAIN_FIRST + 1).div_ceil(64)];
        for i in 0..=(PLAIN_LAST - PLAIN_FIRST) {
            let Some(c) = char::from_u32((PLAIN_FIRST + i) as u32) else {
                continue;
            };
            if !self.map.contains_key(&c) && !self.starts.contains(&c) {
                plain[i / 64] |= 1 << (i % 64);
            }
        }
        self.plain = plain;
        self.ascii_plain = (0..128u8)
            .map(char::from)
            .filter(|c| !self.map.contains_key(c) && !self.starts.contains(c))
            .fold(0, |bits, c| bits | 1 << (c as u32));
        self
    }

    /// The phrases, grouped by their first character, for the browser.
    /// Sorted, so the same site gives the same bytes.
    pub fn phrases_by_start(&self) -> BTreeMap<char, BTreeMap<&str, &str>> {
        let mut out: BTreeMap<char, BTreeMap<&str, &str>> = BTreeMap::new();
        for (from, to) in &self.phrases {
            if let Some(first) = from.chars().next() {
                out.entry(first).or_default().insert(from, to);
            }
        }
        out
    }

    /// What `phrase` folds to, if it is a phrase of the table.
    pub fn phrase(&self, phrase: &str) -> Option<&str> {
        self.phrases.get(phrase).map(String::as_str)
    }

    /// The part of the table the browser needs for this site: characters
    /// whose folded form consists of characters the site's folded text
    /// has. Any other character can change no match: folded or not, it is
    /// in no indexed term. Sorted, so the same site gives the same bytes.
    pub fn for_alphabet(&self, has: impl Fn(char) -> bool) -> BTreeMap<char, String> {
        self.map
            .iter()
            .filter(|(_, to)| to.chars().all(&has))
            .map(|(c, to)| (*c, to.clone()))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The main block of ideographs: NFKC and lower case leave each of them
/// as it is, and none starts a composition.
const PLAIN_FIRST: usize = 0x4E00;
const PLAIN_LAST: usize = 0x9FFF;

fn is_ideograph(c: char) -> bool {
    (PLAIN_FIRST..=PLAIN_LAST).contains(&(c as usize))
}

/// NFKC, then full lower case. Only the text between ideographs of the
/// main block is normalised: they separate it into parts that normalise
/// independently (nothing composes with them or reorders across them, and
/// they are not cased), so the result is that of the whole text, which is
/// what the browser computes.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let ideographs = rest.find(|c: char| !is_ideograph(c)).unwrap_or(rest.len());
        out.push_str(&rest[..ideographs]);
        rest = &rest[ideographs..];
        let other = rest.find(is_ideograph).unwrap_or(rest.len());
        let (run, after) = rest.split_at(other);
        if run.is_ascii() {
            out.extend(run.chars().map(|c| c.to_ascii_lowercase()));
        } else if unicode_normalization::is_nfkc_quick(run.chars())
            == unicode_normalization::IsNormalized::Yes
        {
            out.push_str(&run.to_lowercase());
        } else {
            out.push_str(&run.nfkc().collect::<String>().to_lowercase());
        }
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(text: &str) -> String {
        FoldTable::opencc().expect("OpenCC's data loads").fold(text)
    }

    #[test]
    fn traditional_and_regional_characters_fold_to_simplified() {
        assert_eq!(fold("電梯困人"), "电梯困人");
        assert_eq!(fold("裝修押金"), "装修押金");
        assert_eq!(fold("管理費"), "管理费");
        assert_eq!(fold("升降機"), "升降机");
        assert_eq!(fold("快遞"), "快递");
        // Variants: Hong Kong 裏 and Taiwan 裡 are both 里.
        assert_eq!(fold("裏面"), "里面");
        assert_eq!(fold("裡面"), "里面");
        assert_eq!(fold("頭髮"), "头发");
        // Phrases: 覆 alone stays, 回覆 is 回复; 乾 alone is 干, 乾坤 stays.
        assert_eq!(fold("覆"), "覆");
        assert_eq!(fold("請回覆"), "请回复");
        assert_eq!(fold("乾淨"), "干净");
        assert_eq!(fold("乾坤"), "乾坤");
        assert_eq!(fold("一目瞭然"), "一目了然");
        // Simplified text is left as it is.
        assert_eq!(fold("物业服务中心"), "物业服务中心");
    }

    #[test]
    fn width_and_case_fold() {
        assert_eq!(fold("ＷｉＦｉ　５栋"), "wifi 5栋");
        assert_eq!(fold("WiFi"), "wifi");
        assert_eq!(fold("３－２－１５０２"), "3-2-1502");
        assert_eq!(fold("（停水）"), "(停水)");
        assert_eq!(fold("電梯🛗！"), "电梯🛗!");
    }

    #[test]
    fn the_table_is_large_and_the_browser_part_is_cut_to_the_site() {
        let table = FoldTable::opencc().unwrap();
        assert!(table.len() > 2500, "{} entries", table.len());
        let alphabet: Vec<char> = "电梯".chars().collect();
        let cut = table.for_alphabet(|c| alphabet.contains(&c));
        assert_eq!(cut.get(&'電').map(String::as_str), Some("电"));
        assert!(cut.contains_key(&'梯') || !table.map.contains_key(&'梯'));
        assert!(!cut.contains_key(&'裝'));
    }

    #[test]
    fn the_longest_phrase_wins_and_phrases_do_not_overlap() {
        let table = FoldTable::from_pairs(&[('覆', "复")]).with_phrases(&[
            ("ab", "xy"),
            ("abc", "123"),
            ("cd", "zz"),
        ]);
        assert_eq!(table.fold("abcd"), "123d");
        assert_eq!(table.fold("abd"), "xyd");
        assert_eq!(table.fold("xcd覆"), "xzz复");
        let mut used = Vec::new();
        table.fold_noting("ab abc", |k| used.push(k));
        assert_eq!(used, ["ab", "abc"]);
        let by_start = table.phrases_by_start();
        assert_eq!(by_start[&'a'].len(), 2);
    }

    #[test]
    fn normalising_between_ideographs_equals_normalising_the_whole_text() {
        let whole = |t: &str| t.nfkc().collect::<String>().to_lowercase();
        for text in [
            "ＷｉＦｉ中ÉＡ",
            "e\u{301}中e\u{301}",
            "中\u{301}\u{316}文",
            "ΑΣ中Σ",
            "ΑΣ",
            "\u{1100}\u{1161}中\u{11A8}",
            "\u{F900}中\u{2F00}",
            "㈱中①，。",
            "",
        ] {
            assert_eq!(normalise(text), whole(text), "{text:?}");
        }
    }

    #[test]
    fn folding_is_idempotent_on_mixed_text() {
        let once = fold("電梯困人：請撥打２４小時值班電話 WiFi 5棟 🛗");
        assert_eq!(fold(&once), once);
    }
}

#[cfg(test)]
mod golden {
    use super::*;

    /// The list the browser tests fold too: both must give the same text.
    const CASES: &str = include_str!("../../../tests/fixtures/search/fold-cases.tsv");

    #[test]
    fn the_shared_cases_fold_as_listed() {
        let table = FoldTable::opencc().unwrap();
        let mut wrong = Vec::new();
        for line in CASES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (input, expected) = line.split_once('\t').expect("input<TAB>folded");
            let got = table.fold(input);
            if got != expected {
                wrong.push(format!("{input}\t{got}"));
            }
        }
        assert!(wrong.is_empty(), "folded otherwise:\n{}", wrong.join("\n"));
    }
}
