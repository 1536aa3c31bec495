//! Files: built into a staging folder beside the output, then swapped in
//! whole, so a failed build leaves the previous site exactly as it was.

use std::fs;
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
    committed: bool,
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
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|source| Error::Write {
                path: dir.clone(),
                source,
            })?;
        }
        fs::create_dir_all(&dir).map_err(|source| Error::Write {
            path: dir.clone(),
            source,
        })?;
        fs::write(
            dir.join(MARKER),
            "made by site-gen; the whole folder is replaced on every build\n",
        )
        .map_err(|source| Error::Write {
            path: dir.join(MARKER),
            source,
        })?;
        Ok(Staging {
            target,
            dir,
            committed: false,
        })
    }

    /// Swaps the finished folder in for the old one.
    pub fn commit(mut self) -> Result<(), Error> {
        let write_error = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Write { path, source }
        };
        let old = self.dir.with_extension("old");
        if old.exists() {
            fs::remove_dir_all(&old).map_err(write_error(&old))?;
        }
        if self.target.exists() {
            fs::rename(&self.target, &old).map_err(write_error(&self.target))?;
        }
        fs::rename(&self.dir, &self.target).map_err(write_error(&self.target))?;
        self.committed = true;
        if old.exists() {
            fs::remove_dir_all(&old).map_err(write_error(&old))?;
        }
        Ok(())
    }

    fn path_for(&self, relative: &Path) -> Result<PathBuf, Error> {
        let path = self.dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        Ok(path)
    }
}

impl Sink for Staging {
    fn write(&self, relative: &Path, bytes: &[u8]) -> Result<(), Error> {
        let path = self.path_for(relative)?;
        fs::write(&path, bytes).map_err(|source| Error::Write { path, source })
    }

    fn copy(&self, relative: &Path, from: &Path) -> Result<(), Error> {
        let path = self.path_for(relative)?;
        fs::copy(from, &path)
            .map(|_| ())
            .map_err(|source| Error::Read {
                path: from.to_owned(),
                source,
            })
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<(), Error> {
        move_folder(&self.dir.join(from), &self.path_for(to)?)
    }
}

/// Renames `from` to `to`, replacing whatever `to` was.
fn move_folder(from: &Path, to: &Path) -> Result<(), Error> {
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Write { path, source }
    };
    if to.exists() {
        fs::remove_dir_all(to).map_err(write_error(to))?;
    }
    fs::rename(from, to).map_err(write_error(to))
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
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
    /// Writes everything held into `dir` (each file replaced whole, so a
    /// reader never sees half of one) and removes `stale` files and
    /// folders.
    pub fn apply(self, dir: &Path, stale: impl Iterator<Item = PathBuf>) -> Result<(), Error> {
        let write_error = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Write { path, source }
        };
        let place =
            |relative: &Path, fill: &dyn Fn(&Path) -> std::io::Result<()>| -> Result<(), Error> {
                let target = dir.join(relative);
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(write_error(parent))?;
                }
                let partial = target.with_extension("partial~");
                fill(&partial).map_err(write_error(&partial))?;
                fs::rename(&partial, &target).map_err(write_error(&target))
            };
        for step in self.steps.into_inner().unwrap_or_default() {
            match step {
                Step::Write(relative, bytes) => place(&relative, &|path| fs::write(path, &bytes))?,
                Step::Copy(relative, from) => {
                    if !same_file_content(&from, &dir.join(&relative)) {
                        place(&relative, &|path| fs::copy(&from, path).map(|_| ()))?;
                    }
                }
                Step::Rename(from, to) => move_folder(&dir.join(from), &dir.join(to))?,
            }
        }
        for relative in stale {
            let path = dir.join(relative);
            let _ = match path.is_dir() {
                true => fs::remove_dir_all(path),
                false => fs::remove_file(path),
            };
        }
        Ok(())
    }
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
fn absolute(path: &Path) -> PathBuf {
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
        assert_eq!(
            fs::read_dir(root.path())?.count(),
            1,
            "staging folder removed"
        );
        Ok(())
    }
}
