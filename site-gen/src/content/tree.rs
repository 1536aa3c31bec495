//! Reading `content/` and arranging its files into sections.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::content::cache::DocumentCache;
use crate::content::document::Document;
use crate::diagnostics::Diagnostic;
use crate::urls::{ContentPath, SECTION_INDEX};

/// The folder of notices: newest first, and they expire.
pub const NOTICES_DIR: &str = "notices";
/// The folder of form definitions, which are not pages.
pub const FORMS_DIR: &str = "forms";

/// A folder with an `_index.md`, and what is in it.
#[derive(Debug)]
pub struct SectionNode {
    pub doc: Document,
    /// Indices into [`Content::pages`], in reading order.
    pub pages: Vec<usize>,
    /// Indices into [`Content::sections`], in reading order.
    pub subsections: Vec<usize>,
    pub parent: Option<usize>,
}

impl SectionNode {
    pub fn is_notices(&self) -> bool {
        self.doc.path.dir() == [NOTICES_DIR]
    }
}

#[derive(Debug)]
pub struct Content {
    /// The home page's section (`content/_index.md`) comes first.
    pub sections: Vec<SectionNode>,
    pub pages: Vec<Document>,
    /// Which section each page belongs to.
    pub page_section: Vec<usize>,
    /// Files other than Markdown, copied beside the pages.
    pub assets: Vec<(ContentPath, PathBuf)>,
    /// Markdown files that could not be read; links to them are not
    /// reported again as broken.
    pub unreadable: Vec<ContentPath>,
}

/// Reads every file under `content_dir` and arranges the Markdown files
/// into sections. Drafts are left out unless `drafts` is set. Whatever can
/// be read is returned with the problems found, so one run reports them all;
/// there is no content at all only when the home page is missing.
pub fn load(content_dir: &Path, drafts: bool) -> (Option<Content>, Vec<Diagnostic>) {
    let (content, diagnostics, _) = load_cached(content_dir, drafts, None);
    (content, diagnostics)
}

/// [`load`], parsing again only the files that changed since `cache` was
/// made; with a cache, returns the cache of this load.
///
/// When the cache holds the last load's listing of the folder and every
/// change since (see [`DocumentCache::note_changed`]), only the changed
/// paths are looked at again: the other files are neither walked nor
/// stat'ed, which on 10,000 files is most of a rebuild's time.
pub fn load_cached(
    content_dir: &Path,
    drafts: bool,
    cache: Option<DocumentCache>,
) -> (Option<Content>, Vec<Diagnostic>, Option<DocumentCache>) {
    let keep = cache.is_some();
    let mut phases = crate::timing::Phases::start("content");
    let mut cache = cache.unwrap_or_default();
    let (listing, fresh) = match cache.take_listing() {
        Some(mut listing) => {
            let (fresh, gone) = listing.update(content_dir);
            for file in gone {
                cache.remove(&file);
            }
            (listing, Some(fresh))
        }
        None => (Listing::walk(content_dir), None),
    };
    // Every change known: the cache is brought up to date where it is,
    // rather than each of its documents moved into a new one.
    let in_place = fresh.is_some();
    let mut diagnostics = listing.problems.clone();
    let mut markdown = Vec::new();
    let mut assets = Vec::new();
    for (file, path) in &listing.files {
        if path.is_markdown() {
            markdown.push((path, file.as_path()));
        } else {
            assets.push((path.clone(), file.clone()));
        }
    }
    phases.lap("listed");
    let parsed: Vec<(Result<Document, Diagnostic>, Seen)> = markdown
        .par_iter()
        .map(|(path, file)| {
            if !keep {
                return (
                    Document::from_file(ContentPath::clone(path), file),
                    Seen::Untracked,
                );
            }
            // Every change is known: a file not among them is as it was.
            if let Some(fresh) = &fresh
                && !fresh.contains(*file)
                && let Some(doc) = cache.get_unchanged(file)
            {
                return (Ok(doc.clone()), Seen::Reused);
            }
            let Ok(metadata) = std::fs::metadata(file) else {
                return (
                    Document::from_file(ContentPath::clone(path), file),
                    Seen::Untracked,
                );
            };
            if fresh.is_none()
                && let Some(doc) = cache.get(file, &metadata)
            {
                return (Ok(doc.clone()), Seen::Reused);
            }
            let read_at = std::time::SystemTime::now();
            (
                Document::from_file(ContentPath::clone(path), file),
                Seen::Read(metadata, read_at),
            )
        })
        .collect();
    phases.lap("read");
    let mut documents = Vec::with_capacity(parsed.len());
    let mut unreadable = Vec::new();
    let mut next_cache = match in_place {
        true => std::mem::take(&mut cache),
        false => DocumentCache::default(),
    };
    for ((result, seen), (path, file)) in parsed.into_iter().zip(markdown) {
        match (&result, seen) {
            (Ok(doc), Seen::Read(metadata, read_at)) => {
                next_cache.insert(file.to_owned(), &metadata, read_at, doc.clone())
            }
            (Ok(_), Seen::Reused) if !in_place => next_cache.keep(file.to_owned(), &mut cache),
            // Not to be taken for this file's document next time.
            (Err(_), _) if in_place => next_cache.remove(file),
            _ => {}
        }
        match result {
            Ok(doc) if doc.meta.draft && !drafts => {}
            Ok(doc) => documents.push(doc),
            Err(d) => {
                diagnostics.push(d);
                unreadable.push(path.clone());
            }
        }
    }
    phases.lap("cached");
    let (content, mut more) = arrange(content_dir, documents, assets);
    diagnostics.append(&mut more);
    phases.lap("arranged");
    next_cache.set_listing(listing);
    (
        content.map(|c| Content { unreadable, ..c }),
        diagnostics,
        keep.then_some(next_cache),
    )
}

/// How a load came by a document.
enum Seen {
    /// Read now; its metadata was taken before the read.
    Read(std::fs::Metadata, std::time::SystemTime),
    /// The last load's, unchanged.
    Reused,
    /// Read without a cache to note it in (or its metadata unreadable).
    Untracked,
}

/// The files under `content/` as the last load found them, in the order a
/// walk sorted by name visits them (which is `Path`'s order, component by
/// component), with the problems the walk met.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Markdown files and assets, by file.
    files: BTreeMap<PathBuf, ContentPath>,
    problems: Vec<Diagnostic>,
    /// Paths changed since: each is looked at again, with all under it.
    changed: BTreeSet<PathBuf>,
}

impl Listing {
    /// Walks the whole of `content_dir`.
    fn walk(content_dir: &Path) -> Listing {
        let mut listing = Listing::default();
        listing.walk_from(content_dir, content_dir, &mut HashSet::new());
        listing
    }

    /// Notes that `path` (under the content folder) changed.
    pub fn changed(&mut self, path: PathBuf) {
        self.changed.insert(path);
    }

    /// Looks again at every changed path; returns the files found under
    /// them, which are to be read again, and those no longer there.
    fn update(&mut self, content_dir: &Path) -> (HashSet<PathBuf>, Vec<PathBuf>) {
        let changed = std::mem::take(&mut self.changed);
        let mut fresh = HashSet::new();
        let mut removed = Vec::new();
        let mut last: Option<&Path> = None;
        // In `Path` order a folder's contents come right after it, so a
        // path inside one just looked at is skipped.
        for root in &changed {
            if last.is_some_and(|l| root.starts_with(l)) {
                continue;
            }
            last = Some(root);
            let gone: Vec<PathBuf> = self
                .files
                .range::<Path, _>((
                    std::ops::Bound::Included(root.as_path()),
                    std::ops::Bound::Unbounded,
                ))
                .take_while(|(file, _)| file.starts_with(root))
                .map(|(file, _)| file.clone())
                .collect();
            for file in gone {
                self.files.remove(&file);
                removed.push(file);
            }
            self.problems.retain(|d| !d.file.starts_with(root));
            let gone = std::fs::symlink_metadata(root)
                .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound);
            if gone {
                // Removed or renamed away: nothing there to list.
                continue;
            }
            if root.as_path() == content_dir {
                self.walk_from(content_dir, content_dir, &mut fresh);
            } else if walked_to(content_dir, root) {
                self.walk_from(content_dir, root, &mut fresh);
            }
        }
        self.problems.sort_by(|a, b| a.file.cmp(&b.file));
        removed.retain(|file| !self.files.contains_key(file));
        (fresh, removed)
    }

    /// Lists what is at and under `start`, noting each file in `found`.
    fn walk_from(&mut self, content_dir: &Path, start: &Path, found: &mut HashSet<PathBuf>) {
        let walker = walkdir::WalkDir::new(start)
            // The content folder itself may be a link; nothing inside it.
            .follow_root_links(start == content_dir)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let relative = e.path().strip_prefix(content_dir).unwrap_or(e.path());
                !left_out(relative, e.file_type().is_dir())
            });
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e.path().unwrap_or(start).to_owned();
                    self.problems
                        .push(Diagnostic::new(path, None, format!("cannot read: {e}")));
                    continue;
                }
            };
            if entry.path_is_symlink() {
                // Not followed: a link could bring in files from anywhere on
                // the machine. Said, so a missing page is not a mystery.
                eprintln!(
                    "warning: {}: is a symbolic link, which site-gen does not follow; it is left out of the site\n  help: copy the file or folder into content/ instead",
                    entry.path().display()
                );
                continue;
            }
            if !entry.file_type().is_file() {
                continue;
            }
            let file = entry.path().to_owned();
            let relative = file.strip_prefix(content_dir).unwrap_or(&file);
            let Some(path) = ContentPath::new(relative) else {
                self.problems.push(
                    Diagnostic::new(&file, None, "the file name is not valid UTF-8")
                        .help("rename the file using ordinary characters"),
                );
                continue;
            };
            found.insert(file.clone());
            self.files.insert(file, path);
        }
    }
}

/// Hidden files and folders, and the forms' folder, are no content.
/// `relative` is to the content folder.
fn left_out(relative: &Path, is_dir: bool) -> bool {
    let mut parts = relative.components();
    let Some(first) = parts.next() else {
        return false;
    };
    let name = relative.file_name().map(|n| n.to_string_lossy());
    let hidden = name.is_some_and(|n| n.starts_with('.'));
    let forms = first.as_os_str() == FORMS_DIR && (is_dir || parts.next().is_some());
    hidden || forms
}

/// Whether a walk of the content folder would reach `path`: no folder on
/// the way is hidden, the forms' folder or a link (never followed).
fn walked_to(content_dir: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(content_dir) else {
        return false;
    };
    let mut at = content_dir.to_owned();
    let mut parts = relative.components().peekable();
    while let Some(part) = parts.next() {
        at.push(part);
        if parts.peek().is_none() {
            // `path` itself: the walk decides, as it would.
            return true;
        }
        let relative_at = at.strip_prefix(content_dir).unwrap_or(&at);
        let is_link = std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink());
        if is_link || left_out(relative_at, true) {
            return false;
        }
    }
    true
}

/// Puts every page in its section and every section in its parent, in
/// reading order; a file with no section is left out and reported.
pub fn arrange(
    content_dir: &Path,
    documents: Vec<Document>,
    assets: Vec<(ContentPath, PathBuf)>,
) -> (Option<Content>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let (indexes, pages): (Vec<Document>, Vec<Document>) = documents
        .into_iter()
        .partition(|d| d.path.is_section_index());
    let mut sections: Vec<SectionNode> = Vec::new();
    let mut by_dir: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    let mut ordered_indexes = indexes;
    // Parents before children, the root first.
    ordered_indexes.sort_by(|a, b| {
        a.path
            .dir()
            .len()
            .cmp(&b.path.dir().len())
            .then(a.path.cmp(&b.path))
    });
    for doc in ordered_indexes {
        let dir = doc.path.dir().to_vec();
        let parent = if dir.is_empty() {
            None
        } else {
            let parent_dir = &dir[..dir.len() - 1];
            match by_dir.get(parent_dir) {
                Some(&p) => Some(p),
                None => {
                    diagnostics.push(missing_index(content_dir, parent_dir, &doc.file));
                    continue;
                }
            }
        };
        if doc.meta.expires.is_some() {
            diagnostics.push(expires_outside_notices(&doc));
        }
        by_dir.insert(dir, sections.len());
        sections.push(SectionNode {
            doc,
            pages: Vec::new(),
            subsections: Vec::new(),
            parent,
        });
    }
    if !by_dir.contains_key(&Vec::new()) {
        diagnostics.push(
            Diagnostic::new(
                content_dir.join(SECTION_INDEX),
                None,
                "the home page is missing",
            )
            .help("create content/_index.md with a `title` in its front matter"),
        );
        return (None, diagnostics);
    }
    let mut page_section = Vec::with_capacity(pages.len());
    let mut kept_pages = Vec::with_capacity(pages.len());
    for doc in pages {
        let Some(&section) = by_dir.get(doc.path.dir()) else {
            diagnostics.push(missing_index(content_dir, doc.path.dir(), &doc.file));
            continue;
        };
        if doc.meta.expires.is_some() && !sections[section].is_notices() {
            diagnostics.push(expires_outside_notices(&doc));
        }
        sections[section].pages.push(kept_pages.len());
        page_section.push(section);
        kept_pages.push(doc);
    }
    for i in 0..sections.len() {
        if let Some(parent) = sections[i].parent {
            sections[parent].subsections.push(i);
        }
    }
    for i in 0..sections.len() {
        let notices = sections[i].is_notices();
        let mut order = std::mem::take(&mut sections[i].pages);
        order.sort_by(|&a, &b| reading_order(&kept_pages[a], &kept_pages[b], notices));
        sections[i].pages = order;
        let mut subs = std::mem::take(&mut sections[i].subsections);
        subs.sort_by(|&a, &b| reading_order(&sections[a].doc, &sections[b].doc, false));
        sections[i].subsections = subs;
    }
    let content = Content {
        sections,
        pages: kept_pages,
        page_section,
        assets,
        unreadable: Vec::new(),
    };
    (Some(content), diagnostics)
}

/// Notices: newest first. Everything else: by weight, unweighted last,
/// then by file name so the order never depends on the file system.
fn reading_order(a: &Document, b: &Document, newest_first: bool) -> Ordering {
    if newest_first {
        return b
            .meta
            .date
            .cmp(&a.meta.date)
            .then_with(|| b.path.cmp(&a.path));
    }
    let weight = |d: &Document| d.meta.weight.unwrap_or(i64::MAX);
    weight(a).cmp(&weight(b)).then_with(|| a.path.cmp(&b.path))
}

fn missing_index(content_dir: &Path, dir: &[String], file: &Path) -> Diagnostic {
    let folder: PathBuf = std::iter::once(content_dir.to_owned())
        .chain(dir.iter().map(PathBuf::from))
        .collect();
    Diagnostic::new(
        file,
        None,
        format!(
            "the folder {} has no _index.md, so this file belongs to no section",
            folder.display()
        ),
    )
    .help(format!(
        "create {} with a `title` for the section",
        folder.join(SECTION_INDEX).display()
    ))
}

fn expires_outside_notices(doc: &Document) -> Diagnostic {
    Diagnostic::new(
        &doc.file,
        doc.line_of("expires"),
        "`expires` only applies to notices",
    )
    .help(format!(
        "move the file under content/{NOTICES_DIR}/ or remove `expires`"
    ))
}
