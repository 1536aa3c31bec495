//! Whole-behaviour tests of `site-gen build` and `site-gen check`: fixture
//! sites from `tests/fixtures/sites/` built by the real binary, and the
//! files it writes (or refuses to write) looked at as a reader would.
//!
//! Every build runs with `--today 2026-11-23` (see `tests::site::TODAY`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use scraper::{ElementRef, Html, Selector};
use tests::site::{FixtureSite, snapshot, workspace_dir};

/// The base path of the `basic` fixture (`base_url: https://example.org/handbook/`).
const BASE: &str = "/handbook";

// ---------------------------------------------------------------- helpers

fn parse(text: &str) -> Html {
    Html::parse_document(text)
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e:?}"));
    doc.select(&selector).collect()
}

fn text(el: &ElementRef) -> String {
    el.text().collect::<String>().trim().to_owned()
}

/// `attr` of every element matching `css`.
fn attrs(doc: &Html, css: &str, attr: &str) -> Vec<String> {
    select(doc, css)
        .iter()
        .filter_map(|e| e.value().attr(attr).map(str::to_owned))
        .collect()
}

/// The (href, text) of the links matching `css`.
fn links(doc: &Html, css: &str) -> Vec<(String, String)> {
    select(doc, css)
        .iter()
        .map(|e| (e.value().attr("href").unwrap_or("").to_owned(), text(e)))
        .collect()
}

fn ids(doc: &Html) -> BTreeSet<String> {
    attrs(doc, "[id]", "id").into_iter().collect()
}

/// The HTML files of an output folder, relative to it.
fn html_files(out: &Path) -> Vec<PathBuf> {
    snapshot(out)
        .into_keys()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect()
}

/// The output file an address of the site is served from, if it is one.
fn file_for(url_path: &str) -> Option<PathBuf> {
    let rest = url_path.strip_prefix(BASE)?.strip_prefix('/')?;
    let decoded = percent_decode_str(rest).decode_utf8().ok()?.into_owned();
    let mut path = PathBuf::from(decoded);
    if rest.is_empty() || rest.ends_with('/') {
        path.push("index.html");
    }
    Some(path)
}

#[track_caller]
fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected to find\n  {needle}\nin\n{haystack}"
    );
}

// ------------------------------------------------------- the good fixture

#[test]
fn every_page_lands_at_its_address_and_the_summary_is_printed() {
    let site = FixtureSite::new("basic");
    let run = site.build(&[]);
    run.assert_success();
    // 9 pages (the draft left out), home + fees + renovation + deposit + notices, 1 form.
    assert!(
        run.stdout
            .starts_with("Built 9 pages, 5 sections, 1 forms in "),
        "{run}"
    );
    assert!(
        run.stdout.trim_end().ends_with(" ms into ./public"),
        "{run}"
    );
    assert_eq!(run.stdout.lines().count(), 1, "{run}");
    assert!(run.stderr.is_empty(), "{run}");

    let files: Vec<String> = snapshot(&site.path("public"))
        .into_keys()
        .map(|p| p.to_string_lossy().into_owned())
        // The search index's folder is named by its digest (tests/tests/search.rs).
        .filter(|p| !p.starts_with("search/") || p == "search/index.html")
        .collect();
    let expected = [
        ".site-gen",
        "404.html",
        "fees/arrears/index.html",
        "fees/fee-schedule.txt",
        "fees/index.html",
        "fees/invoices/index.html",
        "fees/payment/index.html",
        "fees/缴费 说明/index.html",
        "forms/repair/index.html",
        "index.html",
        "notices/2026/index.html",
        "notices/2026-10-01-lift/index.html",
        "notices/2026-11-15-meeting/index.html",
        "notices/2026-11-20-water/index.html",
        "notices/atom.xml",
        "notices/index.html",
        "renovation/deposit/index.html",
        "renovation/deposit/refund/index.html",
        "renovation/index.html",
        "renovation/rules/index.html",
        "robots.txt",
        "search/index.html",
        "sitemap.xml",
        "static/forms.js",
        "static/search.js",
        "static/style.css",
        "updates/index.html",
    ];
    assert_eq!(files, expected);

    // Colocated assets and the theme's static files are copied byte for byte.
    assert_eq!(
        site.output("fees/fee-schedule.txt"),
        site.read("content/fees/fee-schedule.txt")
    );
    let theme_css = std::fs::read(workspace_dir().join("themes/default/static/style.css")).unwrap();
    assert_eq!(
        std::fs::read(site.path("public/static/style.css")).unwrap(),
        theme_css
    );
    let home = parse(&site.output("index.html"));
    let css = attrs(&home, "link[rel=stylesheet]", "href");
    assert_eq!(css.len(), 1);
    assert!(
        css[0].starts_with("/handbook/static/style.css?v="),
        "{css:?}"
    );
}

#[test]
fn markdown_extensions_heading_ids_and_table_of_contents() {
    let site = FixtureSite::new("basic");
    site.build(&[]).assert_success();
    let html = site.output("fees/payment/index.html");

    // GitHub-style ids: Chinese kept as it is, repeats numbered.
    for heading in [
        r#"<h2 id="什么时候缴">什么时候缴</h2>"#,
        r#"<h2 id="在哪里缴">在哪里缴</h2>"#,
        r#"<h3 id="注意事项">注意事项</h3>"#,
        r#"<h2 id="逾期缴费">逾期缴费</h2>"#,
        r#"<h3 id="注意事项-1">注意事项</h3>"#,
    ] {
        assert_contains(&html, heading);
    }
    // Tables, strikethrough, task lists and footnotes are on.
    assert_contains(
        &html,
        "<table><thead><tr><th>方式</th><th>说明</th></tr></thead>",
    );
    assert_contains(&html, "<del>旧的收费办法</del>");
    let doc = parse(&html);
    assert_eq!(
        select(&doc, "article input[type=checkbox][disabled]").len(),
        2
    );
    assert_eq!(
        select(&doc, "article input[type=checkbox][checked]").len(),
        1
    );
    let footnote_refs = attrs(&doc, "sup.footnote-reference a", "href");
    assert_eq!(footnote_refs.len(), 1);
    let target = footnote_refs[0].trim_start_matches('#');
    assert!(
        ids(&doc).contains(target),
        "footnote {target} has no target"
    );
    // Exactly one h1: the title from the front matter.
    let h1: Vec<String> = select(&doc, "h1").iter().map(text).collect();
    assert_eq!(h1, ["缴费方式"]);

    // The table of contents: h2 entries, each h3 under its h2.
    let toc = select(&doc, "nav.toc > ol > li");
    let anchor = Selector::parse("a").unwrap();
    let entries: Vec<String> = toc
        .iter()
        .map(|li| {
            let link = li
                .children()
                .filter_map(ElementRef::wrap)
                .find(|e| e.value().name() == "a")
                .unwrap();
            let children: Vec<String> = li
                .children()
                .filter_map(ElementRef::wrap)
                .filter(|e| e.value().name() == "ol")
                .flat_map(|ol| ol.select(&anchor))
                .map(|a| a.value().attr("href").unwrap().to_owned())
                .collect();
            format!("{} {:?}", link.value().attr("href").unwrap(), children)
        })
        .collect();
    assert_eq!(
        entries,
        [
            r##"#什么时候缴 []"##,
            r##"#在哪里缴 ["#注意事项"]"##,
            r##"#逾期缴费 ["#注意事项-1"]"##,
        ]
    );
    // A page with a single h2 gets no table of contents.
    let refund = parse(&site.output("renovation/deposit/refund/index.html"));
    assert_eq!(select(&refund, "nav.toc").len(), 1);
    let invoices = parse(&site.output("fees/invoices/index.html"));
    assert!(select(&invoices, "nav.toc").is_empty());
}

#[test]
fn links_are_rewritten_to_page_addresses_and_all_of_them_resolve() {
    let site = FixtureSite::new("basic");
    site.build(&[]).assert_success();
    let payment = parse(&site.output("fees/payment/index.html"));
    let content_links: BTreeMap<String, String> = links(&payment, "article .content a")
        .into_iter()
        .map(|(href, text)| (text, href))
        .collect();
    // pulldown-cmark percent-encodes non-ASCII in addresses; browsers decode
    // the fragment before looking for the id.
    let expected = [
        (
            "装修押金",
            "/handbook/renovation/rules/#%E8%A3%85%E4%BF%AE%E6%8A%BC%E9%87%91",
        ),
        (
            "押金退还",
            "/handbook/renovation/deposit/refund/#%E9%80%80%E8%BF%98%E6%B5%81%E7%A8%8B",
        ),
        ("本页上面", "#%E6%B3%A8%E6%84%8F%E4%BA%8B%E9%A1%B9"),
        ("装修栏目", "/handbook/renovation/"),
        ("收费表", "/handbook/fees/fee-schedule.txt"),
        (
            "缴费 说明",
            "/handbook/fees/%E7%BC%B4%E8%B4%B9%20%E8%AF%B4%E6%98%8E/",
        ),
        ("政府网站", "https://www.gov.cn/"),
        ("打电话", "tel:12345"),
    ];
    for (label, href) in expected {
        assert_eq!(
            content_links.get(label).map(String::as_str),
            Some(href),
            "link `{label}` in {content_links:#?}"
        );
    }
    let rules = site.output("renovation/rules/index.html");
    assert_contains(&rules, r#"<h2 id="装修押金">装修押金</h2>"#);
    // Site paths written in Markdown get the base path too.
    let home = parse(&site.output("index.html"));
    let home_links: Vec<String> = links(&home, ".content a")
        .into_iter()
        .map(|l| l.0)
        .collect();
    assert_eq!(home_links, ["/handbook/fees/", "/handbook/forms/repair/"]);

    // Every address on every page (content, menus, breadcrumbs, pagers,
    // lists, the stylesheet) is a file of the output, and every fragment
    // is an id on the page it names.
    let out = site.path("public");
    let pages = html_files(&out);
    let mut checked = 0;
    for page in &pages {
        let doc = parse(&std::fs::read_to_string(out.join(page)).unwrap());
        let mut addresses = attrs(&doc, "a[href]", "href");
        addresses.extend(attrs(&doc, "link[href]", "href"));
        addresses.extend(attrs(&doc, "script[src]", "src"));
        addresses.extend(attrs(&doc, "img[src]", "src"));
        for address in addresses {
            assert!(
                !address.contains(".md"),
                "{}: unrewritten link {address}",
                page.display()
            );
            if address.contains(':') {
                continue; // https:, tel:, mailto:
            }
            if address == "/handbook/track" {
                continue; // the desk's lookup page, which the desk serves
            }
            let (path, fragment) = match address.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (address.as_str(), None),
            };
            let path = path.split('?').next().unwrap();
            let target = if path.is_empty() {
                page.clone()
            } else {
                file_for(path).unwrap_or_else(|| {
                    panic!(
                        "{}: {address} is outside the site's base path",
                        page.display()
                    )
                })
            };
            assert!(
                out.join(&target).is_file(),
                "{}: {address} points to no file of the output",
                page.display()
            );
            if let Some(fragment) = fragment {
                let id = percent_decode_str(fragment).decode_utf8().unwrap();
                let target_doc = parse(&std::fs::read_to_string(out.join(&target)).unwrap());
                assert!(
                    ids(&target_doc).contains(id.as_ref()),
                    "{}: {address}: no id `{id}` on {}",
                    page.display(),
                    target.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} addresses checked");
}

#[test]
fn breadcrumbs_pager_menu_and_last_updated() {
    let site = FixtureSite::new("basic");
    site.build(&[]).assert_success();

    // Pages in weight order: payment (10), invoices (20), arrears (30), 缴费说明 (40).
    let invoices = parse(&site.output("fees/invoices/index.html"));
    assert_eq!(
        links(&invoices, "nav.breadcrumbs a"),
        [
            ("/handbook/".to_owned(), "业主服务手册".to_owned()),
            ("/handbook/fees/".to_owned(), "物业费".to_owned()),
        ]
    );
    assert_eq!(
        attrs(&invoices, "nav.pager a[rel=prev]", "href"),
        ["/handbook/fees/payment/"]
    );
    assert_eq!(
        attrs(&invoices, "nav.pager a[rel=next]", "href"),
        ["/handbook/fees/arrears/"]
    );
    let first = parse(&site.output("fees/payment/index.html"));
    assert!(select(&first, "nav.pager a[rel=prev]").is_empty());
    let last = parse(&site.output("fees/缴费 说明/index.html"));
    assert!(select(&last, "nav.pager a[rel=next]").is_empty());
    let siblings: Vec<String> = links(&first, "nav.siblings li a")
        .into_iter()
        .map(|l| l.1)
        .collect();
    assert_eq!(siblings, ["缴费方式", "发票", "欠费处理", "缴费说明"]);

    // The menu marks the part of the site a page is in.
    let current = |doc: &Html| links(doc, "nav.site-nav a[aria-current=page]");
    assert_eq!(
        current(&invoices),
        [("/handbook/fees/".to_owned(), "物业费".to_owned())]
    );
    assert!(current(&parse(&site.output("index.html"))).is_empty());

    // A nested section: the trail goes through both sections.
    let refund = parse(&site.output("renovation/deposit/refund/index.html"));
    let trail: Vec<String> = links(&refund, "nav.breadcrumbs a")
        .into_iter()
        .map(|l| l.0)
        .collect();
    assert_eq!(
        trail,
        [
            "/handbook/",
            "/handbook/renovation/",
            "/handbook/renovation/deposit/"
        ]
    );
    let renovation = parse(&site.output("renovation/index.html"));
    assert_eq!(
        links(&renovation, "section[aria-labelledby=subsections-title] a"),
        [(
            "/handbook/renovation/deposit/".to_owned(),
            "装修押金".to_owned()
        )]
    );

    // Last updated: `updated` wins over `date`; sections show theirs too.
    assert_contains(
        &site.output("fees/payment/index.html"),
        r#"最后更新：<time datetime="2026-11-20">2026年11月20日</time>"#,
    );
    assert_contains(
        &site.output("fees/index.html"),
        r#"最后更新：<time datetime="2026-11-01">2026年11月1日</time>"#,
    );
    assert!(
        !site.output("fees/arrears/index.html").contains("最后更新"),
        "a page without dates shows none"
    );
}

#[test]
fn notices_expire_against_the_given_day() {
    let site = FixtureSite::new("basic");
    site.build(&[]).assert_success();

    let home = parse(&site.output("index.html"));
    let current: Vec<String> = links(&home, "section.notices li a")
        .into_iter()
        .map(|l| l.1)
        .collect();
    // Newest first; the notice that expires today is still shown today.
    assert_eq!(current, ["12月16日清洗水箱停水", "业主大会今天截止报名"]);

    let archive = parse(&site.output("notices/index.html"));
    let all: Vec<(String, bool)> = select(&archive, "section[aria-labelledby=pages-title] li")
        .iter()
        .map(|li| {
            let title = text(&li.select(&Selector::parse("a").unwrap()).next().unwrap());
            let expired =
                li.value().classes().any(|c| c == "is-expired") && text(li).contains("已过期");
            (title, expired)
        })
        .collect();
    assert_eq!(
        all,
        [
            ("12月16日清洗水箱停水".to_owned(), false),
            ("业主大会今天截止报名".to_owned(), false),
            ("10月电梯年检".to_owned(), true),
        ]
    );
    let expired = site.output("notices/2026-10-01-lift/index.html");
    assert_contains(&expired, "此通知已过期");
    assert!(
        !site
            .output("notices/2026-11-20-water/index.html")
            .contains("此通知已过期")
    );

    // A month later every notice has expired: none on the home page.
    let later = site.site_gen(&["build", "--today", "2026-12-19"]);
    later.assert_success();
    let home = parse(&site.output("index.html"));
    assert!(select(&home, "section.notices").is_empty());
    assert_eq!(
        links(&home, "p.more a"),
        [("/handbook/notices/".to_owned(), "查看往期通知".to_owned())]
    );
}

#[test]
fn drafts_are_built_only_with_the_drafts_flag() {
    let site = FixtureSite::new("basic");
    site.build(&[]).assert_success();
    assert!(!site.exists("public/renovation/draft-plan"));
    assert!(!site.output("renovation/index.html").contains("尚未发布"));
    assert!(!site.output("sitemap.xml").contains("draft-plan"));

    let run = site.build(&["--drafts"]);
    run.assert_success();
    assert!(run.stdout.starts_with("Built 10 pages, "), "{run}");
    assert_contains(
        &site.output("renovation/draft-plan/index.html"),
        "<h1>尚未发布的装修计划</h1>",
    );
    let section = parse(&site.output("renovation/index.html"));
    let listed: Vec<String> = links(&section, "section[aria-labelledby=pages-title] a")
        .into_iter()
        .map(|l| l.1)
        .collect();
    assert_eq!(listed, ["尚未发布的装修计划", "装修规定"]);
}

#[test]
fn sitemap_robots_and_not_found_page() {
    let site = FixtureSite::new("basic");
    site.build(&[]).assert_success();

    let sitemap = site.output("sitemap.xml");
    assert!(sitemap.starts_with("<?xml"), "{sitemap}");
    let locs: BTreeSet<&str> = sitemap
        .split("<loc>")
        .skip(1)
        .map(|s| s.split("</loc>").next().unwrap())
        .collect();
    // Every page and section and the notices' year (no draft, no 404, no
    // form), absolute, with the base path.
    let expected: BTreeSet<&str> = [
        "",
        "fees/",
        "fees/%E7%BC%B4%E8%B4%B9%20%E8%AF%B4%E6%98%8E/",
        "fees/arrears/",
        "fees/invoices/",
        "fees/payment/",
        "notices/",
        "notices/2026-10-01-lift/",
        "notices/2026-11-15-meeting/",
        "notices/2026-11-20-water/",
        "notices/2026/",
        "renovation/",
        "renovation/deposit/",
        "renovation/deposit/refund/",
        "renovation/rules/",
    ]
    .into_iter()
    .collect();
    let relative: BTreeSet<&str> = locs
        .iter()
        .map(|l| {
            l.strip_prefix("https://example.org/handbook/")
                .unwrap_or_else(|| panic!("{l} is not under the base URL"))
        })
        .collect();
    assert_eq!(relative, expected);
    for loc in &locs {
        let file = file_for(&loc["https://example.org".len()..]).unwrap();
        assert!(
            site.path("public").join(&file).is_file(),
            "{loc}: no {}",
            file.display()
        );
    }
    assert_contains(
        &sitemap,
        "<url><loc>https://example.org/handbook/fees/payment/</loc><lastmod>2026-11-20</lastmod></url>",
    );
    assert_contains(
        &sitemap,
        "<url><loc>https://example.org/handbook/</loc><lastmod>2026-11-23</lastmod></url>",
    );

    assert_eq!(
        site.output("robots.txt"),
        "User-agent: *\nAllow: /\n\nSitemap: https://example.org/handbook/sitemap.xml\n"
    );

    // The site's templates/404.html wins over the theme's.
    let not_found = parse(&site.output("404.html"));
    assert_eq!(
        select(&not_found, "h1[data-fixture=site-override]").len(),
        1
    );
    assert!(!site.output("404.html").contains("找不到这个页面"));
    assert_eq!(attrs(&not_found, "main a", "href"), ["/handbook/"]);
    // ...while the other templates still come from the theme.
    assert_eq!(
        select(&parse(&site.output("index.html")), "header.site-header").len(),
        1
    );
}

#[test]
fn the_form_page_has_every_control_labelled() {
    let site = FixtureSite::new("basic");
    site.build(&[]).assert_success();
    let doc = parse(&site.output("forms/repair/index.html"));

    assert_eq!(text(&select(&doc, "h1")[0]), "在线报修");
    let form = select(&doc, "main form");
    assert_eq!(form.len(), 1);
    assert_eq!(form[0].value().attr("method"), Some("post"));
    assert_eq!(
        form[0].value().attr("action"),
        Some("/handbook/forms/repair")
    );

    let all_ids = ids(&doc);
    let label_for: Vec<String> = attrs(&doc, "form label[for]", "for");
    for target in &label_for {
        assert!(
            all_ids.contains(target),
            "label for `{target}` labels nothing"
        );
    }
    let controls = select(
        &doc,
        "main form input, main form select, main form textarea",
    );
    let names: BTreeSet<&str> = controls
        .iter()
        .filter_map(|c| c.value().attr("name"))
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "unit",
            "phone",
            "urgency",
            "category",
            "description",
            "consent",
            "website" // the honeypot
        ])
    );
    for control in &controls {
        let id = control
            .value()
            .attr("id")
            .unwrap_or_else(|| panic!("a control without id: {}", control.html()));
        let labels = label_for.iter().filter(|f| *f == id).count();
        assert_eq!(labels, 1, "control `{id}` has {labels} labels");
    }
    // Hints are tied to their control; required fields say so.
    for described in attrs(&doc, "[aria-describedby]", "aria-describedby") {
        for id in described.split_whitespace() {
            assert!(
                all_ids.contains(id),
                "aria-describedby names missing `{id}`"
            );
        }
    }
    assert_eq!(attrs(&doc, "#f-unit", "aria-describedby"), ["f-unit-hint"]);
    assert_eq!(select(&doc, "#f-phone[required][pattern]").len(), 1);
    assert_eq!(select(&doc, "fieldset#f-urgency > legend").len(), 1);
}

#[test]
fn check_writes_nothing() {
    let site = FixtureSite::new("basic");
    let before = snapshot(site.scratch());
    let run = site.check();
    run.assert_success();
    assert!(
        run.stdout
            .starts_with("Checked 9 pages, 5 sections, 1 forms in ")
            && run.stdout.trim_end().ends_with(": no problems"),
        "{run}"
    );
    assert_eq!(snapshot(site.scratch()), before, "check changed files");
    assert!(!site.exists("public"));
}

#[test]
fn build_out_elsewhere_and_rebuild_replaces_the_whole_folder() {
    let site = FixtureSite::new("basic");
    let out = site.scratch().join("elsewhere/site");
    let out_arg = out.to_str().unwrap();
    let run = site.build(&["--out", out_arg]);
    run.assert_success();
    assert!(
        run.stdout.trim_end().ends_with(&format!("into {out_arg}")),
        "{run}"
    );
    assert!(out.join("fees/payment/index.html").is_file());
    assert!(!site.exists("public"), "the default folder is left alone");

    // A page removed from content/ disappears from the next build, also
    // when that build recycles the folder of the build before last; beside
    // the output only that kept build is left, never a half-built folder.
    site.remove("content/fees/arrears.md");
    for _ in 0..2 {
        site.build(&["--out", out_arg]).assert_success();
        assert!(!out.join("fees/arrears").exists());
        assert!(out.join("fees/invoices/index.html").is_file());
    }
    let mut beside: Vec<String> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, [".site.old", "site"]);
}

#[test]
fn a_file_name_with_spaces_and_chinese_gets_an_encoded_address_inside_the_output() {
    let site = FixtureSite::new("basic");
    let before: BTreeSet<PathBuf> = snapshot(site.scratch()).into_keys().collect();
    site.build(&[]).assert_success();
    assert_contains(
        &site.output("fees/缴费 说明/index.html"),
        "<h1>缴费说明</h1>",
    );
    assert_contains(
        &site.output("sitemap.xml"),
        "<loc>https://example.org/handbook/fees/%E7%BC%B4%E8%B4%B9%20%E8%AF%B4%E6%98%8E/</loc>",
    );
    let fees = parse(&site.output("fees/index.html"));
    assert!(
        attrs(&fees, "a", "href")
            .contains(&"/handbook/fees/%E7%BC%B4%E8%B4%B9%20%E8%AF%B4%E6%98%8E/".to_owned())
    );
    // Everything new is inside the output folder.
    let after: BTreeSet<PathBuf> = snapshot(site.scratch()).into_keys().collect();
    for new in after.difference(&before) {
        assert!(
            new.starts_with("site/public"),
            "{} written outside",
            new.display()
        );
    }
}

#[test]
fn front_matter_text_is_escaped_not_interpreted() {
    let site = FixtureSite::new("minimal");
    site.write(
        "content/page.md",
        "---\ntitle: \"<script>alert(1)</script> {{ site.title }}\"\nsummary: \"a & b <i>\"\n---\n\n正文。\n",
    );
    site.build(&[]).assert_success();
    let html = site.output("page/index.html");
    assert!(!html.contains("<script>alert"), "{html}");
    assert_contains(
        &html,
        "&lt;script&gt;alert(1)&lt;/script&gt; {{ site.title }}",
    );
    assert_contains(&html, "a &amp; b &lt;i&gt;");
}

// ------------------------------------------------------- invalid fixtures

/// Each `tests/fixtures/sites/invalid/<case>/`, with what stderr must say:
/// the file (with its line where there is one) and the helpful words.
const INVALID: &[(&str, &[&str])] = &[
    (
        "bad_yaml",
        &["content/page.md:3: ", "mapping values are not allowed"],
    ),
    (
        "missing_title",
        &[
            "content/page.md:2: missing field `title`",
            "add a line such as `title:",
        ],
    ),
    (
        "unknown_front_matter_key",
        &[
            "content/page.md:3: unknown field `author`",
            "expected one of `title`",
            "remove this key or correct its spelling",
        ],
    ),
    (
        "template_syntax_error",
        &["templates/page.html", "5:20", "Failed to parse"],
    ),
    (
        "template_undefined_variable",
        &[
            "content/page.md: template `page.html` failed",
            "Variable `page.author_name` not found",
            "fix the template",
        ],
    ),
    (
        "missing_page",
        &[
            "content/page.md:7: the link `invoices.md` points to content/invoices.md, which does not exist",
            "check the file name",
        ],
    ),
    (
        "missing_heading",
        &[
            "content/page.md:9: the link `invoices.md#需要的材料` names the heading `#需要的材料`",
            "headings there: #开票 #所需材料",
        ],
    ),
    (
        "same_url",
        &[
            "content/a.md: this file and content/a/_index.md would both be written to a/index.html in the output",
            "rename or move one of the two files",
        ],
    ),
    (
        "missing_section_index",
        &[
            "content/fees/payment.md: the folder content/fees has no _index.md",
            "create content/fees/_index.md",
        ],
    ),
    (
        "h1_in_body",
        &[
            "content/page.md:7: the heading `# 又一个标题` is a second page title",
            "start headings in the text at `##`",
        ],
    ),
    (
        "skipped_heading_level",
        &[
            "content/page.md:7: the heading `#### 注意事项` skips a level after a level-2 heading",
            "use one more `#`",
        ],
    ),
    (
        "expires_outside_notices",
        &[
            "content/fees/payment.md:4: `expires` only applies to notices",
            "move the file under content/notices/",
        ],
    ),
    (
        "config_unknown_key",
        &[
            "config.yaml:3: unknown field `colour`",
            "expected one of `title`",
        ],
    ),
    (
        "bad_form",
        &[
            "content/forms/repair.yaml: `department: engineering` is not in departments.yaml (known: desk, manager)",
        ],
    ),
];

#[test]
fn invalid_sites_are_refused_naming_the_file_line_and_fix() {
    let listed: BTreeSet<String> = std::fs::read_dir(tests::site::fixtures_dir().join("invalid"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("many_"))
        .collect();
    let tested: BTreeSet<String> = INVALID.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(listed, tested, "every invalid fixture has a row here");

    let mut failures = Vec::new();
    for (case, expected) in INVALID {
        let site = FixtureSite::new(&format!("invalid/{case}"));
        for run in [site.build(&[]), site.check()] {
            let mut wrong = Vec::new();
            if run.code() != Some(1) {
                wrong.push("exit status is not 1".to_owned());
            }
            if !run
                .stderr
                .starts_with("error: 1 problem found; nothing was written\n  1. ")
            {
                wrong.push("stderr does not start with the one-problem list".to_owned());
            }
            if run.stderr.contains("panicked") {
                wrong.push("panicked".to_owned());
            }
            for needle in *expected {
                if !run.stderr.contains(needle) {
                    wrong.push(format!("stderr lacks {needle:?}"));
                }
            }
            if !run.stdout.is_empty() {
                wrong.push("stdout is not empty".to_owned());
            }
            if !wrong.is_empty() {
                failures.push(format!("invalid/{case}: {}\n{run}", wrong.join("; ")));
            }
        }
        assert!(!site.exists("public"), "invalid/{case} wrote public/");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn several_errors_across_files_are_all_reported_in_one_numbered_list() {
    // Problems found while reading the files…
    let site = FixtureSite::new("invalid/many_content");
    let run = site.build(&[]);
    run.assert_failure();
    let expected = [
        "  1. content/a.md:3: unknown field `author`",
        "  2. content/b.md:2: missing field `title`",
        "  3. content/c.md:3: mapping values are not allowed",
        "  4. content/fees/payment.md:3: `expires` only applies to notices",
        "  5. content/forms/repair.yaml: `department: engineering` is not in departments.yaml",
        "  6. content/orphans/page.md: the folder content/orphans has no _index.md",
    ];
    assert_problem_list(&run, &expected);

    // …and problems found while checking links, headings and addresses.
    let site = FixtureSite::new("invalid/many_links");
    let run = site.build(&[]);
    run.assert_failure();
    let expected = [
        "  1. config.yaml: the menu entry `不存在的栏目` links to /nope/",
        "  2. content/_index.md:5: the link `missing.md` points to content/missing.md",
        "  3. content/a.md: this file and content/a/_index.md would both be written to a/index.html",
        "  4. content/page.md:7: the heading `#### 跳级` skips a level",
        "  5. content/page.md:9: the heading `# 第二个标题` is a second page title",
        "  6. content/page.md:11: the link `_index.md#没有的标题` names the heading `#没有的标题`",
    ];
    assert_problem_list(&run, &expected);
}

#[track_caller]
fn assert_problem_list(run: &tests::site::Run, expected: &[&str]) {
    let mut lines = run.stderr.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "error: {} problems found; nothing was written",
                expected.len()
            )
            .as_str()
        ),
        "{run}"
    );
    let numbered: Vec<&str> = lines.filter(|l| !l.starts_with("     help: ")).collect();
    assert_eq!(numbered.len(), expected.len(), "{run}");
    for (line, start) in numbered.iter().zip(expected) {
        assert!(
            line.starts_with(start),
            "expected `{start}…`, got `{line}`\n{run}"
        );
    }
}

// ------------------------------------------------------------------ safety

#[test]
fn a_failed_build_leaves_the_previous_output_byte_for_byte() {
    let site = FixtureSite::new("basic");
    site.build(&[]).assert_success();
    let good = snapshot(&site.path("public"));
    let root_before: BTreeSet<PathBuf> = snapshot(site.root()).into_keys().collect();

    // Caught while checking, before anything is written…
    site.edit("content/fees/invoices.md", |t| {
        t.replace("payment.md#在哪里缴", "payment.md#不存在")
    });
    let run = site.build(&[]);
    run.assert_failure();
    assert_contains(&run.stderr, "content/fees/invoices.md:9: ");
    assert_eq!(snapshot(&site.path("public")), good);
    site.edit("content/fees/invoices.md", |t| {
        t.replace("payment.md#不存在", "payment.md#在哪里缴")
    });

    // …and caught while rendering, after the staging folder was started.
    site.write(
        "templates/page.html",
        "{% extends \"base.html\" %}{% block content %}{{ page.nope }}{% endblock content %}",
    );
    let run = site.build(&[]);
    run.assert_failure();
    assert_contains(&run.stderr, "Variable `page.nope` not found");
    assert_eq!(snapshot(&site.path("public")), good);
    site.remove("templates/page.html");

    // Nothing else changed: the failed build's folder is kept only as the
    // one the next build recycles, never under the staging name.
    let root_after: BTreeSet<PathBuf> = snapshot(site.root())
        .into_keys()
        .filter(|p| !p.starts_with(".public.old"))
        .collect();
    assert_eq!(root_after, root_before);
    assert!(!site.exists(".public.building"));
    site.build(&[]).assert_success();
    assert_eq!(snapshot(&site.path("public")), good);
}

#[test]
fn out_is_refused_for_the_site_itself_and_for_folders_site_gen_did_not_make() {
    let site = FixtureSite::new("basic");
    let mine = site.scratch().join("mine");
    std::fs::create_dir_all(mine.join("photos")).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    std::fs::write(mine.join("photos/a.jpg"), [0xff, 0xd8, 0xff]).unwrap();
    let mine = mine.to_str().unwrap().to_owned();
    let site_root = site.root().to_str().unwrap().to_owned();

    let cases: [(&str, &str); 5] = [
        (".", "it contains the site's own files"),
        (&site_root, "it contains the site's own files"),
        ("..", "it contains the site's own files"),
        ("content/out", "it is inside the site's content/ folder"),
        (&mine, "it is not empty and was not made by site-gen"),
    ];
    for (out, words) in cases {
        let before = snapshot(site.scratch());
        let run = site.build(&["--out", out]);
        assert_eq!(run.code(), Some(1), "--out {out}\n{run}");
        assert_contains(&run.stderr, "refusing");
        assert_contains(&run.stderr, words);
        assert_eq!(
            snapshot(site.scratch()),
            before,
            "--out {out} changed files"
        );
    }

    // An empty folder is fine, and once site-gen made it, it may replace it.
    let empty = site.scratch().join("empty");
    std::fs::create_dir(&empty).unwrap();
    site.build(&["--out", empty.to_str().unwrap()])
        .assert_success();
    site.build(&["--out", empty.to_str().unwrap()])
        .assert_success();
    assert!(empty.join("index.html").is_file());
}

/// Hostile or broken content never crashes the generator: it exits 0 or 1,
/// never panics, and writes nothing outside the site's folder.
#[test]
fn nasty_inputs_never_panic() {
    const FM: &str = "---\ntitle: T\n---\n\n";
    let with_body = |body: String| format!("{FM}{body}\n").into_bytes();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty file", Vec::new()),
        ("only ---", b"---".to_vec()),
        ("empty front matter", b"---\n---\n".to_vec()),
        ("unclosed front matter", b"---\ntitle: T\n\nbody\n".to_vec()),
        ("binary", (0..=255u8).cycle().take(4096).collect()),
        ("NUL in title", b"---\ntitle: T\0\n---\n".to_vec()),
        ("NUL in body", with_body("bo\0dy [x](a\0b.md)".into())),
        ("1 MB line", with_body("a".repeat(1 << 20))),
        (
            "1 MB title",
            format!("---\ntitle: {}\n---\n", "字".repeat(350_000)).into_bytes(),
        ),
        ("2000 nested lists", with_body("- ".repeat(2000) + "x")),
        (
            "2000 indented lists",
            with_body(
                (0..2000)
                    .map(|i| format!("{}- x\n", "  ".repeat(i)))
                    .collect(),
            ),
        ),
        ("2000 nested quotes", with_body("> ".repeat(2000) + "x")),
        ("100k brackets", with_body("[".repeat(100_000))),
        ("emphasis soup", with_body("*a _b ".repeat(50_000))),
        ("empty headings", with_body("##\n\n##\n\n###\n".into())),
        (
            "escaping link",
            with_body("[x](../../../../etc/passwd) ![y](../../../../etc/passwd)".into()),
        ),
        ("absolute path link", with_body("[x](/etc/passwd)".into())),
        (
            "bad date",
            b"---\ntitle: T\ndate: 2026-02-30\n---\n".to_vec(),
        ),
        (
            "huge weight",
            b"---\ntitle: T\nweight: 99999999999999999999999\n---\n".to_vec(),
        ),
        (
            "CRLF and BOM",
            "\u{feff}---\r\ntitle: T\r\n---\r\n\r\n## 小节\r\n"
                .as_bytes()
                .to_vec(),
        ),
    ];
    let mut bomb = String::from("---\ntitle: T\na: &a [x,x,x,x,x,x,x,x,x]\n");
    for (name, prev) in [
        ("b", "a"),
        ("c", "b"),
        ("d", "c"),
        ("e", "d"),
        ("f", "e"),
        ("g", "f"),
    ] {
        bomb += &format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 9].join(",")
        );
    }
    bomb += "---\n";
    cases.push(("YAML alias bomb", bomb.into_bytes()));

    let mut failures = Vec::new();
    for (name, bytes) in cases {
        let site = FixtureSite::new("minimal");
        site.write("content/nasty.md", &bytes);
        let outside_before = snapshot(site.scratch()).len();
        let run = site.build(&[]);
        let ok_status = matches!(run.code(), Some(0 | 1));
        if !ok_status || run.stderr.contains("panicked") || run.stderr.contains("overflow") {
            failures.push(format!("{name}:\n{run}"));
            continue;
        }
        let climbs =
            "content/nasty.md:5: the link `../../../../etc/passwd` climbs above the content folder";
        if name == "escaping link" && !run.stderr.contains(climbs) {
            failures.push(format!("{name}: not reported\n{run}"));
        }
        // Whatever happened, only the site's own public/ may have grown.
        let new_outside = snapshot(site.scratch())
            .into_keys()
            .filter(|p| !p.starts_with("site/public"))
            .count();
        if new_outside != outside_before {
            failures.push(format!("{name}: wrote outside public/\n{run}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ------------------------------------------------- known bugs in site-gen

#[test]
fn an_asset_cannot_overwrite_a_page() {
    let site = FixtureSite::new("minimal");
    site.write("content/fees/_index.md", "---\ntitle: 物业费\n---\n");
    site.write(
        "content/fees/payment.md",
        "---\ntitle: 缴费\n---\n\n真正的页面。\n",
    );
    site.write("content/fees/payment/index.html", "HIJACKED\n");
    let run = site.build(&[]);
    run.assert_failure();
    assert_contains(&run.stderr, "content/fees/payment/index.html");
    assert!(!site.exists("public"));
}

#[test]
fn out_naming_an_existing_file_is_refused_and_left_alone() {
    let site = FixtureSite::new("basic");
    let file = site.scratch().join("notes.txt");
    std::fs::write(&file, "keep me").unwrap();
    let before = snapshot(site.scratch());
    let run = site.build(&["--out", file.to_str().unwrap()]);
    run.assert_failure();
    assert_contains(&run.stderr, "refusing");
    assert_eq!(snapshot(site.scratch()), before);
}

#[test]
fn a_template_syntax_error_is_reported_against_the_template_file() {
    let site = FixtureSite::new("invalid/template_syntax_error");
    let run = site.build(&[]);
    run.assert_failure();
    assert_contains(&run.stderr, "\n  1. templates/page.html:5");
}

#[test]
fn the_form_page_marks_its_menu_entry() {
    let site = FixtureSite::new("basic");
    site.build(&[]).assert_success();
    let doc = parse(&site.output("forms/repair/index.html"));
    assert_eq!(
        links(&doc, "nav.site-nav a[aria-current=page]"),
        [("/handbook/forms/repair/".to_owned(), "在线报修".to_owned())]
    );
}
