//! The search index of a whole fixture site: every page is in it, every page
//! that contains a word is found by the word's terms, the search page lists
//! every page for owners without script, and a rebuild replaces the index.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use site_gen::search::index::{read_shard, shard_hash};
use site_gen::search::{FoldTable, tokens};
use site_gen::{BuildOptions, build, build_tracked, rebuild};
use tests::site::{FixtureSite, TODAY, snapshot};

fn options(root: &Path, out: &Path) -> BuildOptions {
    let mut options = BuildOptions::new(root);
    options.out = Some(out.to_owned());
    options.today = Some(TODAY.parse().unwrap());
    options
}

/// The one `search/<id>/` folder of a built site.
fn index_dir(out: &Path) -> std::path::PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(out.join("search"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("meta.json").is_file())
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "one index: {dirs:?}");
    dirs[0].clone()
}

struct Index {
    meta: serde_json::Value,
    docs: Vec<serde_json::Value>,
    terms: BTreeMap<String, Vec<(u32, u8, u8)>>,
}

fn read_index(out: &Path) -> Index {
    let dir = index_dir(out);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    let n = meta["docs"].as_u64().unwrap();
    let docs = (0..n)
        .map(|i| {
            serde_json::from_slice(&std::fs::read(dir.join(format!("d/{i}.json"))).unwrap())
                .unwrap()
        })
        .collect();
    let mut terms = BTreeMap::new();
    for kind in ["t", "u"] {
        for entry in std::fs::read_dir(dir.join(kind)).unwrap().flatten() {
            let shard = read_shard(&std::fs::read(entry.path()).unwrap()).unwrap();
            let count = meta[if kind == "t" {
                "shards"
            } else {
                "unigram_shards"
            }]
            .as_u64()
            .unwrap() as u32;
            for term in shard.keys() {
                let name = format!("{}.bin", shard_hash(term) % count);
                assert_eq!(entry.file_name().to_str(), Some(name.as_str()), "{term}");
            }
            terms.extend(shard);
        }
    }
    Index { meta, docs, terms }
}

/// All the text of a page file of the index, folded.
fn doc_text(fold: &FoldTable, doc: &serde_json::Value) -> String {
    let mut text = doc["title"].as_str().unwrap().to_owned();
    for block in doc["blocks"].as_array().unwrap() {
        text.push(' ');
        text.push_str(block[1].as_str().unwrap());
        text.push(' ');
        text.push_str(block[2].as_str().unwrap());
    }
    tokens::compact(&fold.fold(&text))
}

#[test]
fn every_page_is_indexed_and_every_page_with_a_word_is_found() {
    let site = FixtureSite::new("basic");
    // A Simplified word that a Traditional query finds only as a phrase.
    site.edit("content/fees/payment.md", |text| {
        text + "\n缴费计划见通知。\n"
    });
    let out = site.scratch().join("out");
    let summary = build(&options(site.root(), &out)).expect("the site builds");
    let index = read_index(&out);
    assert_eq!(index.docs.len(), summary.pages + summary.sections);

    let urls: BTreeSet<&str> = index
        .docs
        .iter()
        .map(|d| d["url"].as_str().unwrap())
        .collect();
    assert!(urls.contains("/handbook/fees/payment/"), "{urls:?}");
    for url in &urls {
        let path = percent_encoding::percent_decode_str(url)
            .decode_utf8()
            .unwrap();
        let file = out
            .join(path.trim_start_matches("/handbook/"))
            .join("index.html");
        assert!(file.is_file(), "{url} is a page of the site");
    }

    // Recall: for each word, every page whose text has it is in the
    // postings of every one of its terms.
    let fold = FoldTable::opencc().unwrap();
    // 計畫 finds 计划 only as a phrase: 畫 alone folds to 画.
    let phrase_only = "計畫";
    assert_ne!(
        fold.fold("計") + &fold.fold("畫"),
        fold.fold(phrase_only),
        "計畫 is folded as a phrase"
    );
    let mut checked = 0;
    for word in [
        "押金",
        "物业费",
        "电梯",
        "停水",
        "缴费",
        "装修押金",
        phrase_only,
    ] {
        let folded = fold.fold(word);
        let having: BTreeSet<u32> = (0..index.docs.len() as u32)
            .filter(|&i| doc_text(fold, &index.docs[i as usize]).contains(&folded))
            .collect();
        let mut found: Option<BTreeSet<u32>> = None;
        tokens::tokens(&folded, |t| {
            if matches!(t, tokens::Token::Bigram(..)) {
                let list: BTreeSet<u32> = index
                    .terms
                    .get(&t.text())
                    .into_iter()
                    .flatten()
                    .map(|p| p.0)
                    .collect();
                found = Some(match found.take() {
                    Some(f) => f.intersection(&list).copied().collect(),
                    None => list,
                });
            }
        });
        let found = found.unwrap_or_default();
        assert!(
            word != phrase_only || !having.is_empty(),
            "计划 is in the fixture"
        );
        assert!(
            having.is_subset(&found),
            "{word}: {having:?} not all in {found:?}"
        );
        checked += having.len();
    }
    assert!(
        checked >= 5,
        "the words occur in the fixture ({checked} pages)"
    );

    // The browser's table and the synonyms are in the metadata, folded.
    assert!(
        index.meta["fold"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            .is_multiple_of(2)
    );
    assert!(index.meta["synonyms"].is_array());
}

#[test]
fn the_search_page_is_a_site_map_and_every_page_has_the_box() {
    let site = FixtureSite::new("basic");
    let out = site.scratch().join("out");
    build(&options(site.root(), &out)).expect("the site builds");
    let search = std::fs::read_to_string(out.join("search/index.html")).unwrap();
    let index = read_index(&out);
    for doc in &index.docs {
        let url = doc["url"].as_str().unwrap();
        if url != "/handbook/" {
            assert!(
                search.contains(&format!("href=\"{url}\"")),
                "{url} in the site map"
            );
        }
    }
    assert!(search.contains("id=\"search-results\""));
    assert!(search.contains(&format!(
        "data-index=\"/handbook/search/{}/\"",
        index_dir(&out).file_name().unwrap().to_str().unwrap()
    )));
    assert!(search.contains("/handbook/static/search.js?v="));
    let page = std::fs::read_to_string(out.join("fees/payment/index.html")).unwrap();
    assert!(
        page.contains(r#"action="/handbook/search/" method="get""#),
        "the header's box"
    );
    assert!(
        !page.contains("search.js"),
        "the script is on the search page only"
    );
}

#[test]
fn a_rebuild_replaces_the_index_and_leaves_no_old_files() {
    let site = FixtureSite::new("basic");
    let live = site.scratch().join("live");
    let (_, mut produced) = build_tracked(&options(site.root(), &live)).unwrap();
    let before = index_dir(&live);
    site.edit("content/fees/payment.md", |text| {
        text + "\n用翠湖通小程序缴费。\n"
    });
    rebuild(&options(site.root(), &live), &mut produced).unwrap();
    let after = index_dir(&live);
    assert_ne!(before, after);
    let files = snapshot(&live);
    assert!(
        !files
            .keys()
            .any(|p| p.starts_with(before.strip_prefix(&live).unwrap()))
    );
    let index = read_index(&live);
    assert!(index.terms.contains_key("翠湖"));
}
