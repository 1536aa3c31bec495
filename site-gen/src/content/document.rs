//! One Markdown file: its place, its front matter and its body.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::content::front_matter::{FrontMatter, split};
use crate::diagnostics::Diagnostic;
use crate::urls::ContentPath;

#[derive(Debug, Clone)]
pub struct Document {
    pub path: ContentPath,
    /// The file as the person running site-gen would open it; shared, so
    /// that a rebuild's copy of an unchanged document allocates nothing.
    pub file: Arc<Path>,
    /// Shared, as the body is: only a build that dates pages by their
    /// history changes it.
    pub meta: Arc<FrontMatter>,
    /// Shared, so a rebuild under `serve` reuses an unchanged file's
    /// body without copying it.
    pub body: Arc<str>,
    /// The line of the file the body starts on, for error messages.
    pub body_line: usize,
    /// A digest of the whole file: equal digests render equal pages.
    pub source_digest: u64,
    /// A digest of the file's text as read (`source_digest` also covers
    /// the page's history, where the build reads it).
    read_digest: u64,
    /// Where the body starts in the file's bytes, for reading it again.
    body_start: usize,
    /// The body as read has a `{{ … }}` for facts to fill in. Found once
    /// at parse, not by every rebuild under `serve` scanning every body.
    pub has_placeholders: bool,
    key_lines: Arc<[(String, usize)]>,
}

impl Document {
    /// Parses a document from its text; pure, for tests.
    pub fn parse(path: ContentPath, file: PathBuf, text: &str) -> Result<Document, Diagnostic> {
        let parts = split(&file, text)?;
        let body = normalised(parts.body);
        let digest = text_digest(text);
        Ok(Document {
            source_digest: digest,
            read_digest: digest,
            // The body is the end of the text, after the front matter.
            body_start: text.len() - parts.body.len(),
            has_placeholders: body.contains("{{"),
            body,
            body_line: parts.body_line,
            key_lines: parts.key_lines.into(),
            meta: Arc::new(parts.front_matter),
            path,
            file: file.into(),
        })
    }

    /// The body read again from the file, for a build that let it go
    /// after outlining the page: an error if the file changed since.
    pub fn read_body_again(&self) -> Result<Arc<str>, Diagnostic> {
        let changed = || {
            Diagnostic::new(
                &self.file,
                None,
                "the file changed while the site was being built",
            )
            .help("build again")
        };
        let bytes = std::fs::read(&self.file).map_err(|_| changed())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| changed())?;
        if text_digest(text) != self.read_digest {
            return Err(changed());
        }
        text.get(self.body_start..)
            .map(normalised)
            .ok_or_else(changed)
    }

    /// The line a front-matter key is written on.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.key_lines
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, line)| *line)
    }

    pub fn from_file(path: ContentPath, file: &Path) -> Result<Document, Diagnostic> {
        let bytes = std::fs::read(file)
            .map_err(|e| Diagnostic::new(file, None, format!("cannot read the file: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Diagnostic::new(file, None, "the file is not UTF-8 text")
                .help("save it as UTF-8 (most editors offer this under \"Save with encoding\")")
        })?;
        Document::parse(path, file.to_owned(), &text)
    }
}

/// A body as the build reads it: NUL becomes U+FFFD, as CommonMark
/// requires (pulldown-cmark passes it through to the HTML).
fn normalised(body: &str) -> Arc<str> {
    if body.contains('\0') {
        body.replace('\0', "\u{FFFD}").into()
    } else {
        body.into()
    }
}

fn text_digest(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(text, &mut hasher);
    std::hash::Hasher::finish(&hasher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_in_the_body_is_read_as_the_replacement_character() {
        let text = "---\ntitle: t\n---\na\0b `c\0d` {{ x }}\n";
        let path = ContentPath::new(Path::new("a.md")).expect("a content path");
        let doc = Document::parse(path, PathBuf::from("a.md"), text).expect("parses");
        assert_eq!(&*doc.body, "a\u{FFFD}b `c\u{FFFD}d` {{ x }}\n");
        assert!(doc.has_placeholders);
        let html =
            crate::markdown::render(&doc.body, doc.body_line, &Default::default(), &|_| None).html;
        assert!(
            !html.contains('\0') && html.contains("a\u{FFFD}b"),
            "{html}"
        );
    }

    #[test]
    fn a_body_read_again_is_the_body_read_first_until_the_file_changes() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let file = dir.path().join("a.md");
        let text = "\u{feff}---\ntitle: t\nsummary: |\n  two\n  lines\n---\n\n# a\0\n\nbody\n";
        std::fs::write(&file, text).expect("written");
        let path = ContentPath::new(Path::new("a.md")).expect("a content path");
        let doc = Document::from_file(path, &file).expect("parses");
        assert_eq!(doc.read_body_again().expect("read again"), doc.body);
        std::fs::write(&file, text.replace("body", "edited")).expect("written");
        let error = doc.read_body_again().expect_err("changed");
        assert!(error.to_string().contains("changed while"), "{error}");
    }
}
