//! One Markdown file: its place, its front matter and its body.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::content::front_matter::{FrontMatter, split};
use crate::diagnostics::Diagnostic;
use crate::urls::ContentPath;

#[derive(Debug, Clone)]
pub struct Document {
    pub path: ContentPath,
    /// The file as the person running site-gen would open it.
    pub file: PathBuf,
    pub meta: FrontMatter,
    /// Shared, so a rebuild under `serve` reuses an unchanged file's
    /// body without copying it.
    pub body: Arc<str>,
    /// The line of the file the body starts on, for error messages.
    pub body_line: usize,
    /// A digest of the whole file: equal digests render equal pages.
    pub source_digest: u64,
    key_lines: Vec<(String, usize)>,
}

impl Document {
    /// Parses a document from its text; pure, for tests.
    pub fn parse(path: ContentPath, file: PathBuf, text: &str) -> Result<Document, Diagnostic> {
        let parts = split(&file, text)?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(text, &mut hasher);
        Ok(Document {
            source_digest: std::hash::Hasher::finish(&hasher),
            body: parts.body.into(),
            body_line: parts.body_line,
            key_lines: parts.key_lines,
            meta: parts.front_matter,
            path,
            file,
        })
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
