//! Where a content file ends up: its address on the site and its file in
//! the output folder. Both come from the file's path alone, so a link can
//! be rewritten without loading the page it points to.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// Characters that must be escaped in one path segment of an address.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/');

pub const SECTION_INDEX: &str = "_index.md";

/// A content-relative path made only of plain names: no `..`, no root, no
/// prefix. Every output path is built from one, so nothing is ever written
/// outside the output folder.
///
/// Shared, so the many copies a build makes (documents reused under
/// `serve`, links, listings) cost no allocation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentPath(Arc<[String]>);

impl ContentPath {
    /// Accepts a path relative to `content/`; `None` when any component is
    /// not a plain UTF-8 name.
    pub fn new(relative: &Path) -> Option<ContentPath> {
        let mut parts = Vec::new();
        for component in relative.components() {
            match component {
                Component::Normal(name) => parts.push(name.to_str()?.to_owned()),
                Component::CurDir => {}
                _ => return None,
            }
        }
        Some(ContentPath(parts.into()))
    }

    pub fn from_parts(parts: Vec<String>) -> ContentPath {
        ContentPath(parts.into())
    }

    pub fn parts(&self) -> &[String] {
        &self.0
    }

    pub fn file_name(&self) -> &str {
        self.0.last().map(String::as_str).unwrap_or("")
    }

    pub fn is_markdown(&self) -> bool {
        self.file_name().ends_with(".md")
    }

    pub fn is_section_index(&self) -> bool {
        self.file_name() == SECTION_INDEX
    }

    /// The folder this file is in, as parts.
    pub fn dir(&self) -> &[String] {
        &self.0[..self.0.len().saturating_sub(1)]
    }

    pub fn to_path(&self) -> PathBuf {
        self.0.iter().collect()
    }

    /// The segments of the page's address: `fees/payment.md` → `fees/payment`,
    /// `fees/_index.md` → `fees`; a non-Markdown file keeps its name.
    fn url_segments(&self) -> Vec<&str> {
        let mut segments: Vec<&str> = self.dir().iter().map(String::as_str).collect();
        let name = self.file_name();
        if self.is_section_index() {
        } else if let Some(stem) = name.strip_suffix(".md") {
            segments.push(stem);
        } else {
            segments.push(name);
        }
        segments
    }

    /// The address within the site, without the base path: `/fees/payment/`
    /// for a page, `/fees/plan.pdf` for any other file.
    pub fn url(&self) -> String {
        let encoded: Vec<String> = self
            .url_segments()
            .iter()
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        if encoded.is_empty() {
            "/".to_owned()
        } else if self.is_markdown() {
            format!("/{}/", encoded.join("/"))
        } else {
            format!("/{}", encoded.join("/"))
        }
    }

    /// The file to write, relative to the output folder.
    pub fn output_file(&self) -> PathBuf {
        let mut path: PathBuf = self.url_segments().iter().collect();
        if self.is_markdown() {
            path.push("index.html");
        }
        path
    }
}

/// Resolves `target` (a relative link as written in `from`) against the
/// folder `from` is in. `None` when it climbs above `content/`.
pub fn resolve_relative(from: &ContentPath, target: &str) -> Option<ContentPath> {
    let mut parts: Vec<String> = from.dir().to_vec();
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name.to_owned()),
        }
    }
    Some(ContentPath(parts.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(s: &str) -> ContentPath {
        ContentPath::new(Path::new(s)).unwrap()
    }

    #[test]
    fn addresses_follow_the_folders() {
        assert_eq!(cp("_index.md").url(), "/");
        assert_eq!(cp("fees/_index.md").url(), "/fees/");
        assert_eq!(cp("fees/payment.md").url(), "/fees/payment/");
        assert_eq!(cp("fees/plan.pdf").url(), "/fees/plan.pdf");
        assert_eq!(
            cp("通知/停水 通知.md").url(),
            "/%E9%80%9A%E7%9F%A5/%E5%81%9C%E6%B0%B4%20%E9%80%9A%E7%9F%A5/"
        );
        assert_eq!(cp("_index.md").output_file(), Path::new("index.html"));
        assert_eq!(
            cp("fees/_index.md").output_file(),
            Path::new("fees/index.html")
        );
        assert_eq!(
            cp("fees/payment.md").output_file(),
            Path::new("fees/payment/index.html")
        );
    }

    #[test]
    fn only_plain_names_are_content_paths() {
        assert!(ContentPath::new(Path::new("../etc/passwd")).is_none());
        assert!(ContentPath::new(Path::new("/etc/passwd")).is_none());
    }

    #[test]
    fn relative_links_cannot_climb_out() {
        let from = cp("fees/payment.md");
        assert_eq!(
            resolve_relative(&from, "../renovation/rules.md"),
            Some(cp("renovation/rules.md"))
        );
        assert_eq!(
            resolve_relative(&from, "./invoices.md"),
            Some(cp("fees/invoices.md"))
        );
        assert_eq!(resolve_relative(&from, "../../x.md"), None);
    }
}
