//! Sections larger than the lists' bounds (`lists:` in the fixture's
//! `config.yaml`: 4 a page, a window of 4, 3 notices on the home page):
//! numbered list pages with rel links, a page's window of its section,
//! the notices archive by year and the bounded home page.
//!
//! The `sections` fixture has a section `guide` of 12 pages (指南第1篇 …
//! 指南第12篇, by weight) and 10 notices, 6 of 2026 (5 of them current on
//! 2026-11-23) and 4 of 2025.

use scraper::{Html, Selector};
use tests::site::FixtureSite;

/// `(href, text)` of every element matching `css`.
fn anchors(html: &str, css: &str) -> Vec<(String, String)> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).expect("a valid selector");
    doc.select(&selector)
        .map(|e| {
            let href = e.value().attr("href").unwrap_or("").to_owned();
            (href, e.text().collect::<String>().trim().to_owned())
        })
        .collect()
}

fn texts(html: &str, css: &str) -> Vec<String> {
    anchors(html, css).into_iter().map(|(_, t)| t).collect()
}

fn guide(numbers: impl IntoIterator<Item = usize>) -> Vec<String> {
    numbers
        .into_iter()
        .map(|n| format!("指南第{n}篇"))
        .collect()
}

#[test]
fn a_long_section_list_is_split_into_numbered_pages_with_rel_links() {
    let site = FixtureSite::built("sections");
    let pages = [
        ("guide/index.html", guide(1..=4)),
        ("guide/page/2/index.html", guide(5..=8)),
        ("guide/page/3/index.html", guide(9..=12)),
    ];
    for (file, expected) in &pages {
        let html = site.output(file);
        assert_eq!(&texts(&html, "section .link-list li a"), expected, "{file}");
    }
    assert!(!site.exists("public/guide/page/1/index.html"));
    assert!(!site.exists("public/guide/page/4/index.html"));

    let first = site.output("guide/index.html");
    assert!(anchors(&first, "link[rel=prev]").is_empty());
    assert_eq!(
        anchors(&first, "link[rel=next]"),
        [("/guide/page/2/".to_owned(), String::new())]
    );
    let middle = site.output("guide/page/2/index.html");
    assert_eq!(anchors(&middle, "link[rel=prev]")[0].0, "/guide/");
    assert_eq!(anchors(&middle, "link[rel=next]")[0].0, "/guide/page/3/");
    // The visible pager: previous, every number (three pages), next; the
    // current one marked.
    let pager: Vec<String> = anchors(&middle, "nav.pagination a")
        .into_iter()
        .map(|(href, _)| href)
        .collect();
    assert_eq!(
        pager,
        [
            "/guide/",
            "/guide/",
            "/guide/page/2/",
            "/guide/page/3/",
            "/guide/page/3/"
        ]
    );
    assert_eq!(
        anchors(&middle, "nav.pagination a[aria-current=page]")[0].0,
        "/guide/page/2/"
    );
    assert!(texts(&middle, "title")[0].contains("第 2 页"));
    let last = site.output("guide/page/3/index.html");
    assert!(anchors(&last, "link[rel=next]").is_empty());
    // The introduction is on the section's own page only.
    assert!(first.contains("十二篇办事指南"));
    assert!(!middle.contains("十二篇办事指南"));

    let sitemap = site.output("sitemap.xml");
    assert!(sitemap.contains("<loc>https://example.org/guide/page/3/</loc>"));
}

#[test]
fn a_page_lists_only_a_window_of_a_long_section_with_its_first_and_last() {
    let site = FixtureSite::built("sections");
    let window = |n: usize| {
        let html = site.output(&format!("guide/g{n:02}/index.html"));
        let titles = texts(&html, "nav.siblings li a");
        let current = texts(&html, "nav.siblings a[aria-current=page]");
        let gaps = texts(&html, "nav.siblings li.gap").len();
        let all = anchors(&html, "nav.siblings p.more a");
        (titles, current, gaps, all)
    };
    let more = vec![("/guide/".to_owned(), "查看本栏目全部页面".to_owned())];

    // At the start: the first four, a gap, the last.
    let (titles, current, gaps, all) = window(1);
    assert_eq!(titles, guide([1, 2, 3, 4, 12]));
    assert_eq!((current, gaps), (guide([1]), 1));
    assert_eq!(all, more);
    // In the middle: the first, the four around it, the last.
    let (titles, current, gaps, _) = window(6);
    assert_eq!(titles, guide([1, 5, 6, 7, 8, 12]));
    assert_eq!((current, gaps), (guide([6]), 2));
    // At the end: the first, the last four.
    let (titles, current, gaps, _) = window(12);
    assert_eq!(titles, guide([1, 9, 10, 11, 12]));
    assert_eq!((current, gaps), (guide([12]), 1));

    // Previous and next are the neighbours, whatever the window shows.
    let html = site.output("guide/g06/index.html");
    assert_eq!(
        texts(&html, "nav.pager a"),
        ["上一篇 指南第5篇", "下一篇 指南第7篇"]
    );
}

#[test]
fn the_notices_archive_is_browsed_by_year() {
    let site = FixtureSite::built("sections");
    let notices = site.output("notices/index.html");
    assert_eq!(
        anchors(&notices, "nav.archive-years a"),
        [
            ("/notices/2026/".to_owned(), "2026 年".to_owned()),
            ("/notices/2025/".to_owned(), "2025 年".to_owned()),
        ]
    );
    let y2025 = site.output("notices/2025/index.html");
    assert_eq!(
        texts(&y2025, "section .link-list li a"),
        [
            "年末物业费缴纳提醒",
            "秋季消防演练",
            "二次供水清洗",
            "春季绿化修剪"
        ]
    );
    assert!(texts(&y2025, "h1")[0].starts_with("2025 年"));
    assert_eq!(
        anchors(&y2025, "nav.archive-years a[aria-current=page]")[0].0,
        "/notices/2025/"
    );
    // Six notices in 2026: two pages of four.
    let y2026 = site.output("notices/2026/index.html");
    assert_eq!(
        texts(&y2026, "section .link-list li a"),
        ["停水通知", "快递柜迁移", "电梯更换公示", "业主大会筹备"]
    );
    assert_eq!(
        anchors(&y2026, "link[rel=next]")[0].0,
        "/notices/2026/page/2/"
    );
    assert_eq!(
        texts(
            &site.output("notices/2026/page/2/index.html"),
            "section .link-list li a"
        ),
        ["冬季管道防冻提示", "地下车库排水泵检修"]
    );
    assert!(!site.exists("public/notices/2024/index.html"));

    // The link checker knows the archive's addresses: the home page's link
    // to /notices/2025/ passed; one to a year without notices does not.
    site.edit("content/_index.md", |t| t + "\n[2024 年](/notices/2024/)\n");
    let run = site.build(&[]);
    run.assert_failure();
    assert!(run.stderr.contains("/notices/2024/"), "{run}");
}

#[test]
fn the_home_page_lists_the_newest_current_notices_up_to_its_bound() {
    let site = FixtureSite::built("sections");
    let home = site.output("index.html");
    assert_eq!(
        texts(&home, "section.notices li a"),
        ["停水通知", "快递柜迁移", "电梯更换公示"]
    );
    assert_eq!(
        anchors(&home, "section.notices p.more a"),
        [("/notices/".to_owned(), "更多当前通知和往期通知".to_owned())]
    );
}

#[test]
fn a_content_file_at_an_archive_address_is_a_collision() {
    let site = FixtureSite::new("sections");
    site.write(
        "content/notices/2026/_index.md",
        "---\ntitle: 2026 年通知\n---\n",
    );
    let run = site.build(&[]);
    run.assert_failure();
    assert!(
        run.stderr
            .contains("would both be written to notices/2026/index.html"),
        "{run}"
    );
}
