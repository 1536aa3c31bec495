//! Files: built into a staging folder beside the output, then swapped in
//! whole, so a failed build leaves the previous site exactly as it was.
//!
//! The build before last is kept beside the output (`.public.old`) and
//! becomes the next staging folder: a file whose bytes are already there
//! is left alone, so an unchanged page costs a read instead of creating a
//! file (on a journalled file system, creating and deleting 30,000 files
//! costs several times more than rendering them).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::diagnostics::Error;

/// Marks a folder as made by site-gen, so it may be replaced.
const MARKER: &str = ".site-gen";

/// Where a build writes its files.
pub trait Sink: Sync {
    /// `relative` is always built from plain names (see `ContentPath`).
    fn write(&self, relative: &Path, bytes: &[u8]) -> Result<(), Error>;
    fn copy(&self, relative: &Path, from: &Path) -> Result<(), Error>;
    /// Moves a folder written before to another name (replacing a folder
    /// of that name), so files can be written before their folder's name
    /// is known.
    fn rename(&self, from: &Path, to: &Path) -> Result<(), Error>;
    /// `folder` is about to be filled and then renamed to a new name in
    /// the same parent: a sink holding an earlier build may move that
    /// build's folder there, so its unchanged files need no write.
    fn reuse_sibling(&self, _folder: &Path) {}
}

/// `site-gen check`: renders everything, writes nothing.
pub struct Discard;

impl Sink for Discard {
    fn write(&self, _: &Path, _: &[u8]) -> Result<(), Error> {
        Ok(())
    }

    fn copy(&self, _: &Path, from: &Path) -> Result<(), Error> {
        fs::metadata(from)
            .map(|_| ())
            .map_err(|source| Error::Read {
                path: from.to_owned(),
                source,
            })
    }

    fn rename(&self, _: &Path, _: &Path) -> Result<(), Error> {
        Ok(())
    }
}

/// A folder being built beside the output folder.
pub struct Staging {
    target: PathBuf,
    dir: PathBuf,
    /// Where the build before this one is kept, to be the next staging.
    old: PathBuf,
    /// `dir` holds an earlier build's files: those this build does not
    /// write are removed before the swap.
    recycled: bool,
    /// Every file this build wrote or found already written, when recycled.
    written: Mutex<rustc_hash::FxHashSet<PathBuf>>,
    committed: bool,
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path = path.to_owned();
    move |source| Error::Write { path, source }
}

impl Staging {
    /// Prepares to replace `target`. Refuses a target that holds the site's
    /// own sources or that site-gen did not make.
    pub fn create(target: &Path, root: &Path) -> Result<Staging, Error> {
        let target = absolute(target);
        let root = absolute(root);
        if root.starts_with(&target) {
            return Err(Error::Output(format!(
                "refusing to build into {}: it contains the site's own files; choose a folder such as {}",
                target.display(),
                root.join("public").display()
            )));
        }
        for source in ["content", "themes", "templates", "static"] {
            if target.starts_with(root.join(source)) {
                return Err(Error::Output(format!(
                    "refusing to build into {}: it is inside the site's {source}/ folder",
                    target.display()
                )));
            }
        }
        if target.exists() && !target.is_dir() {
            return Err(Error::Output(format!(
                "refusing to build into {}: it is a file, not a folder; choose another --out",
                target.display()
            )));
        }
        if target.is_dir() && !target.join(MARKER).exists() && !is_empty_dir(&target) {
            return Err(Error::Output(format!(
                "refusing to replace {}: it is not empty and was not made by site-gen; choose another --out or empty it",
                target.display()
            )));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "public".into());
        let parent = target.parent().unwrap_or(Path::new("."));
        let dir = parent.join(format!(".{name}.building"));
        let old = parent.join(format!(".{name}.old"));
        // An interrupted build's folder, else the build before last: any
        // folder of ours will do, since every file is compared or removed.
        let ours = |folder: &Path| folder.join(MARKER).is_file();
        if !ours(&dir) && ours(&old) {
            fs::rename(&old, &dir).map_err(write_error(&old))?;
        }
        let recycled = ours(&dir);
        if !recycled {
            if dir.exists() {
                fs::remove_dir_all(&dir).map_err(write_error(&dir))?;
            }
            fs::create_dir_all(&dir).map_err(write_error(&dir))?;
        }
        let staging = Staging {
            target,
            dir,
            old,
            recycled,
            written: Mutex::new(Default::default()),
            committed: false,
        };
        staging.write(
            Path::new(MARKER),
            b"made by site-gen; the whole folder is replaced on every build\n",
        )?;
        Ok(staging)
    }

    /// Swaps the finished folder in for the old one, which is kept for
    /// the next build to recycle.
    pub fn commit(mut self) -> Result<(), Error> {
        if self.recycled {
            self.remove_unwritten()?;
        }
        if self.old.exists() {
            fs::remove_dir_all(&self.old).map_err(write_error(&self.old))?;
        }
        if self.target.exists() {
            fs::rename(&self.target, &self.old).map_err(write_error(&self.target))?;
        }
        fs::rename(&self.dir, &self.target).map_err(write_error(&self.target))?;
        self.committed = true;
        Ok(())
    }

    /// Removes what an earlier build left in the folder and this one did
    /// not write, and the folders left empty.
    fn remove_unwritten(&mut self) -> Result<(), Error> {
        let written = std::mem::take(self.written.get_mut().unwrap_or_else(|e| e.into_inner()));
        // A folder stays when something written is inside it; known from
        // the paths, so no folder is opened again to see if it is empty.
        let kept: HashSet<&Path> = written.iter().flat_map(|p| p.ancestors()).collect();
        for entry in walkdir::WalkDir::new(&self.dir).contents_first(true) {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(&self.dir).to_owned();
                Error::Write {
                    path,
                    source: e.into(),
                }
            })?;
            let path = entry.path();
            let Ok(relative) = path.strip_prefix(&self.dir) else {
                continue;
            };
            if entry.file_type().is_dir() {
                // Its contents came first, so a folder not kept is empty.
                if !kept.contains(relative) {
                    fs::remove_dir(path).map_err(write_error(path))?;
                }
            } else if !written.contains(relative) {
                fs::remove_file(path).map_err(write_error(path))?;
            }
        }
        Ok(())
    }

    fn note(&self, relative: &Path) {
        if self.recycled
            && let Ok(mut written) = self.written.lock()
        {
            written.insert(relative.to_owned());
        }
    }

    /// Runs `fill` on `relative`'s path, making its folders when missing
    /// (most exist in a recycled folder, so they are not made first).
    fn place(
        &self,
        relative: &Path,
        fill: impl Fn(&Path) -> std::io::Result<()>,
    ) -> Result<(), Error> {
        let path = self.dir.join(relative);
        let result = match fill(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(write_error(parent))?;
                }
                fill(&path)
            }
            other => other,
        };
        result.map_err(write_error(&path))?;
        self.note(relative);
        Ok(())
    }
}

/// Whether `path` holds exactly `bytes`.
fn holds(path: &Path, bytes: &[u8]) -> bool {
    let Ok(mut file) = fs::File::open(path) else {
        return false;
    };
    if file.metadata().map(|m| m.len()).ok() != Some(bytes.len() as u64) {
        return false;
    }
    let mut found = Vec::with_capacity(bytes.len());
    file.read_to_end(&mut found).is_ok() && found == bytes
}

impl Sink for Staging {
    fn write(&self, relative: &Path, bytes: &[u8]) -> Result<(), Error> {
        if self.recycled && holds(&self.dir.join(relative), bytes) {
            self.note(relative);
            return Ok(());
        }
        self.place(relative, |path| fs::write(path, bytes))
    }

    fn copy(&self, relative: &Path, from: &Path) -> Result<(), Error> {
        if !from.is_file() {
            return Err(Error::Read {
                path: from.to_owned(),
                source: std::io::Error::new(ErrorKind::NotFound, "not a file"),
            });
        }
        self.place(relative, |path| fs::copy(from, path).map(|_| ()))
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<(), Error> {
        let target = self.dir.join(to);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(write_error(parent))?;
        }
        move_folder(&self.dir.join(from), &target)?;
        if self.recycled
            && let Ok(mut written) = self.written.lock()
        {
            // What was written under `from` is now under `to`.
            let moved: Vec<PathBuf> = written
                .iter()
                .filter_map(|p| Some(to.join(p.strip_prefix(from).ok()?)))
                .collect();
            written.retain(|p| !p.starts_with(from));
            written.extend(moved);
        }
        Ok(())
    }

    fn reuse_sibling(&self, folder: &Path) {
        let target = self.dir.join(folder);
        if !self.recycled || target.exists() {
            return;
        }
        let Some(parent) = target.parent() else {
            return;
        };
        let earlier = fs::read_dir(parent)
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| {
                e.file_type().is_ok_and(|t| t.is_dir())
                    && !e.file_name().to_string_lossy().starts_with('.')
            });
        if let Some(earlier) = earlier {
            // At worst the files are written afresh.
            let _ = fs::rename(earlier.path(), &target);
        }
    }
}

/// Renames `from` to `to`, replacing whatever `to` was.
fn move_folder(from: &Path, to: &Path) -> Result<(), Error> {
    if to.exists() {
        fs::remove_dir_all(to).map_err(write_error(to))?;
    }
    fs::rename(from, to).map_err(write_error(to))
}

impl Drop for Staging {
    /// An abandoned build leaves the output alone; its folder is kept for
    /// the next build to recycle, under the name the next build looks for.
    fn drop(&mut self) {
        if !self.committed && fs::rename(&self.dir, &self.old).is_err() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Files held back until the whole rebuild has succeeded, then written
/// into the live folder in place (for `serve`, where only a few files
/// change per edit and the swap of a whole folder would cost more than the
/// rebuild).
#[derive(Default)]
pub struct Pending {
    /// In the order they were asked for: a folder is renamed only after
    /// the files written into it.
    steps: Mutex<Vec<Step>>,
}

enum Step {
    Write(PathBuf, Vec<u8>),
    Copy(PathBuf, PathBuf),
    Rename(PathBuf, PathBuf),
}

impl Pending {
    fn hold(&self, step: Step) {
        if let Ok(mut steps) = self.steps.lock() {
            steps.push(step);
        }
    }
}

impl Sink for Pending {
    fn write(&self, relative: &Path, bytes: &[u8]) -> Result<(), Error> {
        self.hold(Step::Write(relative.to_owned(), bytes.to_vec()));
        Ok(())
    }

    fn copy(&self, relative: &Path, from: &Path) -> Result<(), Error> {
        self.hold(Step::Copy(relative.to_owned(), from.to_owned()));
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<(), Error> {
        self.hold(Step::Rename(from.to_owned(), to.to_owned()));
        Ok(())
    }
}

impl Pending {
    /// Writes everything held into `dir` and removes `stale` files and
    /// folders. A file that already holds the bytes is left alone. A page
    /// is replaced whole (written beside, then renamed), since open
    /// pages load it again at once; any other file that exists is
    /// overwritten in place, which costs several times less than making a
    /// file (the search index's shards: an edit can change hundreds).
    pub fn apply(self, dir: &Path, stale: impl Iterator<Item = PathBuf>) -> Result<(), Error> {
        let steps = self.steps.into_inner().unwrap_or_default();
        let mut run: Vec<&Step> = Vec::new();
        for step in &steps {
            if let Step::Rename(from, to) = step {
                // A folder is renamed after what was written into it.
                write_all(dir, &run)?;
                run.clear();
                move_folder(&dir.join(from), &dir.join(to))?;
            } else {
                run.push(step);
            }
        }
        write_all(dir, &run)?;
        for relative in stale {
            let path = dir.join(&relative);
            let _ = match path.is_dir() {
                true => fs::remove_dir_all(&path),
                false => fs::remove_file(&path),
            };
            // A page's folder goes with its last file (a removed page, a
            // renamed folder), as it would from a full build's output.
            for folder in relative.ancestors().skip(1) {
                if folder.as_os_str().is_empty() || fs::remove_dir(dir.join(folder)).is_err() {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Carries out writes and copies into `dir`, in parallel: no two of one
/// build name the same file.
fn write_all(dir: &Path, steps: &[&Step]) -> Result<(), Error> {
    use rayon::prelude::*;
    // Should a file be asked for twice, the last bytes are the ones kept.
    let mut last: HashMap<&Path, usize> = HashMap::new();
    for (at, step) in steps.iter().enumerate() {
        if let Step::Write(relative, _) | Step::Copy(relative, _) = step {
            last.insert(relative, at);
        }
    }
    let steps: Vec<&Step> = steps
        .iter()
        .enumerate()
        .filter(|(at, step)| match step {
            Step::Write(relative, _) | Step::Copy(relative, _) => {
                last.get(relative.as_path()) == Some(at)
            }
            Step::Rename(..) => false,
        })
        .map(|(_, step)| *step)
        .collect();
    steps.par_iter().try_for_each(|step| match step {
        Step::Write(relative, bytes) => write_into(&dir.join(relative), bytes),
        Step::Copy(relative, from) => {
            let target = dir.join(relative);
            if same_file_content(from, &target) {
                return Ok(());
            }
            replace_whole(&target, &|path| fs::copy(from, path).map(|_| ()))
        }
        Step::Rename(..) => Ok(()),
    })
}

/// Writes `bytes` to `target` unless it holds them already.
fn write_into(target: &Path, bytes: &[u8]) -> Result<(), Error> {
    let page = target.extension().is_some_and(|e| e == "html");
    if !page {
        match fs::OpenOptions::new().read(true).write(true).open(target) {
            Ok(mut file) => return overwrite(&mut file, bytes).map_err(write_error(target)),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(write_error(target)(e)),
        }
    } else if holds(target, bytes) {
        return Ok(());
    }
    replace_whole(target, &|path| fs::write(path, bytes))
}

/// Makes `file` hold `bytes`, writing only when it does not already:
/// without truncating first, so that blocks are reused rather than freed
/// and allocated again.
fn overwrite(file: &mut fs::File, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let len = file.metadata()?.len();
    if len == bytes.len() as u64 {
        let mut found = Vec::with_capacity(bytes.len());
        file.read_to_end(&mut found)?;
        if found == bytes {
            return Ok(());
        }
        file.seek(SeekFrom::Start(0))?;
    }
    file.write_all(bytes)?;
    if len > bytes.len() as u64 {
        file.set_len(bytes.len() as u64)?;
    }
    Ok(())
}

/// Fills a file beside `target` and renames it over `target`, so that a
/// reader sees the old file or the new one, never half of one.
fn replace_whole(target: &Path, fill: &dyn Fn(&Path) -> std::io::Result<()>) -> Result<(), Error> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(write_error(parent))?;
    }
    let partial = target.with_extension("partial~");
    fill(&partial).map_err(write_error(&partial))?;
    fs::rename(&partial, target).map_err(write_error(target))
}

/// A copy is current when it has the source's length and is not older.
fn same_file_content(source: &Path, copy: &Path) -> bool {
    let (Ok(a), Ok(b)) = (fs::metadata(source), fs::metadata(copy)) else {
        return false;
    };
    a.len() == b.len() && matches!((a.modified(), b.modified()), (Ok(s), Ok(c)) if c >= s)
}

fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false)
}

/// An absolute, `..`-free spelling of a path that may not exist yet.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut clean = PathBuf::new();
    for component in joined.components() {
        match component {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn refuses_to_replace_foreign_or_source_folders() -> TestResult {
        let root = tempfile::tempdir()?;
        let site = root.path();
        fs::create_dir_all(site.join("content"))?;
        assert!(Staging::create(site, site).is_err());
        assert!(Staging::create(&site.join("content/out"), site).is_err());
        let foreign = site.join("mine");
        fs::create_dir_all(&foreign)?;
        fs::write(foreign.join("notes.txt"), "keep")?;
        assert!(Staging::create(&foreign, site).is_err());
        Ok(())
    }

    #[test]
    fn swaps_in_whole_and_cleans_up_on_failure() -> TestResult {
        let root = tempfile::tempdir()?;
        let out = root.path().join("public");
        let s = Staging::create(&out, root.path())?;
        s.write(Path::new("a/index.html"), b"one")?;
        s.commit()?;
        assert_eq!(fs::read_to_string(out.join("a/index.html"))?, "one");

        let s = Staging::create(&out, root.path())?;
        s.write(Path::new("b/index.html"), b"two")?;
        drop(s);
        assert!(
            out.join("a/index.html").exists(),
            "an abandoned build must not touch the output"
        );
        assert!(
            !root.path().join(".public.building").exists(),
            "no half-built folder is left under the staging name"
        );
        Ok(())
    }

    #[test]
    fn a_recycled_folder_keeps_unchanged_files_and_loses_unwritten_ones() -> TestResult {
        let root = tempfile::tempdir()?;
        let out = root.path().join("public");
        let build = |files: &[(&str, &str)]| -> Result<(), Error> {
            let s = Staging::create(&out, root.path())?;
            s.reuse_sibling(Path::new("search/.building"));
            for (name, text) in files {
                s.write(Path::new(name), text.as_bytes())?;
            }
            s.rename(Path::new("search/.building"), Path::new("search/new"))?;
            s.commit()
        };
        build(&[
            ("a/index.html", "one"),
            ("gone/index.html", "x"),
            ("search/.building/d/0.json", "{}"),
        ])?;
        build(&[("a/index.html", "one"), ("search/.building/d/0.json", "{}")])?;
        // The third build recycles the first one's folder.
        let kept = fs::metadata(root.path().join(".public.old/a/index.html"))?.modified()?;
        build(&[
            ("a/index.html", "one"),
            ("b/index.html", "two"),
            ("search/.building/d/0.json", "{}"),
        ])?;
        assert_eq!(
            fs::metadata(out.join("a/index.html"))?.modified()?,
            kept,
            "not rewritten"
        );
        assert_eq!(fs::read_to_string(out.join("b/index.html"))?, "two");
        assert!(
            !out.join("gone").exists(),
            "a page no longer built is removed with its folder"
        );
        assert_eq!(fs::read_to_string(out.join("search/new/d/0.json"))?, "{}");
        let search: Vec<_> = fs::read_dir(out.join("search"))?.collect();
        assert_eq!(
            search.len(),
            1,
            "the earlier index folder was reused, not left beside"
        );
        assert!(out.join(MARKER).is_file());
        Ok(())
    }
}
