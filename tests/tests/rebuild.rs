//! `serve` rebuilds in place and renders only what an edit can change. The
//! result must be exactly what a full build of the edited site writes.

use std::path::Path;

use site_gen::{BuildOptions, build, build_tracked, rebuild};
use tests::site::{FixtureSite, TODAY, snapshot};

fn options(root: &Path, out: &Path) -> BuildOptions {
    let mut options = BuildOptions::new(root);
    options.out = Some(out.to_owned());
    options.today = Some(TODAY.parse().unwrap());
    options
}

/// The incremental output equals a full build's, file for file.
fn assert_same_as_full_build(site: &FixtureSite, live: &Path) {
    let fresh = site.scratch().join("fresh");
    build(&options(site.root(), &fresh)).expect("the full build succeeds");
    let (mut a, mut b) = (snapshot(live), snapshot(&fresh));
    a.retain(|p, _| !p.starts_with(".site-gen"));
    b.retain(|p, _| !p.starts_with(".site-gen"));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (path, bytes) in &a {
        assert!(
            bytes == &b[path],
            "{} differs from a full build",
            path.display()
        );
    }
}

#[test]
fn edits_rebuild_in_place_exactly_as_a_full_build_would() {
    let site = FixtureSite::new("basic");
    let live = site.scratch().join("live");
    let (_, mut produced) = build_tracked(&options(site.root(), &live)).expect("the first build");
    let page = "content/fees/payment.md";
    let untouched = live.join("renovation/rules/index.html");
    let untouched_before = std::fs::metadata(&untouched).unwrap().modified().unwrap();

    // A body edit: only that page changes.
    site.edit(page, |text| text + "\n新增的一段说明。\n");
    (_, produced) = rebuild(&options(site.root(), &live), &produced).expect("a body edit rebuilds");
    assert!(
        std::fs::read_to_string(live.join("fees/payment/index.html"))
            .unwrap()
            .contains("新增的一段说明")
    );
    assert_eq!(
        std::fs::metadata(&untouched).unwrap().modified().unwrap(),
        untouched_before,
        "other pages are not rewritten"
    );
    assert_same_as_full_build(&site, &live);

    // A title edit: every page listing it changes too.
    site.edit(page, |text| text.replacen("title: ", "title: 新标题 ", 1));
    (_, produced) =
        rebuild(&options(site.root(), &live), &produced).expect("a title edit rebuilds");
    assert_same_as_full_build(&site, &live);

    // A new page appears, listed by its section; removed, it is gone.
    site.write(
        "content/fees/refunds.md",
        "---\ntitle: 退费\nweight: 99\n---\n\n## 办理\n\n正文。\n",
    );
    (_, produced) =
        rebuild(&options(site.root(), &live), &produced).expect("an added page rebuilds");
    assert!(live.join("fees/refunds/index.html").exists());
    assert_same_as_full_build(&site, &live);
    site.remove("content/fees/refunds.md");
    (_, produced) =
        rebuild(&options(site.root(), &live), &produced).expect("a removed page rebuilds");
    assert!(!live.join("fees/refunds/index.html").exists());
    assert_same_as_full_build(&site, &live);

    // A broken edit fails and changes nothing in the live folder.
    let before = snapshot(&live);
    site.edit(page, |text| text + "\n[坏链接](missing.md)\n");
    assert!(rebuild(&options(site.root(), &live), &produced).is_err());
    assert!(snapshot(&live) == before, "a failed rebuild writes nothing");
}
