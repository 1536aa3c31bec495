//! Fixture sites run through the real `site-gen` binary, in the manner of
//! mdBook's testsuite.
//!
//! [`FixtureSite::new`] copies `tests/fixtures/sites/<name>/` into a fresh
//! temporary folder (with the repository's `themes/default` when the fixture
//! has no `themes/`), and [`FixtureSite::site_gen`] runs the binary there, so
//! messages name files as an author sees them (`content/fees/payment.md:7`).

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::OnceLock;

/// The day every build of the tests runs as (`--today`), so which notices
/// are current never depends on the calendar.
pub const TODAY: &str = "2026-11-23";

/// The repository (workspace) root.
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package is inside the workspace")
        .to_owned()
}

/// `tests/fixtures/sites`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sites")
}

/// The `site-gen` binary, built (once per test process) by the same Cargo,
/// into the same target folder and profile as the running test.
pub fn site_gen_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // The test runs as <target>/<profile>/deps/<name>-<hash>, so this
        // honours CARGO_TARGET_DIR and --release without guessing.
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test binary is in <target>/<profile>/deps")
            .to_owned();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        // The same selection `cargo test --workspace` compiles (all targets,
        // so dev-dependency features unify the same way): after the test
        // build this is a no-op, where `-p site-gen` alone would resolve
        // features differently and rebuild half the dependency tree.
        build
            .args(["build", "--quiet", "--workspace", "--all-targets"])
            .current_dir(workspace_dir());
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                build.arg("--release");
            }
            Some(other) => {
                build.args(["--profile", other]);
            }
        }
        if std::env::var_os("CARGO_TARGET_DIR").is_none()
            && let Some(target) = profile_dir.parent()
        {
            build.env("CARGO_TARGET_DIR", target);
        }
        let out = build.output().expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo build -p site-gen failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = profile_dir.join(format!("site-gen{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "no site-gen binary at {}", bin.display());
        bin
    })
}

/// What one run of `site-gen` did.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Run {
        assert!(self.status.success(), "site-gen failed:\n{self}");
        self
    }

    /// Exit status 1: the site has problems (not a crash, not a usage error).
    #[track_caller]
    pub fn assert_failure(&self) -> &Run {
        assert_eq!(self.code(), Some(1), "site-gen should have failed:\n{self}");
        self
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "status: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// A copy of a fixture site in a temporary folder of its own: the site is
/// `<tmp>/site`, and `<tmp>` is free for folders beside it.
pub struct FixtureSite {
    tmp: tempfile::TempDir,
    root: PathBuf,
}

impl FixtureSite {
    /// The fixture `name` copied and built without options; the build must
    /// succeed.
    pub fn built(name: &str) -> FixtureSite {
        let site = FixtureSite::new(name);
        site.build(&[]).assert_success();
        site
    }

    /// Copies `tests/fixtures/sites/<name>` (e.g. `basic`, `invalid/bad_yaml`).
    pub fn new(name: &str) -> FixtureSite {
        let source = fixtures_dir().join(name);
        assert!(source.is_dir(), "no fixture site {}", source.display());
        let tmp = tempfile::Builder::new()
            .prefix("site-gen-test-")
            .tempdir()
            .expect("a temporary folder");
        let root = tmp.path().join("site");
        copy_dir(&source, &root);
        if !root.join("themes").exists() {
            copy_dir(
                &workspace_dir().join("themes/default"),
                &root.join("themes/default"),
            );
        }
        FixtureSite { tmp, root }
    }

    /// The site's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The temporary folder the site is in, for folders beside it.
    pub fn scratch(&self) -> &Path {
        self.tmp.path()
    }

    /// A path inside the site.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Runs `site-gen ARGS` in the site's folder.
    pub fn site_gen(&self, args: &[&str]) -> Run {
        let out = Command::new(site_gen_bin())
            .args(args)
            .current_dir(&self.root)
            .env("NO_COLOR", "1")
            .output()
            .expect("site-gen runs");
        Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `site-gen build --today 2026-11-23 EXTRA...`
    pub fn build(&self, extra: &[&str]) -> Run {
        let mut args = vec!["build", "--today", TODAY];
        args.extend_from_slice(extra);
        self.site_gen(&args)
    }

    /// `site-gen check --today 2026-11-23`
    pub fn check(&self) -> Run {
        self.site_gen(&["check", "--today", TODAY])
    }

    pub fn exists(&self, relative: &str) -> bool {
        self.path(relative).exists()
    }

    /// A file of the site as text, e.g. `public/fees/index.html`.
    #[track_caller]
    pub fn read(&self, relative: &str) -> String {
        let path = self.path(relative);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// A file of the default output folder, e.g. `fees/index.html`.
    #[track_caller]
    pub fn output(&self, relative: &str) -> String {
        self.read(&format!("public/{relative}"))
    }

    /// Writes (or replaces) a file of the site, making its folders.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
    }

    /// Rewrites a text file of the site.
    #[track_caller]
    pub fn edit(&self, relative: &str, change: impl FnOnce(String) -> String) {
        let text = self.read(relative);
        self.write(relative, change(text));
    }

    pub fn remove(&self, relative: &str) {
        fs::remove_file(self.path(relative)).unwrap();
    }
}

/// Every file under `dir` (relative path → bytes); empty when it is missing.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, files);
            } else {
                let bytes = fs::read(&path).unwrap();
                files.insert(path.strip_prefix(base).unwrap().to_owned(), bytes);
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}
