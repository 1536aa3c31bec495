//! The search index, written while the pages are: each page's text is
//! folded and cut as it is rendered, its file written at once, and only
//! its terms kept. The files go into a folder whose name is known only
//! at the end (a digest of all of them), so they are written under
//! another name and the folder is renamed when the index is complete.
//!
//! Under `serve` the index of the last build is updated in place: only
//! pages whose text, title or address changed are folded again, and only
//! the shards of their terms are written, into the last build's folder,
//! which then takes its new name.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::build::Site;
use crate::diagnostics::Diagnostic;
use crate::output::Sink;
use crate::search::{self, Block, FoldTable, Index, PageEntry, SearchDoc};

/// Where a new index's files are written until its name is known.
const BUILDING: &str = "search/.building";

/// What a build under `serve` keeps of its index for the next.
pub struct SearchCache {
    index: Index,
    /// Per document, the digest of what its entry was made from.
    keys: Vec<u64>,
    dir: PathBuf,
}

/// A document's address, title and section, as its result shows them.
pub type Names<'a> = (&'a str, &'a str, &'a str);

/// The digest of what a document's entry is made from: its names and
/// `source`, a digest of its text.
pub fn entry_key(names: Names<'_>, source: impl Hash) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    (names, source).hash(&mut hasher);
    hasher.finish()
}

/// The index of one build, from its first page to its last file.
pub struct IndexRun {
    make: Maker,
    take: Taker,
    synonyms: Vec<Vec<String>>,
}

/// What making a page's entry needs: shared by the threads that render,
/// while the pages rendered before are added to the index.
pub struct Maker {
    fold: &'static FoldTable,
    config_file: PathBuf,
    /// Where files are written until the folder takes its name.
    dir: PathBuf,
    /// Updating the last build's index rather than making one.
    updating: bool,
    /// The last build's digest of each document's entry, when updating.
    keys: Vec<u64>,
}

/// What takes the entries, in document order.
pub struct Taker {
    index: Index,
    /// This build's digest of each document's entry, when made anew and
    /// tracked.
    keys: Vec<u64>,
    /// Keep the index for the next build.
    track: bool,
    /// Updating the last build's index: the changed entries, held until
    /// every page has been rendered, so a failed build leaves it as it was.
    changed: Option<Vec<(usize, u64, PageEntry)>>,
    config_file: PathBuf,
}

/// The index's folder once written, and the files of the last build's
/// folder that it no longer has.
pub struct Finished {
    pub id: String,
    pub dir: PathBuf,
    pub stale: Vec<PathBuf>,
}

impl IndexRun {
    /// `None` when the site has no search. `last` is taken when its index
    /// can be updated (the same number of documents); `track` keeps this
    /// one's for the next build.
    pub fn start(
        site: &Site,
        last: &mut Option<SearchCache>,
        track: bool,
    ) -> Result<Option<IndexRun>, Diagnostic> {
        if !site.config.search.enabled {
            return Ok(None);
        }
        let config_file = site.root.join(config::FILE_NAME);
        let (fold, synonyms) = search::matching(&site.config.search.synonyms)
            .map_err(|e| Diagnostic::new(&config_file, None, e.to_string()))?;
        let docs = site.content.sections.len() + site.content.pages.len();
        let reusable = last
            .as_ref()
            .is_some_and(|c| c.index.is_incremental() && c.index.docs() == docs);
        let run = match last.take().filter(|_| reusable && track) {
            Some(cache) => IndexRun {
                make: Maker {
                    fold,
                    config_file: config_file.clone(),
                    dir: cache.dir,
                    updating: true,
                    keys: cache.keys,
                },
                take: Taker {
                    index: cache.index,
                    keys: Vec::new(),
                    track,
                    changed: Some(Vec::new()),
                    config_file,
                },
                synonyms,
            },
            None => IndexRun {
                make: Maker {
                    fold,
                    config_file: config_file.clone(),
                    dir: PathBuf::from(BUILDING),
                    updating: false,
                    keys: Vec::new(),
                },
                take: Taker {
                    index: Index::new(track),
                    keys: Vec::new(),
                    track,
                    changed: None,
                    config_file,
                },
                synonyms,
            },
        };
        Ok(Some(run))
    }

    /// Lets `sink` put the last build's index files where this one's are
    /// written, when this one is made from scratch.
    pub fn prepare(&self, sink: &dyn Sink) {
        if !self.make.updating {
            sink.reuse_sibling(&self.make.dir);
        }
    }

    /// The part that makes entries and the part that takes them, to be
    /// used at once on different threads.
    pub fn parts(&mut self) -> (&Maker, &mut Taker) {
        (&self.make, &mut self.take)
    }

    /// See [`Maker::needs`].
    pub fn needs(&self, n: usize, key: u64) -> bool {
        self.make.needs(n, key)
    }

    /// See [`Maker::entry`].
    pub fn entry(
        &self,
        sink: &dyn Sink,
        n: usize,
        names: Names<'_>,
        blocks: Vec<Block>,
    ) -> Result<PageEntry, Diagnostic> {
        self.make.entry(sink, n, names, blocks)
    }

    /// See [`Taker::add`].
    pub fn add(&mut self, n: usize, key: u64, entry: PageEntry) -> Result<(), Diagnostic> {
        self.take.add(n, key, entry)
    }

    /// The last build's index, untouched, after a build that failed.
    pub fn abandon(self) -> Option<SearchCache> {
        self.make.updating.then_some(SearchCache {
            index: self.take.index,
            keys: self.make.keys,
            dir: self.make.dir,
        })
    }

    /// Writes what changed (a new index: everything) and gives the folder
    /// its name; returns it, with the index to keep when tracking.
    pub fn finish(self, sink: &dyn Sink) -> Result<(Finished, Option<SearchCache>), Diagnostic> {
        let IndexRun {
            make,
            mut take,
            synonyms,
        } = self;
        let mut phases = crate::timing::Phases::start("search index");
        let before: Vec<String> = match take.changed {
            Some(_) => take.index.file_names().map(str::to_owned).collect(),
            None => Vec::new(),
        };
        let mut keys = if make.updating { make.keys } else { take.keys };
        for (n, key, entry) in take.changed.take().unwrap_or_default() {
            sink.write(&make.dir.join(Index::page_file(n)), entry.file())
                .map_err(|e| problem(&make.config_file, e))?;
            take.index
                .replace(n, entry)
                .map_err(|e| problem(&make.config_file, e))?;
            if let Some(slot) = keys.get_mut(n) {
                *slot = key;
            }
        }
        phases.lap("pages replaced");
        let dir = make.dir.clone();
        let id = take
            .index
            .write(make.fold, &synonyms, &mut |name: &str, bytes: &[u8]| {
                sink.write(&dir.join(name), bytes)
            })
            .map_err(|e| problem(&make.config_file, e))?;
        let named = Path::new("search").join(&id);
        if named != make.dir {
            sink.rename(&make.dir, &named)
                .map_err(|e| problem(&make.config_file, e))?;
        }
        let now: std::collections::HashSet<&str> = take.index.file_names().collect();
        let stale = before
            .iter()
            .filter(|name| !now.contains(name.as_str()))
            .map(|name| named.join(name))
            .collect();
        let finished = Finished {
            id,
            dir: named.clone(),
            stale,
        };
        let cache = take.track.then_some(SearchCache {
            index: take.index,
            keys,
            dir: named,
        });
        Ok((finished, cache))
    }
}

fn problem(config_file: &Path, message: impl ToString) -> Diagnostic {
    Diagnostic::new(config_file, None, message.to_string())
}

impl Maker {
    /// Document `n`, made from what `key` digests, needs a new entry.
    pub fn needs(&self, n: usize, key: u64) -> bool {
        !self.updating || self.keys.get(n) != Some(&key)
    }

    /// Document `n`'s entry; for any thread. A new index's page file is
    /// written at once.
    pub fn entry(
        &self,
        sink: &dyn Sink,
        n: usize,
        (url, title, section): Names<'_>,
        blocks: Vec<Block>,
    ) -> Result<PageEntry, Diagnostic> {
        let doc = SearchDoc {
            url: url.to_owned(),
            title: title.to_owned(),
            section: section.to_owned(),
            blocks,
        };
        let entry =
            search::page_entry(&doc, self.fold).map_err(|e| problem(&self.config_file, e))?;
        if !self.updating {
            let file = self.dir.join(Index::page_file(n));
            sink.write(&file, entry.file())
                .map_err(|e| problem(&self.config_file, e))?;
        }
        Ok(entry)
    }
}

impl Taker {
    /// Takes document `n`'s entry; a new index takes them in order.
    pub fn add(&mut self, n: usize, key: u64, entry: PageEntry) -> Result<(), Diagnostic> {
        if let Some(changed) = &mut self.changed {
            changed.push((n, key, entry));
            return Ok(());
        }
        self.index
            .add(entry)
            .map_err(|e| problem(&self.config_file, e))?;
        if self.track {
            self.keys.push(key);
        }
        Ok(())
    }
}
