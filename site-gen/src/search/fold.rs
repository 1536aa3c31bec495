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
        Ok(table)
    }

    /// A table of the given pairs, for tests.
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(char, &str)]) -> FoldTable {
        FoldTable {
            map: pairs.iter().map(|(c, s)| (*c, (*s).to_owned())).collect(),
            ..FoldTable::default()
        }
    }

    /// The same with phrases, for tests.
    #[cfg(test)]
    pub fn with_phrases(mut self, phrases: &[(&str, &str)]) -> FoldTable {
        for (from, to) in phrases {
            self.phrases.insert((*from).to_owned(), (*to).to_owned());
            self.longest = self.longest.max(from.chars().count());
            self.starts.extend(from.chars().next());
        }
        self
    }

    /// Folds `text`: NFKC, lower case, then the tables.
    pub fn fold(&self, text: &str) -> String {
        self.fold_noting(text, |_| {})
    }

    /// Folds `text`, calling `used` with each phrase applied.
    pub fn fold_noting<'t>(&'t self, text: &str, mut used: impl FnMut(&'t str)) -> String {
        // Most of a page is already NFKC: the quick check spares the copy.
        let normal = match unicode_normalization::is_nfkc_quick(text.chars()) {
            unicode_normalization::IsNormalized::Yes => text.to_lowercase(),
            _ => text.nfkc().collect::<String>().to_lowercase(),
        };
        let chars: Vec<(usize, char)> = normal.char_indices().collect();
        let mut out = String::with_capacity(normal.len());
        let mut i = 0;
        'text: while i < chars.len() {
            let c = chars[i].1;
            let longest = if self.starts.contains(&c) {
                self.longest.min(chars.len() - i)
            } else {
                0
            };
            for len in (2..=longest).rev() {
                let end = chars.get(i + len).map_or(normal.len(), |&(at, _)| at);
                if let Some((key, to)) = self.phrases.get_key_value(&normal[chars[i].0..end]) {
                    out.push_str(to);
                    used(key);
                    i += len;
                    continue 'text;
                }
            }
            match self.map.get(&c) {
                Some(to) => out.push_str(to),
                None => out.push(c),
            }
            i += 1;
        }
        out
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
