//! Errors for a person: which file, which line, what is wrong, what to do.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in the site's files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(
        file: impl AsRef<Path>,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            file: file.as_ref().to_owned(),
            line,
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n     help: {help}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in the site's own files, all of them, in file order.
    #[error("{}", list(.0))]
    Invalid(Vec<Diagnostic>),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The output folder is somewhere site-gen must not replace.
    #[error("{0}")]
    Output(String),
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
}

/// The problems of a run in file order, each once.
pub fn in_order(diagnostics: &[Diagnostic]) -> Vec<Diagnostic> {
    let mut sorted = diagnostics.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
}

fn list(diagnostics: &[Diagnostic]) -> String {
    let sorted = in_order(diagnostics);
    let count = sorted.len();
    let mut text = format!(
        "{count} problem{} found; nothing was written",
        if count == 1 { "" } else { "s" }
    );
    for (i, d) in sorted.iter().enumerate() {
        text.push_str(&format!("\n  {}. {d}", i + 1));
    }
    text
}

impl Diagnostic {
    /// The problem as a GitHub Actions workflow command, so the web
    /// editor shows it on the line it is about:
    /// `::error file=content/x.md,line=3::message`.
    pub fn github_annotation(&self) -> String {
        let mut properties = format!("file={}", escape_property(&self.file.to_string_lossy()));
        if let Some(line) = self.line {
            properties.push_str(&format!(",line={line}"));
        }
        let mut message = self.message.clone();
        if let Some(help) = &self.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        format!("::error {properties}::{}", escape_data(&message))
    }
}

/// Escapes a workflow command's message as the Actions runner expects.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value also may not contain the separators `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Turns a serde_yaml error into a diagnostic at the right line of the file;
/// `first_line` is the file line the YAML text starts on.
pub fn yaml_diagnostic(file: &Path, first_line: usize, err: &serde_yaml::Error) -> Diagnostic {
    let line = err.location().map(|l| l.line() + first_line - 1);
    // serde_yaml appends "at line X column Y", which is wrong once the text
    // is cut out of a larger file; the diagnostic carries the real line.
    let raw = err.to_string();
    let message = raw.split(" at line ").next().unwrap_or(&raw).to_owned();
    let help = if message.starts_with("unknown field") {
        Some(
            "remove this key or correct its spelling; the allowed keys are listed in the README's authoring guide",
        )
    } else if message.starts_with("missing field `title`") {
        Some("add a line such as `title: 装修押金退还` to the front matter")
    } else if message.contains("premature end of input")
        || message.contains("input contains invalid characters")
        || message.contains("input is out of range")
    {
        Some("dates are written YYYY-MM-DD, e.g. 2026-11-23")
    } else {
        None
    };
    let d = Diagnostic::new(file, line, message);
    match help {
        Some(h) => d.help(h),
        None => d,
    }
}

impl From<config::FileError> for Diagnostic {
    fn from(err: config::FileError) -> Diagnostic {
        match err {
            config::FileError::Read { path, source } => {
                Diagnostic::new(&path, None, format!("cannot read the file: {source}"))
                    .help("run site-gen in the site's folder, or pass --root")
            }
            config::FileError::Invalid {
                path,
                line,
                message,
            } => Diagnostic::new(path, line, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_annotation_names_file_and_line_and_escapes_what_would_end_it() {
        let d = Diagnostic::new("content/a,b.md", Some(7), "50% 的链接\n坏了").help("改正 `x: y`");
        assert_eq!(
            d.github_annotation(),
            "::error file=content/a%2Cb.md,line=7::50%25 的链接%0A坏了%0Ahelp: 改正 `x: y`"
        );
        let d = Diagnostic::new("config.yaml", None, "m");
        assert_eq!(d.github_annotation(), "::error file=config.yaml::m");
    }
}
