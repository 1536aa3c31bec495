//! `serve` rebuilds in place and renders only what an edit can change. The
//! result must be exactly what a full build of the edited site writes.

use std::path::Path;

use site_gen::{BuildOptions, build, build_tracked, rebuild, rebuild_changed};
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
    rebuild(&options(site.root(), &live), &mut produced).expect("a body edit rebuilds");
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
    rebuild(&options(site.root(), &live), &mut produced).expect("a title edit rebuilds");
    assert_same_as_full_build(&site, &live);

    // A new page appears, listed by its section; removed, it is gone.
    site.write(
        "content/fees/refunds.md",
        "---\ntitle: 退费\nweight: 99\n---\n\n## 办理\n\n正文。\n",
    );
    rebuild(&options(site.root(), &live), &mut produced).expect("an added page rebuilds");
    assert!(live.join("fees/refunds/index.html").exists());
    assert_same_as_full_build(&site, &live);
    site.remove("content/fees/refunds.md");
    rebuild(&options(site.root(), &live), &mut produced).expect("a removed page rebuilds");
    assert!(!live.join("fees/refunds/index.html").exists());
    assert_same_as_full_build(&site, &live);

    // A broken edit fails and changes nothing in the live folder.
    let before = snapshot(&live);
    site.edit(page, |text| text + "\n[坏链接](missing.md)\n");
    assert!(rebuild(&options(site.root(), &live), &mut produced).is_err());
    assert!(snapshot(&live) == before, "a failed rebuild writes nothing");
}

/// Big sections (the `sections` fixture: 4 entries a list page, a window
/// of 4): an edit re-renders the pages whose window shows the page, not
/// the whole section, and list pages come and go with the notices.
#[test]
fn edits_in_a_big_section_rebuild_the_window_and_the_lists_as_a_full_build_would() {
    let site = FixtureSite::new("sections");
    let live = site.scratch().join("live");
    let (_, mut produced) = build_tracked(&options(site.root(), &live)).expect("the first build");
    let modified = |file: &str| {
        std::fs::metadata(live.join(file))
            .unwrap()
            .modified()
            .unwrap()
    };
    let far = "guide/g12/index.html";
    let near = "guide/g07/index.html";
    let (far_before, near_before) = (modified(far), modified(near));

    // A title in the middle of the guide: its neighbours' windows and its
    // list page change; g12's window (g01, g09–g12) does not show it.
    site.edit("content/guide/g06.md", |t| {
        t.replace("指南第6篇", "指南第六篇")
    });
    rebuild(&options(site.root(), &live), &mut produced).expect("a title edit");
    assert_eq!(
        modified(far),
        far_before,
        "a page whose window does not show the edit stays"
    );
    assert_ne!(
        modified(near),
        near_before,
        "a page whose window shows it is rendered again"
    );
    assert!(
        std::fs::read_to_string(live.join("guide/page/2/index.html"))
            .unwrap()
            .contains("指南第六篇")
    );
    assert_same_as_full_build(&site, &live);

    // Three new notices push the list onto a fourth page and 2026 onto a
    // third; removed, those pages are gone again.
    let added = ["2026-11-21-a", "2026-11-22-b", "2026-11-23-c"];
    for name in added {
        let date = &name[..10];
        site.write(
            &format!("content/notices/{name}.md"),
            format!("---\ntitle: 新通知 {name}\ndate: {date}\n---\n\n正文。\n"),
        );
    }
    rebuild(&options(site.root(), &live), &mut produced).expect("added notices");
    assert!(live.join("notices/page/4/index.html").exists());
    assert!(live.join("notices/2026/page/3/index.html").exists());
    assert_same_as_full_build(&site, &live);
    for name in added {
        site.remove(&format!("content/notices/{name}.md"));
    }
    rebuild(&options(site.root(), &live), &mut produced).expect("removed notices");
    assert!(!live.join("notices/page/4/index.html").exists());
    assert!(!live.join("notices/2026/page/3/index.html").exists());
    assert_same_as_full_build(&site, &live);
}

/// Sets every file under `dir` an hour back, as an edited site's untouched
/// files are: only then does a rebuild reuse what it parsed before (a file
/// changed just before it was read might change again unseen).
fn age_files(dir: &Path) {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for file in snapshot(dir).keys() {
        let file = std::fs::File::options()
            .write(true)
            .open(dir.join(file))
            .unwrap();
        file.set_modified(past).unwrap();
    }
}

/// The reusing path: untouched files come from the last build's parse, the
/// search index is updated in place (an edit) or made again (a page added
/// or removed), and after a failed rebuild the next good one still gives
/// exactly a full build's output.
#[test]
fn rebuilds_that_reuse_the_last_parse_and_index_equal_a_full_build() {
    let site = FixtureSite::new("basic");
    age_files(site.root());
    let live = site.scratch().join("live");
    let (_, mut produced) = build_tracked(&options(site.root(), &live)).expect("the first build");
    let page = "content/fees/payment.md";

    site.edit(page, |text| text + "\n新增：用翠湖通小程序缴费。\n");
    rebuild(&options(site.root(), &live), &mut produced).expect("an edit rebuilds");
    assert_same_as_full_build(&site, &live);

    // The same length again, at once: a change the file's size and time
    // may not show, so the file is read again all the same.
    site.edit(page, |text| text.replace("翠湖通", "物业通"));
    rebuild(&options(site.root(), &live), &mut produced).expect("a same-size edit rebuilds");
    assert!(
        std::fs::read_to_string(live.join("fees/payment/index.html"))
            .unwrap()
            .contains("物业通")
    );
    assert_same_as_full_build(&site, &live);

    // Edits of an untouched page's neighbour and of a section's title.
    site.edit("content/fees/_index.md", |t| {
        t.replacen("title: ", "title: 新 ", 1)
    });
    rebuild(&options(site.root(), &live), &mut produced).expect("a section edit rebuilds");
    assert_same_as_full_build(&site, &live);

    site.write(
        "content/fees/refunds.md",
        "---\ntitle: 退费\nweight: 99\n---\n\n## 办理\n\n押金退费正文。\n",
    );
    rebuild(&options(site.root(), &live), &mut produced).expect("an added page rebuilds");
    assert_same_as_full_build(&site, &live);

    let before = snapshot(&live);
    site.edit(page, |text| text + "\n[坏链接](missing.md)\n");
    assert!(rebuild(&options(site.root(), &live), &mut produced).is_err());
    assert!(snapshot(&live) == before, "a failed rebuild writes nothing");
    site.edit(page, |text| {
        text.replace("\n[坏链接](missing.md)\n", "\n修好了。\n")
    });
    rebuild(&options(site.root(), &live), &mut produced).expect("the fixed edit rebuilds");
    assert_same_as_full_build(&site, &live);

    site.remove("content/fees/refunds.md");
    rebuild(&options(site.root(), &live), &mut produced).expect("a removed page rebuilds");
    assert_same_as_full_build(&site, &live);
}

/// `serve`'s path: the rebuild is told which paths changed (as the file
/// watcher reports them) and looks at nothing else of the content folder.
/// The page at `url` (under the output folder `live`) has `text` in it.
fn shows(live: &Path, url: &str, text: &str) -> bool {
    std::fs::read_to_string(live.join(url).join("index.html")).is_ok_and(|html| html.contains(text))
}

/// Edits, new, renamed and removed pages, a new folder, a renamed folder
/// and an editor's backup file each give exactly a full build's output;
/// a heading renamed under another page's link is still reported there.
#[test]
fn rebuilds_told_the_changed_paths_equal_a_full_build() {
    let site = FixtureSite::new("basic");
    let live = site.scratch().join("live");
    let opts = options(site.root(), &live);
    let (_, mut produced) = build_tracked(&opts).expect("the first build");
    let mut told = |paths: &[&str]| {
        let paths: Vec<_> = paths.iter().map(|p| site.path(p)).collect();
        rebuild_changed(&opts, &mut produced, paths.iter().map(|p| p.as_path()))
    };

    site.edit("content/fees/payment.md", |t| t + "\n新增的一段说明。\n");
    told(&["content/fees/payment.md"]).expect("an edit");
    assert!(shows(&live, "fees/payment", "新增的一段说明"));
    assert_same_as_full_build(&site, &live);

    // A template changed: content-only rebuilds keep the theme, this one
    // must not, nor may the content edit after it bring the old one back.
    site.edit("themes/default/templates/base.html", |t| {
        t.replace(
            "<footer class=\"site-footer\">",
            "<footer class=\"site-footer\" data-edited>",
        )
    });
    told(&["themes/default/templates/base.html"]).expect("a template edit");
    site.edit("content/fees/payment.md", |t| t + "\n再补充一段。\n");
    told(&["content/fees/payment.md"]).expect("an edit after the template's");
    assert!(shows(&live, "fees/payment", "data-edited"));
    assert_same_as_full_build(&site, &live);

    let refunds = "---\ntitle: 退费\nweight: 99\n---\n\n## 办理\n\n押金退费正文。\n";
    site.write("content/fees/refunds.md", refunds);
    told(&["content/fees/refunds.md"]).expect("an added page");
    assert!(live.join("fees/refunds/index.html").exists());
    assert_same_as_full_build(&site, &live);

    site.write("content/fees/refund.md", refunds);
    site.remove("content/fees/refunds.md");
    told(&["content/fees/refunds.md", "content/fees/refund.md"]).expect("a renamed page");
    assert!(!live.join("fees/refunds/index.html").exists());
    assert!(live.join("fees/refund/index.html").exists());
    assert_same_as_full_build(&site, &live);

    site.remove("content/fees/refund.md");
    told(&["content/fees/refund.md"]).expect("a removed page");
    assert_same_as_full_build(&site, &live);

    // A folder appears at once (moved in): only the folder is reported.
    site.write(
        "content/fees/papers/_index.md",
        "---\ntitle: 表格\n---\n\n缴费用的表格。\n",
    );
    site.write("content/fees/papers/form.txt", "表格");
    site.write(
        "content/fees/papers/guide.md",
        "---\ntitle: 表格说明\n---\n\n见[表格](form.txt)。\n",
    );
    told(&["content/fees/papers"]).expect("a new folder");
    assert!(live.join("fees/papers/guide/index.html").exists());
    assert_same_as_full_build(&site, &live);

    std::fs::rename(
        site.path("content/fees/papers"),
        site.path("content/fees/forms2"),
    )
    .unwrap();
    told(&["content/fees/papers", "content/fees/forms2"]).expect("a renamed folder");
    assert!(!live.join("fees/papers").exists());
    assert!(live.join("fees/forms2/guide/index.html").exists());
    assert_same_as_full_build(&site, &live);

    // A backup file wakes no rebuild in `serve`, but is told with the
    // next change: a full build would copy it too.
    site.write("content/fees/payment.md~", "旧稿");
    site.edit("content/fees/invoices.md", |t| t + "\n补充。\n");
    told(&["content/fees/payment.md~", "content/fees/invoices.md"]).expect("a backup file");
    assert_same_as_full_build(&site, &live);

    // invoices.md links to payment.md#在哪里缴: renaming that heading
    // breaks a link in a page that did not change.
    let before = snapshot(&live);
    site.edit("content/fees/payment.md", |t| {
        t.replace("## 在哪里缴", "## 在何处缴")
    });
    let err = told(&["content/fees/payment.md"]).expect_err("a broken anchor elsewhere");
    assert!(
        err.to_string().contains("invoices.md"),
        "reported where the link is: {err}"
    );
    assert!(snapshot(&live) == before, "a failed rebuild writes nothing");
    site.edit("content/fees/payment.md", |t| {
        t.replace("## 在何处缴", "## 在哪里缴")
    });
    told(&["content/fees/payment.md"]).expect("the heading back");
    assert_same_as_full_build(&site, &live);

    // A change to what a link points at, in the file linked from: a page
    // removed while another links to it.
    site.remove("content/fees/invoices.md");
    let err = told(&["content/fees/invoices.md"]).expect_err("a link to a removed page");
    assert!(err.to_string().contains("invoices.md"), "{err}");
}
