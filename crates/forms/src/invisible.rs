//! Characters that are there but cannot be seen: format characters
//! (Unicode category Cf: zero-width spaces, byte-order marks, soft hyphens,
//! direction controls). Two U+200B would otherwise fill a required name,
//! and a right-to-left override would make `3-2-\u{202e}2051` read as
//! `3-2-1502` in the desk's email.

use unicode_properties::{GeneralCategory, UnicodeEmoji, UnicodeGeneralCategory};

const ZWJ: char = '\u{200D}';

/// The controls that change the direction text is shown in.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// `text` without its format characters, except a zero-width joiner that
/// joins two emoji (👨‍👩‍👧 stays one family).
pub fn strip_format(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut kept = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c.general_category() != GeneralCategory::Format {
            kept.push(c);
            continue;
        }
        let joins_emoji = c == ZWJ
            && kept.chars().next_back().is_some_and(is_emoji_part)
            && chars.get(i + 1).copied().is_some_and(is_emoji);
        if joins_emoji {
            kept.push(c);
        }
    }
    kept
}

/// An emoji proper (ASCII digits, `#` and `*` are emoji characters too,
/// but a joiner between them joins nothing).
fn is_emoji(c: char) -> bool {
    !c.is_ascii() && c.is_emoji_char()
}

/// What may end an emoji before a joiner: the emoji, a skin tone, or the
/// emoji presentation selector U+FE0F.
fn is_emoji_part(c: char) -> bool {
    is_emoji(c) || c == '\u{FE0F}' || (!c.is_ascii() && c.is_emoji_component())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_width_and_byte_order_marks_go() {
        assert_eq!(strip_format("\u{200B}\u{200B}"), "");
        assert_eq!(strip_format("\u{FEFF}".repeat(10).as_str()), "");
        assert_eq!(strip_format("王\u{00AD}芳\u{2060}"), "王芳");
    }

    #[test]
    fn a_joiner_inside_an_emoji_sequence_stays() {
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(strip_format(family), family);
        let rainbow_flag = "🏳\u{FE0F}\u{200D}🌈";
        assert_eq!(strip_format(rainbow_flag), rainbow_flag);
        assert_eq!(strip_format("1\u{200D}2"), "12");
        assert_eq!(strip_format("\u{200D}漏水\u{200D}"), "漏水");
    }

    #[test]
    fn direction_controls_are_known() {
        assert!("3-2-\u{202E}2051".chars().any(is_bidi_control));
        assert!(!"3-2-1502 漏水".chars().any(is_bidi_control));
        assert_eq!(strip_format("3-2-\u{202E}2051"), "3-2-2051");
    }
}
