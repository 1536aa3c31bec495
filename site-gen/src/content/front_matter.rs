//! The YAML block at the top of every Markdown file.

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::diagnostics::{Diagnostic, yaml_diagnostic};

/// Every key a page or section may set. Anything else is an error, so a
/// misspelt key never silently does nothing.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub title: String,
    pub summary: Option<String>,
    /// Order within the section; lower first, unweighted pages last.
    pub weight: Option<i64>,
    pub date: Option<NaiveDate>,
    pub updated: Option<NaiveDate>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Notices only: after this day the notice leaves the home page.
    pub expires: Option<NaiveDate>,
    /// Call buttons at the top of the page: the 24-hour duty line, then
    /// the numbers named here (keys of `estate.yaml`, e.g. `national.fire`).
    #[serde(default)]
    pub call: Vec<String>,
    /// Policy pages: the day this version of the rule takes effect.
    pub effective: Option<NaiveDate>,
    /// Policy pages: what this version replaces, as text ("2024 年版") or
    /// as a relative link to the page it replaces (`old-rules.md`).
    pub supersedes: Option<String>,
    /// Policy pages: what changed in this version, one line each.
    #[serde(default)]
    pub changes: Vec<String>,
}

impl FrontMatter {
    /// The date a reader should see as "last updated".
    pub fn last_updated(&self) -> Option<NaiveDate> {
        self.updated.or(self.date)
    }
}

/// The front matter and the body of a file, with the line the body starts on.
#[derive(Debug)]
pub struct Split<'a> {
    pub front_matter: FrontMatter,
    /// The file line of each top-level key, for messages about a key.
    pub key_lines: Vec<(String, usize)>,
    pub body: &'a str,
    pub body_line: usize,
}

const FENCE: &str = "---";

/// Splits `text` into front matter and body and parses the front matter.
pub fn split<'a>(file: &Path, text: &'a str) -> Result<Split<'a>, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let opening = lines.next().unwrap_or("");
    if opening.trim_end() != FENCE {
        return Err(
            Diagnostic::new(file, Some(1), "the file does not start with front matter").help(
                "start the file with a line `---`, then `title: ...`, then a closing `---` line",
            ),
        );
    }
    let yaml_start = opening.len();
    let mut offset = yaml_start;
    let mut line_no = 1;
    for line in lines {
        line_no += 1;
        if line.trim_end() == FENCE {
            let yaml = &text[yaml_start..offset];
            let body = &text[offset + line.len()..];
            let front_matter = parse(file, yaml)?;
            let key_lines = yaml
                .lines()
                .enumerate()
                .filter_map(|(i, l)| {
                    let (key, _) = l.split_once(':')?;
                    let plain = !key.is_empty()
                        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    plain.then(|| (key.to_owned(), i + 2))
                })
                .collect();
            return Ok(Split {
                front_matter,
                key_lines,
                body,
                body_line: line_no + 1,
            });
        }
        offset += line.len();
    }
    Err(
        Diagnostic::new(file, Some(1), "the front matter is never closed")
            .help("did you forget the closing `---` line after the front matter?"),
    )
}

fn parse(file: &Path, yaml: &str) -> Result<FrontMatter, Diagnostic> {
    if yaml.trim().is_empty() {
        return Err(Diagnostic::new(file, Some(1), "the front matter is empty")
            .help("add at least a line such as `title: 装修押金退还` between the `---` lines"));
    }
    // Line 1 of the file is the opening `---`.
    if let Some(line) = config::first_alias(yaml) {
        return Err(Diagnostic::new(file, Some(line + 1), config::ALIAS_REFUSED));
    }
    let front_matter: FrontMatter =
        serde_yaml::from_str(yaml).map_err(|e| yaml_diagnostic(file, 2, &e))?;
    if front_matter.title.trim().is_empty() {
        return Err(
            Diagnostic::new(file, Some(2), "`title` is empty").help("give the page a title")
        );
    }
    Ok(front_matter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<Split<'_>, Diagnostic> {
        split(Path::new("p.md"), text)
    }

    #[test]
    fn splits_and_counts_lines() {
        let s = run("---\ntitle: 报修\nweight: 2\nupdated: 2026-11-20\n---\n正文\n").unwrap();
        assert_eq!(s.front_matter.title, "报修");
        assert_eq!(s.front_matter.weight, Some(2));
        assert_eq!(
            s.front_matter.updated,
            NaiveDate::from_ymd_opt(2026, 11, 20)
        );
        assert_eq!(s.body, "正文\n");
        assert_eq!(s.body_line, 6);
    }

    #[test]
    fn lifecycle_keys_parse_and_a_bad_effective_day_names_its_line() {
        let s = run("---\ntitle: T\neffective: 2027-01-01\nsupersedes: old.md\nchanges:\n  - 押金调整\n---\n").unwrap();
        assert_eq!(
            s.front_matter.effective,
            NaiveDate::from_ymd_opt(2027, 1, 1)
        );
        assert_eq!(s.front_matter.supersedes.as_deref(), Some("old.md"));
        assert_eq!(s.front_matter.changes, ["押金调整"]);
        let d = run("---\ntitle: T\nsummary: S\neffective: 2027-02-30\n---\n").unwrap_err();
        assert_eq!(d.line, Some(4), "{d}");
    }

    #[test]
    fn crlf_and_bom_are_fine() {
        let s = run("\u{feff}---\r\ntitle: T\r\n---\r\nbody").unwrap();
        assert_eq!(s.front_matter.title, "T");
        assert_eq!(s.body, "body");
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let d = run("---\ntitle: T\nauthor: 张三\n---\n").unwrap_err();
        assert_eq!(d.line, Some(3));
        assert!(
            d.message.contains("unknown field `author`"),
            "{}",
            d.message
        );
        assert!(d.help.is_some());
    }

    #[test]
    fn missing_title_and_bad_yaml() {
        let d = run("---\nsummary: S\n---\n").unwrap_err();
        assert!(d.message.contains("missing field `title`"), "{}", d.message);
        let d = run("---\ntitle: [unclosed\n---\n").unwrap_err();
        assert!(d.line.is_some());
        let d = run("---\ntitle: T\ndate: 2026-13-45\n---\n").unwrap_err();
        assert_eq!(d.line, Some(3), "{d}");
    }

    #[test]
    fn an_alias_bomb_is_refused_at_its_line() {
        let big = "x".repeat(100_000);
        let aliases = vec!["*a"; 20_000].join(", ");
        let text = format!("---\ntitle: &a \"{big}\"\ntags: [{aliases}]\n---\n");
        let started = std::time::Instant::now();
        let d = run(&text).unwrap_err();
        assert_eq!(d.line, Some(3), "{d}");
        assert!(d.message.contains("aliases"), "{d}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn missing_or_unclosed_front_matter() {
        assert!(run("# 标题\n").unwrap_err().help.unwrap().contains("---"));
        assert!(
            run("---\ntitle: T\n")
                .unwrap_err()
                .message
                .contains("never closed")
        );
    }
}
