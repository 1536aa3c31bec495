//! Copies OpenCC's Traditional → Simplified phrase lists out of the
//! `ferrous-opencc` package into the build, so the search folding
//! (src/search/fold.rs) applies the very phrases that crate converts with.
//! The crate embeds them compiled and does not expose them; its source
//! package carries them as text (`assets/dictionaries/*.txt`), found in
//! Cargo's registry sources or, failing that, through `cargo metadata`.

use std::path::PathBuf;
use std::process::Command;

/// The phrase lists of the `hk2s` and `tw2s` conversions, in the order
/// they are applied: regional variants first, then Traditional phrases.
const LISTS: [&str; 3] = [
    "HKVariantsRevPhrases.txt",
    "TWVariantsRevPhrases.txt",
    "TSPhrases.txt",
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dir = dictionaries().unwrap_or_else(|e| panic!("cannot find OpenCC's phrase lists: {e}"));
    for list in LISTS {
        let from = dir.join(list);
        println!("cargo:rerun-if-changed={}", from.display());
        std::fs::copy(&from, out.join(list))
            .unwrap_or_else(|e| panic!("cannot copy {}: {e}", from.display()));
    }
}

/// `assets/dictionaries` of the `ferrous-opencc` package this build uses:
/// in Cargo's registry sources, where a normal build has just unpacked it;
/// otherwise (vendored sources, a source replacement) where `cargo
/// metadata` says. Metadata alone is not enough: offline it needs every
/// package of the whole workspace for every platform, which a fresh
/// machine building only `site-gen` has not downloaded.
fn dictionaries() -> Result<PathBuf, String> {
    if let Some(dir) = in_registry() {
        return Ok(dir);
    }
    from_metadata()
}

fn in_registry() -> Option<PathBuf> {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let lock = std::fs::read_to_string(manifest_dir.parent()?.join("Cargo.lock")).ok()?;
    let mut lines = lock.lines();
    lines.find(|l| l.trim() == "name = \"ferrous-opencc\"")?;
    let version = lines
        .next()?
        .trim()
        .strip_prefix("version = \"")?
        .strip_suffix('"')?
        .to_owned();
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    std::fs::read_dir(home.join("registry").join("src"))
        .ok()?
        .filter_map(Result::ok)
        .map(|index| {
            index
                .path()
                .join(format!("ferrous-opencc-{version}"))
                .join("assets/dictionaries")
        })
        .find(|dir| dir.is_dir())
}

fn from_metadata() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(std::env::var_os("CARGO_MANIFEST_DIR").ok_or("no CARGO_MANIFEST_DIR")?)
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let manifest = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "ferrous-opencc")
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or("cargo metadata lists no ferrous-opencc package")?;
    let root = PathBuf::from(manifest);
    Ok(root
        .parent()
        .ok_or("ferrous-opencc's manifest has no folder")?
        .join("assets/dictionaries"))
}
