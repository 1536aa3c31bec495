//! Heading ids computed the way GitHub computes them, so an anchor that
//! works in a Markdown preview works on the site.

use std::collections::HashMap;

/// Hands out ids for the headings of one document, numbering repeats as
/// GitHub does (`费用`, `费用-1`, `费用-2`).
#[derive(Debug, Default)]
pub struct HeadingIds {
    seen: HashMap<String, usize>,
}

impl HeadingIds {
    /// Ids for a page whose template already uses `taken` (`main`,
    /// `toc-title`): a heading of that name is numbered as a repeat
    /// (`main-1`), so the page never has two elements of one id and a
    /// link checked against the headings lands on the heading.
    pub fn reserving<'a>(taken: impl IntoIterator<Item = &'a String>) -> HeadingIds {
        HeadingIds {
            seen: taken.into_iter().map(|id| (id.clone(), 0)).collect(),
        }
    }

    pub fn next(&mut self, heading_text: &str) -> String {
        let base = slug(heading_text);
        let mut candidate = base.clone();
        while let Some(count) = self.seen.get_mut(&candidate) {
            *count += 1;
            candidate = format!("{base}-{count}");
            if !self.seen.contains_key(&candidate) {
                break;
            }
        }
        self.seen.insert(candidate.clone(), 0);
        candidate
    }
}

/// github-slugger: lower-case, drop everything but letters, digits, marks,
/// `_`, `-` and spaces, then turn each space into `-`. Chinese stays as it is.
fn slug(text: &str) -> String {
    text.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_github() {
        let mut ids = HeadingIds::default();
        assert_eq!(ids.next("装修押金"), "装修押金");
        assert_eq!(ids.next("第一步：提交申请"), "第一步提交申请");
        assert_eq!(ids.next("Late Payment & Fees"), "late-payment--fees");
        assert_eq!(ids.next("（一）费用 构成"), "一费用-构成");
        assert_eq!(ids.next("snake_case 2026"), "snake_case-2026");
    }

    #[test]
    fn the_theme_s_own_ids_are_never_given_to_a_heading() {
        let taken = ["main".to_owned(), "toc-title".to_owned()];
        let mut ids = HeadingIds::reserving(&taken);
        assert_eq!(ids.next("Main"), "main-1");
        assert_eq!(ids.next("toc title"), "toc-title-1");
        assert_eq!(ids.next("main"), "main-2");
    }

    #[test]
    fn repeats_are_numbered() {
        let mut ids = HeadingIds::default();
        assert_eq!(ids.next("注意事项"), "注意事项");
        assert_eq!(ids.next("注意事项"), "注意事项-1");
        assert_eq!(ids.next("注意事项"), "注意事项-2");
        assert_eq!(ids.next("注意事项-1"), "注意事项-1-1");
    }
}
