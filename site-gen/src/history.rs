//! Page history from git: which commits touched which content file.
//!
//! One `git log` process reads the whole history of `content/` once per
//! build (not one process per page), so the cost grows with the number of
//! commits, not commits × pages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use serde::Serialize;

use crate::urls::ContentPath;

/// One commit, as a page's 修订记录 lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    pub date: NaiveDate,
    pub subject: String,
}

/// A commit and the content files it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub revision: Revision,
    pub files: Vec<ContentPath>,
}

/// The history of `content/`, newest commit first.
#[derive(Debug, Default)]
pub struct History {
    pub commits: Vec<Commit>,
    by_file: HashMap<ContentPath, Vec<usize>>,
    /// The clone is shallow: commits before its cut are missing.
    pub shallow: bool,
}

/// Why no history could be read; the build goes on without it.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("cannot run git ({0}); page dates come from `updated` only")]
    NoGit(std::io::Error),
    #[error("{} is not in a git checkout; page dates come from `updated` only", .0.display())]
    NotACheckout(PathBuf),
    #[error("git log failed: {0}")]
    Failed(String),
}

/// Separates commits in the log: a byte no subject or path contains.
const RECORD: char = '\u{1e}';

impl History {
    /// Reads the history of the files under `content_dir`.
    pub fn read(content_dir: &Path) -> Result<History, Unavailable> {
        let git = |args: &[&str]| {
            Command::new("git")
                .arg("-C")
                .arg(content_dir)
                // Paths as written, not octal-escaped, for Chinese names.
                .args(["-c", "core.quotePath=false"])
                .args(args)
                .output()
                .map_err(Unavailable::NoGit)
        };
        let shallow = git(&["rev-parse", "--is-shallow-repository"])?;
        if !shallow.status.success() {
            return Err(Unavailable::NotACheckout(content_dir.to_owned()));
        }
        let log = git(&[
            "log",
            "--no-renames",
            "--relative",
            "--name-only",
            "--format=%x1e%cs %s",
            "--",
            ".",
        ])?;
        if !log.status.success() {
            let stderr = String::from_utf8_lossy(&log.stderr);
            // A repository without commits yet has no history to read.
            if stderr.contains("does not have any commits") {
                return Ok(History::default());
            }
            return Err(Unavailable::Failed(stderr.trim().to_owned()));
        }
        let mut history = History::parse(&String::from_utf8_lossy(&log.stdout));
        history.shallow = String::from_utf8_lossy(&shallow.stdout).trim() == "true";
        Ok(history)
    }

    /// Parses `git log --name-only --format=%x1e%cs %s` output.
    pub fn parse(log: &str) -> History {
        let mut history = History::default();
        for record in log.split(RECORD).filter(|r| !r.trim().is_empty()) {
            let mut lines = record.lines();
            let Some(header) = lines.next() else { continue };
            let (date, subject) = header.split_once(' ').unwrap_or((header, ""));
            let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
                continue;
            };
            let files: Vec<ContentPath> = lines
                .filter(|l| !l.is_empty())
                .filter_map(|l| ContentPath::new(Path::new(l)))
                .collect();
            let index = history.commits.len();
            for file in &files {
                history.by_file.entry(file.clone()).or_default().push(index);
            }
            history.commits.push(Commit {
                revision: Revision {
                    date,
                    subject: subject.to_owned(),
                },
                files,
            });
        }
        history
    }

    /// The commits that changed `file`, newest first.
    pub fn revisions(&self, file: &ContentPath) -> impl Iterator<Item = &Revision> {
        self.by_file
            .get(file)
            .into_iter()
            .flatten()
            .map(|&i| &self.commits[i].revision)
    }

    /// The day of the last commit that changed `file`.
    pub fn last_changed(&self, file: &ContentPath) -> Option<NaiveDate> {
        self.revisions(file).next().map(|r| r.date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> ContentPath {
        ContentPath::new(Path::new(p)).unwrap()
    }

    #[test]
    fn a_log_is_read_into_commits_per_file_newest_first() {
        let log = "\u{1e}2026-11-20 装修时间调整\n\nrenovation/rules.md\nfees/缴费.md\n\u{1e}2026-10-01 First\n\nrenovation/rules.md\n";
        let h = History::parse(log);
        assert_eq!(h.commits.len(), 2);
        let rules: Vec<_> = h.revisions(&path("renovation/rules.md")).collect();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].subject, "装修时间调整");
        assert_eq!(
            h.last_changed(&path("fees/缴费.md")),
            NaiveDate::from_ymd_opt(2026, 11, 20)
        );
        assert_eq!(h.last_changed(&path("other.md")), None);
    }
}
