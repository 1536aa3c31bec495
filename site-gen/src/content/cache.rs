//! The documents of the last build, kept by `serve` so that a rebuild
//! parses again only the files that changed.
//!
//! A file counts as unchanged when its length and modification time are
//! what they were when it was read, and it had not been modified shortly
//! before that read: file systems keep times coarsely, so an edit within
//! the same tick as the read would leave both the same (git's "racily
//! clean" entries). Such a file is read again, at the cost of one file.

use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::content::document::Document;
use crate::content::tree::Listing;

/// Modified within this before it was read: not trusted to be unchanged.
const RACY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: SystemTime,
}

#[derive(Debug, Clone)]
struct Entry {
    stamp: Stamp,
    read_at: SystemTime,
    doc: Document,
}

/// Parsed documents by file, as they were read (before the build adds
/// facts or history to them).
#[derive(Debug, Clone, Default)]
pub struct DocumentCache {
    entries: FxHashMap<PathBuf, Entry>,
    /// The last load's listing of the content folder, kept only while
    /// every change since is known (told by `serve`'s file watcher).
    listing: Option<Listing>,
}

fn stamp(metadata: &std::fs::Metadata) -> Option<Stamp> {
    Some(Stamp {
        len: metadata.len(),
        modified: metadata.modified().ok()?,
    })
}

impl DocumentCache {
    /// The document read from `file` before, if the file is unchanged.
    pub fn get(&self, file: &Path, metadata: &std::fs::Metadata) -> Option<&Document> {
        let entry = self.entries.get(file)?;
        let now = stamp(metadata)?;
        let settled = now
            .modified
            .checked_add(RACY)
            .is_some_and(|settled| settled < entry.read_at);
        (entry.stamp == now && settled).then_some(&entry.doc)
    }

    /// The document read from `file` before, when the caller knows the
    /// file has not changed since.
    pub fn get_unchanged(&self, file: &Path) -> Option<&Document> {
        self.entries.get(file).map(|entry| &entry.doc)
    }

    /// Keeps the listing of the content folder for the next load, which
    /// then looks only at the paths it is told have changed.
    pub(crate) fn set_listing(&mut self, listing: Listing) {
        self.listing = Some(listing);
    }

    pub(crate) fn take_listing(&mut self) -> Option<Listing> {
        self.listing.take()
    }

    /// What changed is not known: the next load walks the whole content
    /// folder and compares each file's length and time.
    pub fn forget_listing(&mut self) {
        self.listing = None;
    }

    /// `paths` changed since the last load (as a file watcher reports
    /// them: files or folders, created, changed, renamed or removed).
    /// Paths outside `content_dir` but inside `root` are not content and
    /// are passed over; one that is neither, or that cannot be placed,
    /// makes the next load walk everything. Returns whether every path
    /// was inside `content_dir`, so nothing else a build reads changed.
    pub fn note_changed<'a>(
        &mut self,
        root: &Path,
        content_dir: &Path,
        paths: impl IntoIterator<Item = &'a Path>,
    ) -> bool {
        // A watcher may report paths absolute or as they were given, and
        // through the links the folders' names resolve through.
        let spellings = |dir: &Path| {
            let mut known = vec![dir.to_owned(), crate::output::absolute(dir)];
            known.extend(std::fs::canonicalize(dir).ok());
            known
        };
        let contents = spellings(content_dir);
        let roots = spellings(root);
        let mut only_content = true;
        for path in paths {
            let absolute = crate::output::absolute(path);
            let inside = contents
                .iter()
                .find_map(|c| path.strip_prefix(c).or(absolute.strip_prefix(c)).ok());
            match inside {
                Some(relative) => {
                    if let Some(listing) = &mut self.listing {
                        listing.changed(content_dir.join(relative));
                    }
                }
                None if roots
                    .iter()
                    .any(|r| path.starts_with(r) || absolute.starts_with(r)) =>
                {
                    only_content = false;
                }
                None => {
                    self.listing = None;
                    only_content = false;
                }
            }
        }
        only_content
    }

    pub fn remove(&mut self, file: &Path) {
        self.entries.remove(file);
    }

    /// Moves `file`'s entry over from the cache it was found in.
    pub fn keep(&mut self, file: PathBuf, from: &mut DocumentCache) {
        if let Some(entry) = from.entries.remove(&file) {
            self.entries.insert(file, entry);
        }
    }

    /// Notes `doc`, read from `file` just now, whose metadata was taken
    /// before it was read.
    pub fn insert(
        &mut self,
        file: PathBuf,
        metadata: &std::fs::Metadata,
        read_at: SystemTime,
        doc: Document,
    ) {
        if let Some(stamp) = stamp(metadata) {
            self.entries.insert(
                file,
                Entry {
                    stamp,
                    read_at,
                    doc,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::urls::ContentPath;

    #[test]
    fn a_file_is_reused_only_when_unchanged_and_settled() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("a.md");
        std::fs::write(&file, "---\ntitle: T\n---\n")?;
        let doc = Document::parse(
            ContentPath::from_parts(vec!["a.md".into()]),
            file.clone(),
            "---\ntitle: T\n---\n",
        )
        .map_err(|d| d.to_string())?;
        let metadata = std::fs::metadata(&file)?;
        let mut cache = DocumentCache::default();
        // Read in the same tick as the write: not trusted.
        cache.insert(file.clone(), &metadata, SystemTime::now(), doc.clone());
        assert!(cache.get(&file, &metadata).is_none());
        let later = SystemTime::now() + RACY * 2;
        cache.insert(file.clone(), &metadata, later, doc);
        assert!(cache.get(&file, &metadata).is_some());
        std::fs::write(&file, "---\ntitle: TT\n---\n")?;
        assert!(cache.get(&file, &std::fs::metadata(&file)?).is_none());
        Ok(())
    }
}
