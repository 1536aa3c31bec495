//! How folded text is cut into terms; `search.js` cuts a query the same way.
//!
//! - A run of CJK characters gives every pair of adjacent characters (a
//!   bigram) and every single character (a unigram, kept apart, for
//!   one-character queries). No word segmenter: the index and the query are
//!   cut the same way whatever the words are.
//! - A run of letters gives one word, a run of digits another (`wifi6` is
//!   `wifi` and `6`; `5栋` is `5` and `栋`).
//! - Anything else (spaces, punctuation, emoji) separates.

/// Ideographs (unified, extensions, compatibility), kana and Hangul.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF | 0x20000..=0x323AF)
}

/// The kind of a character; `search.js` has the same three (`\p{Alphabetic}`
/// and `\p{N}` are what Rust's `is_alphabetic` and `is_numeric` test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cjk,
    Letter,
    Digit,
    Other,
}

fn kind(c: char) -> Kind {
    if is_cjk(c) {
        Kind::Cjk
    } else if c.is_alphabetic() {
        Kind::Letter
    } else if c.is_numeric() {
        Kind::Digit
    } else {
        Kind::Other
    }
}

/// One term of a text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Token<'a> {
    /// Two adjacent CJK characters.
    Bigram(char, char),
    /// One CJK character.
    Unigram(char),
    /// A run of letters or of digits.
    Word(&'a str),
}

impl Token<'_> {
    /// The term as it is stored in a shard and hashed to choose it.
    pub fn text(&self) -> String {
        match self {
            Token::Bigram(a, b) => [*a, *b].iter().collect(),
            Token::Unigram(a) => a.to_string(),
            Token::Word(w) => (*w).to_owned(),
        }
    }
}

/// Calls `each` with every token of `folded`, in order.
pub fn tokens<'a>(folded: &'a str, mut each: impl FnMut(Token<'a>)) {
    let mut run_start = 0;
    let mut run_kind = Kind::Other;
    let mut previous: Option<char> = None;
    for (at, c) in folded.char_indices() {
        let k = kind(c);
        if k != run_kind {
            if matches!(run_kind, Kind::Letter | Kind::Digit) {
                each(Token::Word(&folded[run_start..at]));
            }
            run_start = at;
            run_kind = k;
            previous = None;
        }
        if k == Kind::Cjk {
            each(Token::Unigram(c));
            if let Some(p) = previous {
                each(Token::Bigram(p, c));
            }
            previous = Some(c);
        }
    }
    if matches!(run_kind, Kind::Letter | Kind::Digit) {
        each(Token::Word(&folded[run_start..]));
    }
}

/// The text with every separator removed: what a phrase is checked
/// against (`5 栋` contains `5栋`).
pub fn compact(folded: &str) -> String {
    folded.chars().filter(|&c| kind(c) != Kind::Other).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        tokens(text, |t| {
            out.push(match t {
                Token::Bigram(..) => format!("b:{}", t.text()),
                Token::Unigram(_) => format!("u:{}", t.text()),
                Token::Word(_) => format!("w:{}", t.text()),
            })
        });
        out
    }

    #[test]
    fn cjk_runs_give_unigrams_and_bigrams_words_stay_whole() {
        assert_eq!(
            all("电梯困人"),
            ["u:电", "u:梯", "b:电梯", "u:困", "b:梯困", "u:人", "b:困人"]
        );
        assert_eq!(
            all("wifi6 密码"),
            ["w:wifi", "w:6", "u:密", "u:码", "b:密码"]
        );
        assert_eq!(all("5栋"), ["w:5", "u:栋"]);
        // Punctuation and emoji separate: no bigram across them.
        assert_eq!(
            all("停水，停电🛗"),
            ["u:停", "u:水", "b:停水", "u:停", "u:电", "b:停电"]
        );
        assert_eq!(all("3-2-1502"), ["w:3", "w:2", "w:1502"]);
    }

    #[test]
    fn compact_drops_separators_only() {
        assert_eq!(compact("5 栋，3-2"), "5栋32");
    }
}
