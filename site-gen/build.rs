//! Copies OpenCC's Traditional → Simplified phrase lists out of the
//! `ferrous-opencc` package into the build, so the search folding
//! (src/search/fold.rs) applies the very phrases that crate converts with.
//! The crate embeds them compiled and does not expose them; its source
//! package carries them as text (`assets/dictionaries/*.txt`), and
//! `cargo metadata` says where that package is, registry or vendored.

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

/// `assets/dictionaries` of the `ferrous-opencc` package this build uses.
fn dictionaries() -> Result<PathBuf, String> {
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
